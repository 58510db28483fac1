import { Readable } from 'node:stream';
import { ArgumentsError } from '../errors';
import type { ImageSource, StoredImage } from '../image-source/image-source';
import { sha256Digest } from '../image-source/layer-digest';
import type { HttpClient, HttpRequest, HttpResponse } from './http-client';
import { RegistryRequestError } from './registry-errors';
import { pushToRegistry, type RegistryPushOptions } from './registry-push';

const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256Digest(config),
      size: config.length,
    },
    layers: [],
  }),
);
const stored: StoredImage = {
  kind: 'stored',
  location: 'oci:/fake',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256Digest(manifest),
      bytes: manifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [],
    },
  ],
  openBlob: () => Readable.from([config]),
};

class CountingSource implements ImageSource {
  opened = 0;
  readonly name = 'oci:/fake';
  async open() {
    this.opened++;
    return stored;
  }
}

/** A registry that takes everything: blobs are missing, uploads and manifests accepted. */
class AcceptingRegistry implements HttpClient {
  readonly sent: HttpRequest[] = [];
  constructor(private readonly stallManifests = false) {}
  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const ok = (status: number, headers: Record<string, string> = {}) => ({ status, headers, body: Buffer.alloc(0) });
    if (req.method === 'HEAD') return ok(404);
    if (req.method === 'POST') return ok(202, { location: '/v2/app/blobs/uploads/u' });
    if (req.method === 'PUT' && req.url.pathname.includes('/manifests/')) {
      if (this.stallManifests) {
        await new Promise((_resolve, reject) =>
          req.signal?.addEventListener('abort', () => reject(req.signal?.reason)),
        );
      }
      return ok(201, { 'docker-content-digest': sha256Digest(req.body as Buffer) });
    }
    return ok(req.method === 'PATCH' ? 202 : req.method === 'PUT' ? 201 : 200);
  }
}

const base = (http: HttpClient, source: ImageSource = new CountingSource()): RegistryPushOptions => ({
  source,
  repository: { registry: '127.0.0.1:5000', path: 'app' },
  tags: ['1.0'],
  cacheDir: false,
  http,
});

describe('pushToRegistry', () => {
  it('pushes blobs then the manifest under each tag, and reports the digest the registry serves', async () => {
    const http = new AcceptingRegistry();
    const result = await pushToRegistry({ ...base(http), tags: ['1.0', 'latest'] });
    expect(result).toEqual({
      engine: 'registry',
      imageId: sha256Digest(config),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      pushed: [
        { tag: '1.0', uri: '127.0.0.1:5000/app:1.0', digest: sha256Digest(manifest), size: manifest.length },
        { tag: 'latest', uri: '127.0.0.1:5000/app:latest', digest: sha256Digest(manifest), size: manifest.length },
      ],
    });
    const manifests = http.sent.filter((r) => r.url.pathname.includes('/manifests/'));
    expect(manifests.map((r) => r.headers?.['Content-Type'])).toEqual([
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    ]);
    expect(manifests.every((r) => r.body?.equals(manifest))).toBe(true);
  });

  it.each([
    [{ tags: ['bad tag'] }, 'tags: "bad tag" is not a valid tag'],
    [{ tags: [] }, 'tags: is empty: give at least one tag'],
    [{ compression: 'zstd' as const }, 'compression: zstd is not available on this Node.js'],
    [{ compressionLevel: 10 }, 'compressionLevel: 10 is not a gzip level: give 0 (store) to 9 (smallest)'],
    [{ repository: { registry: 'r', path: 'App' } }, 'repository.path: "App" is not a repository path'],
    [{ chunkSize: 10 }, 'chunkSize: 10 is not a whole number of at least 1024'],
  ])('refuses %p before opening the source or sending anything', async (bad, message) => {
    const http = new AcceptingRegistry();
    const source = new CountingSource();
    const push = pushToRegistry({ ...base(http, source), ...bad });
    await expect(push).rejects.toThrow(ArgumentsError);
    await expect(pushToRegistry({ ...base(http, source), ...bad })).rejects.toThrow(message);
    expect(source.opened).toBe(0);
    expect(http.sent).toEqual([]);
  });

  it('bounds the whole push by totalTimeoutMs', async () => {
    const push = pushToRegistry({ ...base(new AcceptingRegistry(true)), totalTimeoutMs: 300 });
    await expect(push).rejects.toThrow(RegistryRequestError);
    await expect(pushToRegistry({ ...base(new AcceptingRegistry(true)), totalTimeoutMs: 300 })).rejects.toThrow(
      'the push did not finish within 300 ms (totalTimeoutMs)',
    );
  });
});
