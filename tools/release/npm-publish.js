#!/usr/bin/env node
/**
 * The workspace packages' nx-release-publish: `npm publish <projectRoot>`, with what
 * `nx release publish` passes on: `--registry=…`, `--tag=…` (npm's dist-tag), `--otp=…`,
 * and a dry run (`--dryRun`, or NX_DRY_RUN=true, which nx release sets for every task).
 *
 *   node tools/release/npm-publish.js packages/core [--registry=http://127.0.0.1:4873/] [--dryRun]
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

/** npm's arguments for a project root and what nx release passed; undefined without a root. */
function publishArgs(argv, env) {
  const [projectRoot, ...rest] = argv;
  if (!projectRoot) return undefined;
  // A bare "packages/x" reads to npm as a GitHub shorthand: give it a path.
  const args = ['publish', path.resolve(projectRoot)];
  let dryRun = env.NX_DRY_RUN === 'true';
  for (const arg of rest) {
    const [name, value] = arg.replace(/^--/, '').split(/=(.*)/s);
    if (name === 'dryRun' || name === 'dry-run') dryRun = value === undefined || value === 'true';
    else if (['registry', 'tag', 'otp', 'access'].includes(name) && value) args.push(`--${name}=${value}`);
  }
  if (dryRun) args.push('--dry-run');
  return args;
}

function main(argv, env) {
  const args = publishArgs(argv, env);
  if (!args) {
    console.error('usage: node tools/release/npm-publish.js <projectRoot> [--registry=URL] [--tag=T] [--dryRun]');
    return 2;
  }
  const result = spawnSync('npm', args, { stdio: 'inherit' });
  return result.status ?? 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), process.env);
module.exports = { main, publishArgs };
