import { readFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { PushResult } from '@dockpush/core';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { sharedNpmRegistry } from '../support/npm-registry';
import { expectInstalledFromNpmRegistry } from '../support/installed-from-npm-registry';
import { createScratchProject } from '../support/packages';
import { listTags } from '../support/registry-api';
import { expectRegistryServes } from '../support/served-result';
import { runCommand, STACK_LINE, userEnv } from './run-command';

/**
 * @dockpush/grunt as users get it: installed by name from an npm registry (the run's
 * loopback one, to which the workspace packages are published), loaded with
 * grunt.loadNpmTasks by the real `grunt` binary, pushing to a real registry:2.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-grunt:${unique}`;
const repo = (name: string) => `grunt-${name}-${unique}`;
/** The app target's repository when its push runs on `engine`. */
const appRepo = (engine: E2eEngine) => `${repo('app')}-${engine}`;

const gruntfile = `
module.exports = function (grunt) {
  const registry = process.env.E2E_REGISTRY;
  const engine = process.env.E2E_ENGINE ? { engine: process.env.E2E_ENGINE } : {};
  grunt.initConfig({
    dockerPush: {
      // Task-level options, under every target's own (Grunt merges them).
      options: { tags: ['1.0.0', 'latest'], source: process.env.E2E_SOURCE, retries: 1, ...engine },
      app: { options: { repo: registry + '/${repo('app')}' + (process.env.E2E_APP_SUFFIX || ''), outputFile: 'out/app.json' } },
      after: { options: { repo: registry + '/${repo('after')}' } },
      dry: { options: { repo: registry + '/${repo('dry')}', outputFile: 'out/dry.json' } },
      missing: { options: { repo: registry + '/${repo('missing')}', source: 'dockpush-e2e-no-such-image:1' } },
      bad: { options: { repo: 'localhost:5000/Bad' } },
    },
  });
  grunt.loadNpmTasks('@dockpush/grunt');
};
`;

let project: string;
const gruntEnv = (extra: Record<string, string> = {}) =>
  userEnv({ E2E_REGISTRY: env.plain.host, E2E_SOURCE: sourceRef, ...extra });
const grunt = (...args: string[]) =>
  runCommand('npx', ['--no-install', 'grunt', '--no-color', ...args], { cwd: project, env: gruntEnv() });
/** `grunt <tasks>` whose pushes run on `engine`; the app target pushes to a repository of that engine's own. */
const gruntWith = (engine: E2eEngine, ...args: string[]) =>
  runCommand('npx', ['--no-install', 'grunt', '--no-color', ...args], {
    cwd: project,
    env: gruntEnv({ E2E_ENGINE: engineArgs(engine).engine ?? '', E2E_APP_SUFFIX: `-${engine}` }),
  });

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
  project = createScratchProject('grunt', {
    packages: ['@dockpush/grunt'],
    npmRegistry: await sharedNpmRegistry(),
    dependencies: { grunt: '1.6.3', 'grunt-cli': '1.5.0' },
    files: { 'Gruntfile.js': gruntfile },
  });
  // The publish is shared by the run; the first file to ask pays for it.
}, 600_000);

afterAll(async () => {
  await removeImage(docker, sourceRef);
  for (const name of [appRepo('docker'), appRepo('registry'), repo('after'), repo('dry')]) {
    for (const tag of ['1.0.0', 'latest']) await removeImage(docker, `${env.plain.host}/${name}:${tag}`);
  }
});

describeEachEngine('grunt with @dockpush/grunt', (engine: E2eEngine) => {
  it('pushes `grunt dockerPush:app` with the task-level and target options merged', async () => {
    const run = await gruntWith(engine, 'dockerPush:app');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Running "dockerPush:app" (dockerPush) task');
    expect(run.stdout).toContain('Done.');

    const result = JSON.parse(readFileSync(path.join(project, 'out/app.json'), 'utf8')) as PushResult;
    expect(result.image.repo).toBe(`${env.plain.host}/${appRepo(engine)}`);
    await expectRegistryServes(env.plain.host, appRepo(engine), result, ['1.0.0', 'latest']);
    expect(run.stdout).toContain(`>> Pushed ${result.pushed.map((p) => `${p.uri}@${p.digest}`).join(', ')}`);
  });

  it('fails `grunt dockerPush:missing` with a readable warning and stops there', async () => {
    const run = await gruntWith(engine, 'dockerPush:missing', 'dockerPush:after');
    expect(run.status).not.toBe(0);
    expect(run.stdout).toContain('Warning: No local image "dockpush-e2e-no-such-image:1"');
    expect(run.stdout).toContain('Aborted due to warnings.');
    expect(run.stdout).not.toContain('Running "dockerPush:after"');
    expect(run.stdout).not.toMatch(STACK_LINE);
    expect(await listTags(env.plain.host, repo('after'))).toEqual([]);
  });
});

describe('grunt with @dockpush/grunt, whatever the engine', () => {
  it('installs @dockpush/grunt and @dockpush/core by name from the npm registry', () => {
    expectInstalledFromNpmRegistry(project, '@dockpush/grunt');
  });

  it("turns grunt's --no-write into a dry run: the plan, and nothing pushed", async () => {
    const run = await grunt('dockerPush:dry', '--no-write');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('>> Dry run: would push');
    expect(JSON.parse(readFileSync(path.join(project, 'out/dry.json'), 'utf8'))).toMatchObject({
      tags: ['1.0.0', 'latest'],
      credentials: 'anonymous',
    });
    expect(await listTags(env.plain.host, repo('dry'))).toEqual([]);
  });

  it('fails `grunt dockerPush:bad` naming the repository, and goes on with --force', async () => {
    const run = await grunt('dockerPush:bad', 'dockerPush:after', '--force');
    expect(run.stdout).toContain('Warning: repo: "localhost:5000/Bad" is not a valid repository');
    expect(run.stdout).toContain('Running "dockerPush:after"');
    expect(run.stdout).toContain('Done, but with warnings.');
    expect((await listTags(env.plain.host, repo('after'))).sort()).toEqual(['1.0.0', 'latest']);
  });
});
