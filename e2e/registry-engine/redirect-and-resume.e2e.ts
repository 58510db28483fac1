import Dockerode from 'dockerode';
import { DockerArchiveSource } from '../../packages/core/src/image-source/docker-archive-source';
import { EngineImageSource, dockerodeExporter } from '../../packages/core/src/image-source/engine-image-source';
import { pushToRegistry } from '../../packages/core/src/registry/registry-push';
import { loadE2eEnv } from '../support/env';
import { FaultProxy } from '../support/fault-proxy';
import { createTestImage, removeImage } from '../support/images';
import { RecordingProxy } from '../support/recording-proxy';
import { listTags, manifestDigest } from '../support/registry-api';
import { freshCacheDir, pullWithoutSource, saveImage } from '../support/registry-engine';

/** Redirects to another host, and uploads cut midway, between the registry engine and registry:2. */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-regengine-faults:${unique}`;
let archive: string;
let source: { id: string; diffIds: string[] };
const proxies: RecordingProxy[] = [];
const proxy = async (upstream: string, address?: string) => {
  const started = await RecordingProxy.start(upstream, address);
  proxies.push(started);
  return started;
};

beforeAll(async () => {
  const { id } = await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 300 * 1024 });
  source = { id, diffIds: (await docker.getImage(id).inspect()).RootFS.Layers ?? [] };
  archive = saveImage(sourceRef);
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await removeImage(docker, sourceRef);
});

/** Sends blob data (PATCH, and the closing PUT) of uploads to `other` instead, with a 307. */
function redirectUploadsTo(front: RecordingProxy, other: RecordingProxy): void {
  front.decide = (req) =>
    (req.method === 'PATCH' || req.method === 'PUT') && /\/blobs\/uploads\//.test(req.url ?? '')
      ? { kind: 'redirect', status: 307, location: `http://${other.host}${req.url}` }
      : undefined;
}

