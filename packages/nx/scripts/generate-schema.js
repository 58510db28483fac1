#!/usr/bin/env node
/**
 * Writes src/executors/push/schema.json from core's zod model (`pushArgsShape`), so the
 * executor's options are the model's, never hand-edited. Run after `npm run build`:
 *
 *   node packages/nx/scripts/generate-schema.js          # rewrite schema.json
 *   node packages/nx/scripts/generate-schema.js --check  # exit 1 when it is stale
 *
 * schema.spec.ts runs the same check in the unit tests.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const schemaFile = path.join(__dirname, '..', 'src', 'executors', 'push', 'schema.json');

/** Where Nx users need more than the model says: tokens and the Nx defaults. */
const nxNotes = {
  repo: 'Accepts {projectName}, {projectRoot} and {workspaceRoot}.',
  source: 'Accepts {projectName}, {projectRoot} and {workspaceRoot}.',
  tags: "Each tag accepts {projectName}. Alias: tag (as in the CLI's --tag).",
  dryRun: 'NX_DRY_RUN=true does the same. Prints the plan and writes no file.',
  outputFile:
    'Default: {workspaceRoot}/dist/docker-push/{projectName}.json; list it in the target\'s outputs (["{options.outputFile}"]) so later tasks can read image.uri.latest.',
};

/** The executor's schema.json text, as it should be committed. */
function renderExecutorSchema() {
  const core = require('@dockpush/core');
  // The zod that built the model: toJSONSchema reads its internals.
  const coreDir = path.dirname(require.resolve('@dockpush/core/package.json'));
  const { z } = require(require.resolve('zod', { paths: [coreDir] }));
  const { $schema, ...model } = z.toJSONSchema(core.pushArgsShape, { io: 'input', target: 'draft-07' });
  // The CLI spells it --tag; under Nx both --tag and --tags work.
  model.properties.tags.aliases = ['tag'];
  for (const [name, note] of Object.entries(nxNotes)) {
    const property = model.properties[name];
    if (!property) throw new Error(`generate-schema: the model has no option "${name}"`);
    property.description = property.description ? `${property.description} ${note}` : note;
  }
  const schema = {
    $schema,
    version: 2,
    title: 'dockpush push executor',
    description:
      'Push a local Docker image to any registry or AWS ECR. Give exactly one of repo, image or ecrRepo. Generated from the @dockpush/core model by packages/nx/scripts/generate-schema.js: do not edit.',
    ...model,
    examples: [
      { repo: 'localhost:5000/{projectName}', source: '{projectName}:latest', tags: ['latest', '1.0.0'] },
      { ecrRepo: { repoName: 'team/app', awsRegion: 'us-east-1' }, source: 'app:latest' },
    ],
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function main(argv) {
  const expected = renderExecutorSchema();
  const relativeFile = path.relative(process.cwd(), schemaFile);
  if (argv.includes('--check')) {
    const actual = readFileSync(schemaFile, 'utf8');
    if (actual !== expected) {
      console.error(`${relativeFile} is stale: run node packages/nx/scripts/generate-schema.js`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(schemaFile, expected);
  console.log(`wrote ${relativeFile}`);
}

module.exports = { renderExecutorSchema, schemaFile };

if (require.main === module) main(process.argv.slice(2));
