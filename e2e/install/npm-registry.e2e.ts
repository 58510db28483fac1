import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, sharedNpmRegistry } from '../support/npm-registry';
import { scratchRoot } from '../support/packages';

/**
 * The install path users take: the packages published to a real npm registry (Verdaccio
 * on the loopback), then installed by name into fresh projects, as from npmjs.com.
 */
const version = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'packages', 'dockpush', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** The run's registry, with the packages published to it once (shared by the suites that install). */
let registry: { url: string };
const home = mkdtempSync(join(tmpdir(), 'dockpush-e2e-npm-home-'));

/** A fresh folder whose .npmrc points npm at the loopback registry. */
function freshProject(name: string, files: Record<string, string>): string {
  mkdirSync(scratchRoot, { recursive: true });
  const dir = mkdtempSync(join(scratchRoot, `${name}-`));
  writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

function run(cwd: string, command: string, args: string[]) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) {
    if (key.startsWith('NX_') || key.startsWith('npm_config_')) delete childEnv[key];
  }
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: {
      ...childEnv,
      HOME: home,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NO_COLOR: '1',
      CI: 'true',
    },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${output}`);
  return { stdout: result.stdout, output };
}

beforeAll(async () => {
  registry = { url: await sharedNpmRegistry() };
}, 600_000);

it('serves every dockpush package at the version in the repository', async () => {
  for (const name of ['@dockpush/core', 'dockpush', '@dockpush/nx', '@dockpush/gulp', '@dockpush/grunt']) {
    const response = await request(`${registry.url}${name.replace('/', '%2f')}`);
    expect(response.status).toBe(200);
    const manifest = JSON.parse(response.body) as { 'dist-tags': Record<string, string> };
    expect(manifest['dist-tags'].latest).toBe(version);
  }
});

it('npm install dockpush, then npx dockpush --version', () => {
  const dir = freshProject('npm-install', {
    'package.json': JSON.stringify({ name: 'scratch-npm-install', version: '0.0.0', private: true }),
  });
  run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', 'dockpush']);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  expect(manifest.dependencies.dockpush).toBe(`^${version}`);
  expect(run(dir, 'npx', ['dockpush', '--version']).stdout.trim()).toBe(`dockpush ${version}`);
});

it('nx add @dockpush/nx installs the plugin from the registry and registers it in nx.json', () => {
  const dir = freshProject('nx-add', {
    'package.json': JSON.stringify(
      { name: 'scratch-nx-add', version: '0.0.0', private: true, devDependencies: { nx: '24.0.0' } },
      null,
      2,
    ),
    'nx.json': JSON.stringify({ neverConnectToCloud: true, analytics: false }, null, 2),
  });
  run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']);
  run(dir, 'npx', ['nx', 'add', '@dockpush/nx']);

  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  expect(manifest.devDependencies['@dockpush/nx']).toBe(`^${version}`);
  expect(readFileSync(join(dir, 'node_modules', '@dockpush', 'nx', 'package.json'), 'utf8')).toContain(
    `"version": "${version}"`,
  );
  const nxJson = JSON.parse(readFileSync(join(dir, 'nx.json'), 'utf8')) as { plugins?: unknown[] };
  expect(nxJson.plugins).toEqual([
    { plugin: '@dockpush/nx', options: { targetName: 'docker-push', repo: 'localhost:5000/{projectName}' } },
  ]);
});
