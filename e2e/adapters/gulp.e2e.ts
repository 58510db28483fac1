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
 * @dockpush/gulp as users get it: installed by name from an npm registry (the run's
 * loopback one, to which the workspace packages are published) next to gulp 5, and the
 * real `gulp` binary running a CommonJS gulpfile against a real registry:2.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-gulp:${unique}`;
const repoName = `gulp-app-${unique}`;

const gulpfile = `
const { series } = require('gulp');
const { dockerPush } = require('@dockpush/gulp');

const registry = process.env.E2E_REGISTRY;
const engine = process.env.E2E_ENGINE ? { engine: process.env.E2E_ENGINE } : {};

exports.push = dockerPush({
  repo: registry + '/' + process.env.E2E_REPO,
  source: process.env.E2E_SOURCE,
  tags: ['1.0.0', 'latest'],
  outputFile: 'out/push.json',
  ...engine,
});
exports.missing = dockerPush({ repo: registry + '/gulp-missing', source: 'dockpush-e2e-no-such-image:1', ...engine });
exports.bad = dockerPush({ repo: registry + '/Not A Repo' });
// Nothing after a failed task runs.
exports.chain = series(dockerPush({ repo: registry + '/gulp-missing' }), function after(done) {
  console.log('AFTER RAN');
  done();
});
`;

let project: string;
const gulpEnv = (extra: Record<string, string>) =>
  userEnv({ E2E_REGISTRY: env.plain.host, E2E_REPO: repoName, E2E_SOURCE: sourceRef, ...extra });
const gulp = (...args: string[]) =>
  runCommand('npx', ['--no-install', 'gulp', ...args], { cwd: project, env: gulpEnv({}) });
/** `gulp <task>` whose push runs on `engine`, to a repository of that engine's own. */
const gulpWith = (engine: E2eEngine, task: string) =>
  runCommand('npx', ['--no-install', 'gulp', task], {
    cwd: project,
    env: gulpEnv({ E2E_REPO: `${repoName}-${engine}`, E2E_ENGINE: engineArgs(engine).engine ?? '' }),
  });

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
  project = createScratchProject('gulp', {
    packages: ['@dockpush/gulp'],
    npmRegistry: await sharedNpmRegistry(),
    dependencies: { gulp: '5.0.1', 'gulp-cli': '3.1.0' },
    files: { 'gulpfile.js': gulpfile },
  });
  // The publish is shared by the run; the first file to ask pays for it.
}, 600_000);

afterAll(async () => {
  await removeImage(docker, sourceRef);
  for (const tag of ['1.0.0', 'latest']) await removeImage(docker, `${env.plain.host}/${repoName}:${tag}`);
});

describeEachEngine('gulp with @dockpush/gulp', (engine: E2eEngine) => {
  it('pushes from `gulp push`, logging like gulp, with the digests the registry serves', async () => {
    const run = await gulpWith(engine, 'push');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Starting 'push'\.\.\./);
    expect(run.stdout).toMatch(/Finished 'push' after/);
    expect(run.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] \[docker-push:gulp-app-[^\]]+\] pushed 2 tags of /m);

    const result = JSON.parse(readFileSync(path.join(project, 'out/push.json'), 'utf8')) as PushResult;
    expect(result.image.repo).toBe(`${env.plain.host}/${repoName}-${engine}`);
    await expectRegistryServes(env.plain.host, `${repoName}-${engine}`, result, ['1.0.0', 'latest']);
    for (const p of result.pushed) expect(run.stdout).toContain(`pushed ${p.uri} ${p.digest}`);
  });

  it('fails `gulp missing` with exit 1 and a readable message, without a stack', async () => {
    const run = await gulpWith(engine, 'missing');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/'missing' errored after/);
    expect(run.stderr).toContain('ImageNotFoundError: No local image "dockpush-e2e-no-such-image:1"');
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(await listTags(env.plain.host, 'gulp-missing')).toEqual([]);
  });
});

describe('gulp with @dockpush/gulp, whatever the engine', () => {
  it('installs @dockpush/gulp and @dockpush/core by name from the npm registry', () => {
    expectInstalledFromNpmRegistry(project, '@dockpush/gulp');
  });

  it('lists the task with its description', async () => {
    const run = await gulp('--tasks');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/push\s+Push gulp-app-\S+ with dockpush/);
  });

  it('fails `gulp bad` naming the repository it refuses', async () => {
    const run = await gulp('bad');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`ArgumentsError: repo: "${env.plain.host}/Not A Repo" is not a valid repository`);
  });

  it('stops a series at the failed push', async () => {
    const run = await gulp('chain');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('No local image');
    expect(run.stdout).not.toContain('AFTER RAN');
    // Unnamed inside the series, the task goes by its function's name.
    expect(run.stdout).toContain("Starting 'docker-push:gulp-missing'...");
  });
});
