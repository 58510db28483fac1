import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sharedScratchProject } from './packages';

/**
 * One scratch project with every adapter installed from its tarball, as a user
 * installs them, plus the real nx, gulp and grunt binaries. Each host reads the
 * push arguments from the `DOCKPUSH_ARGS` environment variable (JSON), so one
 * project serves a whole table of cases.
 */
export const ALL_ADAPTERS = ['cli', 'api', 'nx', 'gulp', 'grunt'] as const;
export type Adapter = (typeof ALL_ADAPTERS)[number];

const files: Record<string, string> = {
  'gulpfile.js': `const { dockerPush } = require('@dockpush/gulp');
exports.push = dockerPush(() => JSON.parse(process.env.DOCKPUSH_ARGS));
`,
  'Gruntfile.js': `module.exports = function (grunt) {
  grunt.initConfig({ dockerPush: { app: { options: JSON.parse(process.env.DOCKPUSH_ARGS || '{}') } } });
  grunt.loadNpmTasks('@dockpush/grunt');
};
`,
  'api.js': `const { pushImage } = require('dockpush');
pushImage(JSON.parse(process.env.DOCKPUSH_ARGS)).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    // With DEBUG, the whole error object: its stack, own fields and causes.
    console.error(process.env.DEBUG ? require('node:util').inspect(error, { depth: 8 }) : error.name + ': ' + error.message);
    process.exitCode = 1;
  },
);
`,
  'nx.json': JSON.stringify({ neverConnectToCloud: true, analytics: false }, null, 2),
  // Each run writes its own options here (runAdapter).
  'apps/app/project.json': JSON.stringify(
    { name: 'app', targets: { 'docker-push': { executor: '@dockpush/nx:push', cache: false, options: {} } } },
    null,
    2,
  ),
};

let project: string | undefined;

export function allAdaptersProject(): string {
  project ??= sharedScratchProject('all-adapters', {
    packages: ['dockpush', '@dockpush/nx', '@dockpush/gulp', '@dockpush/grunt'],
    dependencies: { nx: '24.0.0', gulp: '5.0.1', 'gulp-cli': '3.1.0', grunt: '1.6.3', 'grunt-cli': '1.5.0' },
    files,
  });
  return project;
}

export interface AdapterRun {
  adapter: Adapter;
  status: number | null;
  output: string;
}

/** A user's environment: no Docker credentials of the machine's, no CI or Nx leftovers. */
export function cleanUserEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(tmpdir(), 'dockpush-user-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('NX_') || key.startsWith('AWS_')) delete env[key];
  delete env.DOCKER_AUTH_CONFIG;
  delete env.DEBUG;
  return {
    ...env,
    HOME: home,
    DOCKER_CONFIG: home,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NO_COLOR: '1',
    CI: 'true',
    ...extra,
  };
}

/** Puts the arguments where Nx users keep them: the target's options in project.json. */
function writeNxTarget(cwd: string, options: Record<string, unknown>): void {
  const target = { executor: '@dockpush/nx:push', cache: false, options };
  writeFileSync(
    path.join(cwd, 'apps', 'app', 'project.json'),
    JSON.stringify({ name: 'app', targets: { 'docker-push': target } }, null, 2),
  );
}

/** Runs one host with the given arguments (for the CLI: its command-line words). */
export function runAdapter(
  adapter: Adapter,
  args: Record<string, unknown> | string[],
  env: NodeJS.ProcessEnv = cleanUserEnv(),
  input = '',
): Promise<AdapterRun> {
  const cwd = allAdaptersProject();
  const bin = (name: string) => path.join(cwd, 'node_modules', '.bin', name);
  const json = JSON.stringify(Array.isArray(args) ? {} : args);
  const [command, argv]: [string, string[]] =
    adapter === 'cli'
      ? [bin('dockpush'), args as string[]]
      : adapter === 'api'
        ? [process.execPath, ['api.js']]
        : adapter === 'gulp'
          ? [bin('gulp'), ['push']]
          : adapter === 'grunt'
            ? [bin('grunt'), ['dockerPush:app']]
            : [bin('nx'), ['run', 'app:docker-push']];
  if (adapter === 'nx') writeNxTarget(cwd, args as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: { ...env, DOCKPUSH_ARGS: json } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ adapter, status, output });
    });
    child.stdin.end(input);
  });
}

/** Writes a file in the scratch project (a config file for --config, a Docker config…). */
export function writeProjectFile(relative: string, content: string): string {
  const file = path.join(allAdaptersProject(), relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

export const projectExists = () => project !== undefined && existsSync(project);
