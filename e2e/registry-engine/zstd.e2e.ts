import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Dockerode from 'dockerode';
import { DockerArchiveSource } from '../../packages/core/src/image-source/docker-archive-source';
import { pushToRegistry } from '../../packages/core/src/registry/registry-push';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { manifestDigest } from '../support/registry-api';
import { createSavedTestImage, freshCacheDir } from '../support/registry-engine';

/**
 * zstd layers pushed by the registry engine to a real registry:2, read back through the registry
 * API and decompressed by another implementation (skopeo, whose zstd decoder is Go's).
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-zstd:${unique}`;
let source: { id: string; diffIds: string[]; archive: string };

interface Manifest {
  mediaType: string;
  config: { mediaType: string; digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

beforeAll(async () => {
  // Layers of 3 MiB: more than one zstd frame each.
  source = await createSavedTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 3 * 1024 * 1024 });
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function getManifest(host: string, repo: string, tag: string): Promise<Manifest> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 200) throw new Error(`GET manifest ${repo}:${tag}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Manifest;
}

describe('registry engine, zstd', () => {
  it('pushes zstd layers in an OCI manifest that skopeo copies back to the source’s config and diffIDs', async () => {
    const repo = `regengine-zstd-${unique}`;
    const result = await pushToRegistry({
      source: new DockerArchiveSource(source.archive),
      repository: { registry: env.plain.host, path: repo },
      tags: ['1.0'],
      compression: 'zstd',
      cacheDir: freshCacheDir(),
    });
    expect(result.imageId).toBe(source.id);
    expect(result.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(await manifestDigest(env.plain.host, repo, '1.0')).toBe(result.pushed[0]?.digest);

    const manifest = await getManifest(env.plain.host, repo, '1.0');
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config).toMatchObject({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: source.id });
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+zstd',
      'application/vnd.oci.image.layer.v1.tar+zstd',
    ]);

    // skopeo fetches the blobs (checking their digests), decompresses each layer with its own zstd
    // decoder and recompresses it to gzip: gunzipped, the layers it writes must be the source's
    // diffIDs. (skopeo 1.9 keeps zstd layers as they are with --dest-decompress.)
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-zstd-')), 'layout');
    execFileSync(
      'skopeo',
      [
        'copy',
        '-q',
        '--src-tls-verify=false',
        '--dest-compress',
        '--dest-compress-format',
        'gzip',
        `docker://${env.plain.host}/${repo}:1.0`,
        `oci:${dir}:copy`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 },
    );
    const blob = (digest: string) => readFileSync(path.join(dir, 'blobs', ...digest.split(':')));
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const copied = JSON.parse(blob(index.manifests[0]?.digest as string).toString()) as Manifest;
    expect(copied.config.digest).toBe(source.id);
    const config = JSON.parse(blob(copied.config.digest).toString()) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(source.diffIds);
    expect(copied.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+gzip',
      'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
    expect(copied.layers.map((l) => sha256(gunzipSync(blob(l.digest))))).toEqual(source.diffIds);
  }, 180_000);
});
