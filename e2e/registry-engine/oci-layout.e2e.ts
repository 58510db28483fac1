import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Dockerode from 'dockerode';
import { LayerDigestMismatchError } from '../../packages/core/src/image-source/image-source-error';
import { openImageSource } from '../../packages/core/src/image-source/open-image-source';
import { pushToRegistry } from '../../packages/core/src/registry/registry-push';
import { loadE2eEnv } from '../support/env';
import { writeTwoPlatformLayout } from '../support/oci-layout';
import { listTags, manifestDigest } from '../support/registry-api';
import { freshCacheDir, pullAndInspect } from '../support/registry-engine';

/** OCI image layouts, pushed whole by the registry engine, without an engine in the way. */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const noEngine = () => {
  throw new Error('an OCI layout must not need the Docker engine');
};

describe('registry engine, OCI layout source', () => {
  const layout = writeTwoPlatformLayout('v1');

  it('pushes a two-platform index whole: the registry serves the index and both manifests', async () => {
    const repo = `regengine-oci-${unique}`;
    const result = await pushToRegistry({
      source: openImageSource(`oci:${layout.dir}:v1`, noEngine),
      repository: { registry: env.plain.host, path: repo },
      tags: ['1.0', 'latest'],
      cacheDir: freshCacheDir(),
    });
    expect(result.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(result.imageId).toBe(layout.index.digest);
    expect(result.pushed.map((p) => [p.tag, p.digest])).toEqual([
      ['1.0', layout.index.digest],
      ['latest', layout.index.digest],
    ]);
    expect((await listTags(env.plain.host, repo)).sort()).toEqual(['1.0', 'latest']);
    expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(layout.index.digest);
    for (const platform of layout.platforms) {
      expect(await manifestDigest(env.plain.host, repo, platform.manifest.digest)).toBe(platform.manifest.digest);
    }

    // The engine pulls its own platform's image from the index: same config, same layers.
    const amd64 = layout.platforms.find((p) => p.architecture === 'amd64');
    expect(await pullAndInspect(docker, `${env.plain.host}/${repo}:latest`)).toEqual({
      id: amd64?.configDigest,
      diffIds: amd64?.diffIds,
    });
  });

  it('reads the same layout as an oci-archive tar', async () => {
    const tar = path.join(path.dirname(layout.dir), `${path.basename(layout.dir)}.tar`);
    execFileSync('tar', ['-cf', tar, '-C', layout.dir, '.']);
    const repo = `regengine-oci-archive-${unique}`;
    const result = await pushToRegistry({
      source: openImageSource(`oci-archive:${tar}`, noEngine),
      repository: { registry: env.plain.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
    });
    expect(result.pushed[0]?.digest).toBe(layout.index.digest);
    expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(layout.index.digest);
  });

  it('refuses a layout whose layer does not match its diffID, and pushes no manifest', async () => {
    const bad = writeTwoPlatformLayout('v1', { corruptLayerOf: 'arm64' });
    const repo = `regengine-oci-corrupt-${unique}`;
    const push = pushToRegistry({
      source: openImageSource(`oci:${bad.dir}`, noEngine),
      repository: { registry: env.plain.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
    });
    await expect(push).rejects.toThrow(LayerDigestMismatchError);
    expect(await listTags(env.plain.host, repo)).toEqual([]);
    for (const platform of bad.platforms) {
      expect(await manifestDigest(env.plain.host, repo, platform.manifest.digest)).toBeUndefined();
    }
  });

  it('names the refs a layout holds when the one asked for is not there', async () => {
    await expect(
      pushToRegistry({
        source: openImageSource(`oci:${layout.dir}:v2`, noEngine),
        repository: { registry: env.plain.host, path: `regengine-oci-missing-${unique}` },
        tags: ['latest'],
        cacheDir: false,
      }),
    ).rejects.toThrow(
      `Cannot read the image oci:${layout.dir}:v2: it holds no image named "v2" (names in index.json: v1)`,
    );
  });
});
