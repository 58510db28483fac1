import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import Dockerode from 'dockerode';
import type { PushEvent } from '@dockpush/core';
import { DockerArchiveSource } from '../../packages/core/src/image-source/docker-archive-source';
import { engineApi } from '../../packages/core/src/engine/engine-api';
import { EngineImageSource, dockerodeExporter } from '../../packages/core/src/image-source/engine-image-source';
import { LayerDigestMismatchError } from '../../packages/core/src/image-source/image-source-error';
import { indexTarFile } from '../../packages/core/src/image-source/tar-reader';
import { pushToRegistry } from '../../packages/core/src/registry/registry-push';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { listTags, manifestDigest } from '../support/registry-api';
import { createSavedTestImage, freshCacheDir, layerStates, pullAndInspect } from '../support/registry-engine';

/**
 * The registry engine pushing `docker save` archives and engine images to real registry:2
 * instances, proven by pulling the result back through the engine.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-regengine:${unique}`;
let source: { id: string; diffIds: string[]; archive: string };

beforeAll(async () => {
  source = await createSavedTestImage(docker, sourceRef, { layers: 3, bytesPerLayer: 300 * 1024 });
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

describe('registry engine, docker-archive source', () => {
  it('pushes to an anonymous registry; pulled back, the image ID and diffIDs are the source’s', async () => {
    const repo = `regengine-archive-${unique}`;
    const events: PushEvent[] = [];
    const result = await pushToRegistry({
      source: new DockerArchiveSource(source.archive),
      repository: { registry: env.plain.host, path: repo },
      tags: ['1.0.0', 'latest'],
      cacheDir: freshCacheDir(),
      emit: (e) => events.push(e),
    });

    expect(result.engine).toBe('registry');
    expect(result.imageId).toBe(source.id);
    expect(result.pushed.map((p) => p.tag)).toEqual(['1.0.0', 'latest']);
    for (const p of result.pushed) expect(await manifestDigest(env.plain.host, repo, p.tag)).toBe(p.digest);
    expect([...layerStates(events).values()].filter((s) => s.includes('pushed'))).toHaveLength(3);
    expect(events.filter((e) => e.type === 'tag-done').map((e) => e.type === 'tag-done' && e.digest)).toEqual(
      result.pushed.map((p) => p.digest),
    );

    // Without the source image, the engine must take everything from what was pushed.
    await removeImage(docker, sourceRef);
    try {
      expect(await pullAndInspect(docker, `${env.plain.host}/${repo}:1.0.0`)).toEqual({
        id: source.id,
        diffIds: source.diffIds,
      });
    } finally {
      execFileSync('docker', ['load', '-q', '-i', source.archive], { stdio: 'ignore' });
    }
  });

  it('pushes to an htpasswd registry with Basic credentials; a second push compresses and uploads nothing', async () => {
    const repo = `regengine-auth-${unique}`;
    const auth = { username: env.auth.username, password: env.auth.password };
    const cacheDir = freshCacheDir();
    const push = (events: PushEvent[]) =>
      pushToRegistry({
        source: new DockerArchiveSource(source.archive),
        repository: { registry: env.auth.host, path: repo },
        tags: ['v1'],
        credentials: { get: async () => auth },
        cacheDir,
        emit: (e) => events.push(e),
      });
    const first: PushEvent[] = [];
    const result = await push(first);
    expect(await listTags(env.auth.host, repo, auth)).toEqual(['v1']);
    expect(await manifestDigest(env.auth.host, repo, 'v1', auth)).toBe(result.pushed[0]?.digest);

    const second: PushEvent[] = [];
    const again = await push(second);
    expect(again.pushed[0]?.digest).toBe(result.pushed[0]?.digest);
    const states = [...layerStates(second).values()];
    expect(states).toHaveLength(3);
    for (const s of states) expect(s).toEqual(['preparing', 'exists']);
    expect(JSON.stringify(second)).not.toContain(env.auth.password);
  });

  it('a second repository of the same registry gets the layers by mount, not upload', async () => {
    const cacheDir = freshCacheDir();
    const push = (repo: string, events: PushEvent[]) =>
      pushToRegistry({
        source: new DockerArchiveSource(source.archive),
        repository: { registry: env.plain.host, path: repo },
        tags: ['latest'],
        cacheDir,
        emit: (e) => events.push(e),
      });
    await push(`regengine-first-${unique}`, []);
    const events: PushEvent[] = [];
    const second = await push(`regengine-second-${unique}`, events);
    for (const s of layerStates(events).values()) expect(s).toEqual(['preparing', 'exists']);
    expect(await manifestDigest(env.plain.host, `regengine-second-${unique}`, 'latest')).toBe(second.pushed[0]?.digest);
  });

  it('refuses an archive whose layer does not match its diffID, and pushes no manifest', async () => {
    const corrupt = `${source.archive}.corrupt.tar`;
    const bytes = Buffer.from(readFileSync(source.archive));
    // Flip a byte inside a layer's file data (the test image's layers are random bytes).
    const layer = [...(await indexTarFile(source.archive)).values()].find((e) => e.name.endsWith('/layer.tar'));
    const flip = (layer?.offset ?? 0) + 4096;
    bytes[flip] = (bytes[flip] ?? 0) ^ 0xff;
    writeFileSync(corrupt, bytes);
    const repo = `regengine-corrupt-${unique}`;

    const push = pushToRegistry({
      source: new DockerArchiveSource(corrupt),
      repository: { registry: env.plain.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
    });
    await expect(push).rejects.toThrow(LayerDigestMismatchError);
    await expect(push).rejects.toThrow(
      /is corrupt: a layer's content hashes to sha256:[0-9a-f]{64} but its config says/,
    );
    expect(await listTags(env.plain.host, repo)).toEqual([]);
  });
});

describe('registry engine, engine image source', () => {
  it('streams the export of a local image and pushes it; the pull gives the same image', async () => {
    const repo = `regengine-engine-${unique}`;
    const result = await pushToRegistry({
      source: new EngineImageSource(sourceRef, engineApi() ?? dockerodeExporter(docker)),
      repository: { registry: env.plain.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
    });
    expect(result.imageId).toBe(source.id);
    expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
    expect(await pullAndInspect(docker, `${env.plain.host}/${repo}:latest`)).toEqual({
      id: source.id,
      diffIds: source.diffIds,
    });
  });

  it('re-pushes an unchanged image, and pushes it to a second repository, without exporting it again', async () => {
    const cacheDir = freshCacheDir();
    let exports = 0;
    const exporter = dockerodeExporter(docker);
    const counting = { ...exporter, export: (ref: string) => (exports++, exporter.export(ref)) };
    const push = (repo: string) =>
      pushToRegistry({
        source: new EngineImageSource(sourceRef, counting),
        repository: { registry: env.plain.host, path: repo },
        tags: ['latest'],
        cacheDir,
      });
    const first = await push(`regengine-engine-again-${unique}`);
    expect(exports).toBe(1);
    const second = await push(`regengine-engine-again-${unique}`);
    expect(exports).toBe(1);
    expect(second.pushed[0]?.digest).toBe(first.pushed[0]?.digest);
    const other = await push(`regengine-engine-other-${unique}`);
    expect(exports).toBe(1);
    expect(await manifestDigest(env.plain.host, `regengine-engine-other-${unique}`, 'latest')).toBe(
      other.pushed[0]?.digest,
    );
  });
});
