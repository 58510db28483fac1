import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { pushImage, type PushResult } from '@dockpush/core';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { e2eContainerName } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { createScratchProject } from '../support/packages';
import { listTags, manifestDigest } from '../support/registry-api';
import { startTestRegistry, type TestRegistry } from '../support/registries';
import { recordReliability } from '../support/reliability-record';

/**
 * Load, sized for CI, with each push engine: many tags in one call, many images at once,
 * and Nx running five pushes in parallel. Every tag is checked in the registry; nothing is
 * reported pushed that is not there; memory is sampled while pushing.
 */
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const home = mkdtempSync(join(tmpdir(), 'dockpush-load-'));
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, DOCKER_CONFIG: home };
const images: string[] = [];
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startTestRegistry(e2eContainerName('load'));
});

afterAll(async () => {
  registry?.remove();
  for (const ref of images) await removeImage(docker, ref);
});

/** Samples this process's RSS every 20 ms while `work` runs. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; baseMb: number; peakMb: number }> {
  const baseMb = process.memoryUsage().rss / 2 ** 20;
  let peakMb = baseMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, process.memoryUsage().rss / 2 ** 20)), 20);
  try {
    const value = await work();
    return { value, baseMb, peakMb: Math.max(peakMb, process.memoryUsage().rss / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

async function expectAllInRegistry(result: PushResult): Promise<void> {
  const name = result.image.repo.slice(registry.host.length + 1);
  expect((await listTags(registry.host, name)).sort()).toEqual(result.pushed.map((p) => p.tag).sort());
  for (const p of result.pushed) expect(await manifestDigest(registry.host, name, p.tag)).toBe(p.digest);
}

const projects = ['p1', 'p2', 'p3', 'p4', 'p5'];
let nxWorkspace: string;

/** One scratch Nx workspace of five projects with a Dockerfile each, installed once for every engine. */
beforeAll(() => {
  const files: Record<string, string> = {};
  for (const p of projects) {
    files[`apps/${p}/project.json`] = JSON.stringify({ name: p, targets: {} });
    files[`apps/${p}/Dockerfile`] = 'FROM scratch\nCOPY x /x\n';
  }
  nxWorkspace = createScratchProject('load-nx', {
    packages: ['@dockpush/nx'],
    dependencies: { nx: '24.0.0' },
    files,
  });
  // The install is not what the Nx test measures: it gets its own, longer deadline.
}, 600_000);

describeEachEngine('load', (engine: E2eEngine) => {
  it('50 tags of one image in one call', async () => {
    const source = `dockpush-e2e-load-50-${engine}:${unique}`;
    images.push(source);
    await createTestImage(docker, source, { layers: 2, bytesPerLayer: 1024 * 1024 });
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const started = Date.now();
    const {
      value: result,
      baseMb,
      peakMb,
    } = await withPeakRss(
      async () =>
        (await pushImage(
          { repo: `${registry.host}/load-50-${engine}-${unique}`, source, tags, ...engineArgs(engine) },
          { docker, env },
        )) as PushResult,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(result.pushed).toHaveLength(50);
    expect(new Set(result.pushed.map((p) => p.digest)).size).toBe(1);
    await expectAllInRegistry(result);
    expect(peakMb - baseMb).toBeLessThan(100);
    recordReliability({
      kind: 'load',
      engine,
      case: '50 tags of one image (2 × 1 MiB layers), one pushImage call, concurrency 4',
      outcome: '50 of 50 tags in the registry with the reported digest',
      detail: `${seconds.toFixed(1)} s; test process RSS ${baseMb.toFixed(0)} → peak ${peakMb.toFixed(0)} MB`,
    });
  });

  it('10 different images pushed concurrently through the Node API', async () => {
    const sources = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const ref = `dockpush-e2e-load-img${i}-${engine}:${unique}`;
        images.push(ref);
        await createTestImage(docker, ref, { layers: 1, bytesPerLayer: 1024 * 1024 });
        return ref;
      }),
    );
    const started = Date.now();
    const {
      value: results,
      baseMb,
      peakMb,
    } = await withPeakRss(() =>
      Promise.all(
        sources.map(
          async (source, i) =>
            (await pushImage(
              {
                repo: `${registry.host}/load-img${i}-${engine}-${unique}`,
                source,
                tags: ['1', 'latest'],
                ...engineArgs(engine),
              },
              { docker, env },
            )) as PushResult,
        ),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const result of results) await expectAllInRegistry(result);
    // Different images, different digests.
    expect(new Set(results.map((r) => r.pushed[0]?.digest)).size).toBe(10);
    recordReliability({
      kind: 'load',
      engine,
      case: '10 different images (1 MiB each), 2 tags each, 10 pushImage calls at once',
      outcome: '20 of 20 tags in the registry with the reported digests',
      detail: `${seconds.toFixed(1)} s; test process RSS ${baseMb.toFixed(0)} → peak ${peakMb.toFixed(0)} MB`,
    });
  });

  it('nx run-many -t docker-push --parallel=5 over 5 projects', async () => {
    const workspace = nxWorkspace;
    const repoPattern = `${registry.host}/{projectName}-${engine}-${unique}`;
    writeFileSync(
      join(workspace, 'nx.json'),
      JSON.stringify(
        {
          neverConnectToCloud: true,
          analytics: false,
          plugins: [{ plugin: '@dockpush/nx', options: { repo: repoPattern, ...engineArgs(engine) } }],
        },
        null,
        2,
      ),
    );
    for (const p of projects) {
      const ref = `${registry.host}/${p}-${engine}-${unique}:latest`;
      images.push(ref);
      await createTestImage(docker, ref, { layers: 1, bytesPerLayer: 512 * 1024 });
    }
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      CI: 'true',
    };
    for (const key of Object.keys(childEnv))
      if (key.startsWith('NX_') && !['NX_DAEMON', 'NX_NO_CLOUD', 'NX_TUI'].includes(key)) delete childEnv[key];
    const started = Date.now();
    const run = spawnSync('npx', ['nx', 'run-many', '-t', 'docker-push', '--parallel=5'], {
      cwd: workspace,
      env: childEnv,
      encoding: 'utf8',
      timeout: 180_000,
    });
    const seconds = (Date.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`nx run-many failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    for (const p of projects) {
      const result = JSON.parse(
        readFileSync(join(workspace, 'dist', 'docker-push', `${p}.json`), 'utf8'),
      ) as PushResult;
      expect(result.image.repo).toBe(`${registry.host}/${p}-${engine}-${unique}`);
      await expectAllInRegistry(result);
    }
    recordReliability({
      kind: 'load',
      engine,
      case: 'nx run-many -t docker-push --parallel=5 over 5 projects (inferred targets)',
      outcome: '5 of 5 projects pushed; each result file matches the registry',
      detail: `${seconds.toFixed(1)} s`,
    });
  });
});
