import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { PushResult } from '@dockpush/core';
import { runCommand, userEnv } from '../adapters/run-command';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { writeTwoPlatformLayout } from '../support/oci-layout';
import { createScratchProject } from '../support/packages';
import { listTags } from '../support/registry-api';
import { saveImage } from '../support/registry-engine';
import { expectRegistryServes } from '../support/served-result';

/**
 * The registry engine through the entry points users call: the `dockpush` binary with
 * `--engine registry` (or an archive or layout source, which picks it) and the Node API with
 * `engine: 'registry'`, against registry:2, checked through the registry's own API.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-regentry:${unique}`;
const repoName = (name: string) => `regentry-${name}-${unique}`;
const repo = (name: string) => `${env.plain.host}/${repoName(name)}`;

let project: string;
let bin: string;
let imageId: string;
const cacheHome = mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-regentry-cache-'));
const dockpush = (args: string[]) =>
  runCommand(bin, args, { env: userEnv({ XDG_CACHE_HOME: cacheHome }), cwd: project });

/** `dockpush push <args> --json`, which must exit with 0; the result it prints. */
async function pushJson(args: string[]): Promise<PushResult> {
  const run = await dockpush(['push', ...args, '--json']);
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as PushResult;
}

/** The result names the registry engine, and every digest it reports is what the registry serves. */
async function expectServed(result: PushResult, name: string, tags: string[]) {
  expect(result.engine).toBe('registry');
  await expectRegistryServes(env.plain.host, repoName(name), result, tags);
}

beforeAll(async () => {
  ({ id: imageId } = await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 128 * 1024 }));
  project = createScratchProject('regentry', { packages: ['dockpush'] });
  bin = path.join(project, 'node_modules', '.bin', 'dockpush');
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

describe('dockpush push --engine registry', () => {
  it('pushes a local image read from the engine; the image ID is the local one and no local tag is made', async () => {
    const result = await pushJson([
      '--engine',
      'registry',
      '--repo',
      repo('local'),
      '--source',
      sourceRef,
      '-t',
      '1',
      '-t',
      'latest',
    ]);
    await expectServed(result, 'local', ['1', 'latest']);
    expect(result.image.id).toBe(imageId);
    await expect(docker.getImage(`${repo('local')}:1`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('pushes a docker-archive: tarball, choosing the registry engine for it', async () => {
    const archive = saveImage(sourceRef);
    const result = await pushJson(['--repo', repo('archive'), '--source', `docker-archive:${archive}`, '-t', '2.0']);
    await expectServed(result, 'archive', ['2.0']);
    expect(result.image.id).toBe(imageId);
  });

  it('pushes an oci: layout with a two-platform index whole', async () => {
    const layout = writeTwoPlatformLayout('v1');
    const result = await pushJson([
      '--engine',
      'registry',
      '--repo',
      repo('oci'),
      '--source',
      `oci:${layout.dir}:v1`,
      '-t',
      'v1',
    ]);
    await expectServed(result, 'oci', ['v1']);
    expect(result.pushed[0]?.digest).toBe(layout.index.digest);
  });

  it('refuses an archive with --engine docker, naming the option, before touching anything', async () => {
    const run = await dockpush([
      'push',
      '--engine',
      'docker',
      '--repo',
      repo('refused'),
      '--source',
      'docker-archive:/nonexistent.tar',
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--engine.*engine: "registry"/s);
    expect(await listTags(env.plain.host, repoName('refused'))).toEqual([]);
  });
});

describe("require('dockpush').pushImage with engine: 'registry'", () => {
  // In a process of its own, in the scratch project: required from this test, the packed package
  // would find core through jest's module map (the workspace's source), not its own dependency.
  it('pushes the local <repo>:<tag> image and reports registry digests', async () => {
    const script = `
      const { pushImage } = require('dockpush');
      const events = [];
      pushImage(${JSON.stringify({ repo: repo('api'), source: sourceRef, tags: ['3'], engine: 'registry' })}, {
        onProgress: (e) => events.push(e.type),
      }).then((result) => {
        const loaded = Object.keys(require.cache);
        console.log(JSON.stringify({ result, events, coreFrom: loaded.find((f) => f.includes('core') && f.endsWith('push-image.js')) }));
      });`;
    const run = await runCommand(process.execPath, ['-e', script], {
      env: userEnv({ XDG_CACHE_HOME: cacheHome }),
      cwd: project,
    });
    expect(run.status).toBe(0);
    const { result, events, coreFrom } = JSON.parse(run.stdout) as {
      result: PushResult;
      events: string[];
      coreFrom: string;
    };
    // The packed packages, as an npm user has them.
    expect(coreFrom).toBe(path.join(project, 'node_modules', '@dockpush', 'core', 'dist', 'push-image.js'));
    await expectServed(result, 'api', ['3']);
    expect(result.image.id).toBe(imageId);
    expect(events).toEqual(expect.arrayContaining(['tag-started', 'layer', 'tag-done']));
  });
});