describe('registry engine, redirects to another host', () => {
  it('follows an upload redirect to another host without the Authorization header, and says why it then fails', async () => {
    const front = await proxy(env.auth.host);
    const other = await proxy(env.auth.host, '127.0.0.2');
    redirectUploadsTo(front, other);
    const repo = `regengine-redirect-auth-${unique}`;
    const auth = { username: env.auth.username, password: env.auth.password };

    const push = pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: front.host, path: repo },
      tags: ['latest'],
      credentials: { get: async () => auth },
      cacheDir: freshCacheDir(),
      concurrency: 1,
      // Chunks (PATCH), not a layer whole in its closing PUT.
      chunkSize: 64 * 1024,
    });
    await expect(push).rejects.toThrow(
      /the registry sent it to 127\.0\.0\.2:\d+, which asks for credentials; dockpush does not send credentials to another host/,
    );
    expect(front.requests.some((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
    expect(other.requests.length).toBeGreaterThan(0);
    expect(other.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    expect(await listTags(env.auth.host, repo, auth)).toEqual([]);
  });

  it.each([
    ['in chunks', 64 * 1024, 'PATCH'],
    ['whole, in the closing PUT', undefined, 'PUT'],
  ])(
    'an upload redirected to another host that takes it without credentials lands in the repository asked for (%s)',
    async (_how, chunkSize, method) => {
      const front = await proxy(env.plain.host);
      const other = await proxy(env.plain.host, '127.0.0.2');
      redirectUploadsTo(front, other);
      const repo = `regengine-redirect-${method.toLowerCase()}-${unique}`;
      const result = await pushToRegistry({
        source: new DockerArchiveSource(archive),
        repository: { registry: front.host, path: repo },
        tags: ['latest'],
        cacheDir: freshCacheDir(),
        ...(chunkSize ? { chunkSize } : {}),
      });
      expect(other.requests.filter((r) => r.method === method).length).toBeGreaterThan(0);
      if (method === 'PUT') expect(other.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
      expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
    },
  );
});

describe('registry engine, an upload cut midway', () => {
  it('resumes from the offset the registry reports instead of restarting the blob', async () => {
    const front = await proxy(env.plain.host);
    let patches = 0;
    front.decide = (req) =>
      req.method === 'PATCH' && ++patches === 2 ? { kind: 'cut', afterBytes: 20_000 } : undefined;
    const repo = `regengine-resume-${unique}`;
    const chunkSize = 64 * 1024;

    const result = await pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: front.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
      concurrency: 1,
      chunkSize,
    });

    const cut = front.requests.findIndex((r) => r.status === 'cut');
    expect(cut).toBeGreaterThan(0);
    const upload = (url: string) => url.split('?')[0];
    const sameUpload = front.requests
      .slice(cut + 1)
      .filter((r) => upload(r.url) === upload(front.requests[cut]?.url ?? ''));
    const [status, resumed] = sameUpload;
    expect(status?.method).toBe('GET');
    expect(status?.status).toBe(204);
    const reported = Number(/^0-(\d+)$/.exec(String(status?.responseHeaders.range))?.[1]) + 1;
    expect(reported).toBe(chunkSize);
    expect(resumed?.method).toBe('PATCH');
    expect(resumed?.headers['content-range']).toBe(`${reported}-${reported + chunkSize - 1}`);

    expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
    expect(await pullWithoutSource(docker, `${env.plain.host}/${repo}:latest`, { ref: sourceRef, archive })).toEqual(
      source,
    );
  });

  it('goes on in the same upload after a cut that reached the registry midway (the fault proxy of the engine suites)', async () => {
    const fault = await FaultProxy.start(env.plain.host);
    try {
      fault.setFaults([
        { method: 'PATCH', path: /\/blobs\/uploads\//, action: { kind: 'cut', afterBytes: 50_000 }, times: 1 },
      ]);
      const repo = `regengine-restart-${unique}`;
      const result = await pushToRegistry({
        source: new DockerArchiveSource(archive),
        repository: { registry: fault.host, path: repo },
        tags: ['latest'],
        cacheDir: freshCacheDir(),
        concurrency: 1,
        chunkSize: 64 * 1024,
      });
      expect(fault.requests.filter((r) => r.injected)).toHaveLength(1);
      // Two layers and the config: one upload session each, the cut one resumed rather than restarted.
      expect(fault.count('POST', /\/blobs\/uploads\/$/)).toBe(3);
      const cut = fault.requests.findIndex((r) => r.injected);
      // On the cut upload (the config's requests may come between): its status, then the rest.
      const upload = (path: string) => path.split('?')[0];
      const sameUpload = fault.requests
        .slice(cut + 1)
        .filter((r) => upload(r.path) === upload(fault.requests[cut]?.path ?? ''));
      expect(sameUpload.slice(0, 2).map((r) => [r.method, r.status])).toEqual([
        ['GET', 204],
        ['PATCH', 202],
      ]);
      expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
    } finally {
      await fault.close();
    }
  });

  it('sends a layer whole in its closing PUT, and after a cut in that PUT sends it again in a new upload', async () => {
    const fault = await FaultProxy.start(env.plain.host);
    try {
      fault.setFaults([
        {
          method: 'PUT',
          path: /\/blobs\/uploads\/.*digest=/,
          // A layer's, not the config's.
          minBytes: 200_000,
          action: { kind: 'cut', afterBytes: 100_000 },
          times: 1,
        },
      ]);
      const repo = `regengine-whole-${unique}`;
      const result = await pushToRegistry({
        source: new DockerArchiveSource(archive),
        repository: { registry: fault.host, path: repo },
        tags: ['latest'],
        cacheDir: freshCacheDir(),
        concurrency: 1,
      });
      // The layers (300 KiB each) fit in one chunk: no PATCH at all.
      expect(fault.count('PATCH', /\/blobs\/uploads\//)).toBe(0);
      const cut = fault.requests.findIndex((r) => r.injected);
      expect(cut).toBeGreaterThanOrEqual(0);
      // The blob is not there, so a new upload takes it whole (the config's requests may come between).
      const digest = decodeURIComponent(/digest=([^&]+)/.exec(fault.requests[cut]?.path ?? '')?.[1] ?? '');
      const after = fault.requests.slice(cut + 1);
      const head = after.findIndex((r) => r.method === 'HEAD' && r.path.endsWith(`/blobs/${digest}`));
      const put = after.findIndex((r) => r.method === 'PUT' && decodeURIComponent(r.path).includes(digest));
      expect(after[head]?.status).toBe(404);
      expect(after[put]?.status).toBe(201);
      expect(after.slice(head, put).some((r) => r.method === 'POST' && r.status === 202)).toBe(true);
      expect(after[put]?.path.split('?')[0]).not.toBe(fault.requests[cut]?.path.split('?')[0]);
      expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
      expect(await pullWithoutSource(docker, `${env.plain.host}/${repo}:latest`, { ref: sourceRef, archive })).toEqual(
        source,
      );
    } finally {
      await fault.close();
    }
  });

  it.each([
    ['a docker-archive', 'archive'],
    ['a local image (exported again)', 'engine'],
  ])(
    'from %s, reads a layer again and uploads it from its start when the registry drops the upload after its first chunk',
    async (_name, kind) => {
      const front = await proxy(env.plain.host);
      let patches = 0;
      front.decide = (req) =>
        req.method === 'PATCH' && ++patches === 2 ? { kind: 'cut', afterBytes: 20_000, dropUpload: true } : undefined;
      const repo = `regengine-dropped-${kind}-${unique}`;
      const exporter = dockerodeExporter(docker);
      let exports = 0;
      const result = await pushToRegistry({
        source:
          kind === 'archive'
            ? new DockerArchiveSource(archive)
            : new EngineImageSource(sourceRef, { ...exporter, export: (ref) => (exports++, exporter.export(ref)) }),
        repository: { registry: front.host, path: repo },
        tags: ['latest'],
        cacheDir: freshCacheDir(),
        concurrency: 1,
        chunkSize: 64 * 1024,
      });

      const cut = front.requests.findIndex((r) => r.status === 'cut');
      expect(cut).toBeGreaterThan(0);
      const upload = (url: string) => url.split('?')[0];
      const [status] = front.requests
        .slice(cut + 1)
        .filter((r) => upload(r.url) === upload(front.requests[cut]?.url ?? ''));
      // The registry no longer knows the upload: the layer is sent again in a new upload, from byte 0.
      expect([status?.method, status?.status]).toEqual(['GET', 404]);
      const again = front.requests.slice(cut + 1).findIndex((r) => r.method === 'POST');
      expect(front.requests[cut + 1 + again + 1]?.headers['content-range']).toBe(`0-${64 * 1024 - 1}`);
      if (kind === 'engine') expect(exports).toBe(2);

      expect(await manifestDigest(env.plain.host, repo, 'latest')).toBe(result.pushed[0]?.digest);
      expect(await pullWithoutSource(docker, `${env.plain.host}/${repo}:latest`, { ref: sourceRef, archive })).toEqual(
        source,
      );
    },
  );
});
