import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Dockerode from 'dockerode';
import { runCommand } from '../adapters/run-command';
import { describeOneEngine } from '../support/engines';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { createSavedTestImage, pullWithoutSource } from '../support/registry-engine';

/**
 * The registry engine reads a local image straight from the engine's store when the engine runs
 * on this host and dockpush may read its folder (root here): the config, and each layer rebuilt
 * from its tar-split record, byte for byte what the engine's export holds. Checked against the
 * real engine's store, and by pushing with and without it (DOCKPUSH_ENGINE_STORE=0) and pulling
 * back the same image.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-engine-store:${unique}`;
const repoRoot = resolve(__dirname, '..', '..');
const bin = join(repoRoot, 'packages', 'dockpush', 'bin', 'dockpush.js');
// Internal to core: loaded from the built tree by path, as core's index does not export it.
const { EngineStore, digestOf } = require(
  join(repoRoot, 'packages', 'core', 'dist', 'image-source', 'engine-store.js'),
) as typeof import('../../packages/core/src/image-source/engine-store');
/** Where the engine keeps its images (`docker info`), to know whether dockpush should find it unasked. */
const engineRoot = execFileSync('docker', ['info', '--format', '{{.DockerRootDir}}'], { encoding: 'utf8' }).trim();
let source: { id: string; diffIds: string[]; archive: string };

beforeAll(async () => {
  source = await createSavedTestImage(docker, sourceRef, { layers: 3, bytesPerLayer: 300 * 1024 });
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

describeOneEngine('registry', 'the engine store', () => {
  it('gives the config and every layer of a local image, each hashing to its digest', async () => {
    const info = await docker.info();
    const store = await EngineStore.open({ root: info.DockerRootDir, driver: info.Driver });
    if (!store)
      throw new Error(`this engine's store (${info.Driver} in ${info.DockerRootDir}) cannot be read here: run as root`);
    const config = await store.config(source.id);
    expect(config && JSON.parse(config.toString()).rootfs.diff_ids).toEqual(source.diffIds);
    for (let i = 0; i < source.diffIds.length; i++) {
      const layer = await store.layer(source.diffIds, i);
      expect(await digestOf((layer as { stream: AsyncIterable<Buffer> }).stream)).toBe(source.diffIds[i]);
    }
    // A layer the store does not hold: undefined, for the export to give.
    expect(await store.layer([...source.diffIds.slice(0, 2), `sha256:${'0'.repeat(64)}`], 2)).toBeUndefined();
  });

  it.each([
    [
      'read from the engine store',
      {},
      // Found without asking the engine where it keeps images, when that is the default place.
      new RegExp(
        `the store of .*: ${engineRoot === '/var/lib/docker' ? '/var/lib/docker, where the engine keeps images by default' : `${engineRoot}, as the engine says`}[\\s\\S]*3 of 3 wanted layers of .* read from the engine store`,
      ),
      false,
    ],
    [
      'read from the export (DOCKPUSH_ENGINE_STORE=0)',
      { DOCKPUSH_ENGINE_STORE: '0' },
      /3 layers of .* from the export/,
      true,
    ],
  ])('a push of a local image %s comes back as the same image', async (_how, extra, line, notice) => {
    const repoName = `engine-store-${Object.keys(extra).length}-${unique}`;
    const home = mkdtempSync(join(tmpdir(), 'dockpush-e2e-home-'));
    const run = await runCommand(
      process.execPath,
      [
        bin,
        'push',
        '--repo',
        `${env.plain.host}/${repoName}`,
        '--source',
        sourceRef,
        '--tag',
        '1',
        '--engine',
        'registry',
      ],
      {
        cwd: home,
        env: {
          ...process.env,
          HOME: home,
          DOCKER_CONFIG: home,
          XDG_CACHE_HOME: join(home, 'cache'),
          DEBUG: 'dockpush:image-source:*',
          ...extra,
        },
      },
    );
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({
      status: 0,
      stderr: expect.stringMatching(line),
    });
    // Reading the whole image through the export is said, not only in debug output.
    expect(run.stderr.includes(`reading ${sourceRef} through the engine's export (docker save)`)).toBe(notice);
    rmSync(home, { recursive: true, force: true });
    expect(
      await pullWithoutSource(docker, `${env.plain.host}/${repoName}:1`, { ref: sourceRef, archive: source.archive }),
    ).toEqual({ id: source.id, diffIds: source.diffIds });
  });
});
