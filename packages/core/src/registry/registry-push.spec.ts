import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { ArgumentsError, PushFailedError, RegistryAuthError } from '../errors';
import type { PushEvent } from '../events';
import { DockerArchiveSource } from '../image-source/docker-archive-source';
import { EngineImageSource, type ImageExporter } from '../image-source/engine-image-source';
import { TarFileTree } from '../image-source/file-tree';
import type {
  ImageSource,
  LayerReading,
  StoredImage,
  StoredManifest,
  UncompressedImage,
} from '../image-source/image-source';
import { ImageSourceError } from '../image-source/image-source-error';
import { sha256Digest } from '../image-source/layer-digest';
import { bodyLength, HttpNetworkError, type HttpClient, type HttpRequest, type HttpResponse } from './http-client';
import { PushTimeLimitError, UploadLostError } from './registry-errors';
import { pushToRegistry, type RegistryPushOptions } from './registry-push';
import { openZstdCompressor, ZstdUnavailableError, type ZstdCompressor } from './zstd-compressor';
import { bodyBytes, descriptorOf, emptyOciImage } from '@dockpush/core/testing';

const { config, manifest } = emptyOciImage;
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
      return ok(201, { 'docker-content-digest': sha256Digest(bodyBytes(req.body)) });
    }
    return ok(req.method === 'PATCH' ? 202 : req.method === 'PUT' ? 201 : 200);
  }
}

/** A registry that keeps what it is sent, so that blobs can be read back and found by HEAD. */
class KeepingRegistry implements HttpClient {
  readonly sent: HttpRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  private readonly uploads = new Map<string, Buffer[]>();
  private next = 0;
  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const reply = (status: number, headers: Record<string, string> = {}) => ({
      status,
      headers,
      body: Buffer.alloc(0),
    });
    const at = req.url.pathname;
    if (req.method === 'HEAD' && at.includes('/blobs/')) {
      const blob = this.blobs.get(at.split('/').pop() as string);
      return blob ? reply(200, { 'content-length': String(blob.length) }) : reply(404);
    }
    if (req.method === 'POST') {
      const id = `u${this.next++}`;
      this.uploads.set(id, []);
      return reply(202, { location: `/v2/app/blobs/uploads/${id}` });
    }
    const id = at.split('/').pop() as string;
    // Bodies are copied, as a real registry receives them: the pusher may fill its buffers again.
    if (req.method === 'PATCH') {
      this.uploads.get(id)?.push(Buffer.from(bodyBytes(req.body)));
      return reply(202, { location: at });
    }
    if (req.method === 'PUT' && at.includes('/blobs/uploads/')) {
      const parts = this.uploads.get(id) ?? [];
      if (req.body) parts.push(Buffer.from(bodyBytes(req.body)));
      this.blobs.set(req.url.searchParams.get('digest') as string, Buffer.concat(parts));
      return reply(201);
    }
    if (req.method === 'PUT' && at.includes('/manifests/')) {
      return reply(201, { 'docker-content-digest': sha256Digest(bodyBytes(req.body)) });
    }
    return reply(200);
  }
  manifest(): { mediaType: string; config: { digest: string }; layers: { mediaType: string; digest: string }[] } {
    const put = this.sent.filter((r) => r.method === 'PUT' && r.url.pathname.includes('/manifests/')).pop();
    return JSON.parse(bodyBytes(put?.body).toString());
  }
}

/** A `KeepingRegistry` that knows which repository holds which blob, and mounts between them. */
class RepositoriesRegistry extends KeepingRegistry {
  readonly held = new Map<string, Set<string>>();
  private readonly uploadRepository = new Map<string, string>();
  private hold(repository: string, digest: string): void {
    const set = this.held.get(repository) ?? new Set<string>();
    this.held.set(repository, set.add(digest));
  }
  override async send(req: HttpRequest): Promise<HttpResponse> {
    const at = req.url.pathname;
    const repository = at.replace(/^\/v2\//, '').replace(/\/(blobs|manifests)\/.*$/, '');
    const digest = at.split('/').pop() as string;
    if (req.method === 'HEAD' && !this.held.get(repository)?.has(digest)) {
      this.sent.push(req);
      return { status: 404, headers: {}, body: Buffer.alloc(0) };
    }
    const mount = req.url.searchParams.get('mount');
    if (req.method === 'POST' && mount && this.held.get(req.url.searchParams.get('from') ?? '')?.has(mount)) {
      this.sent.push(req);
      this.hold(repository, mount);
      return { status: 201, headers: {}, body: Buffer.alloc(0) };
    }
    const response = await super.send(req);
    if (req.method === 'POST') this.uploadRepository.set(response.headers.location?.split('/').pop() ?? '', repository);
    if (req.method === 'PUT' && at.includes('/blobs/uploads/')) {
      this.hold(this.uploadRepository.get(digest) ?? '', req.url.searchParams.get('digest') as string);
    }
    return response;
  }
}

/**
 * A registry over HTTP on loopback that keeps blobs and drops the first `drops` uploads that reach
 * a second PATCH, as registry:2 does when a PATCH is cut mid-body: the connection is cut once the
 * first bytes arrive, and the upload's status is then 404.
 */
class DroppingRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests: Buffer[] = [];
  host = '';
  private readonly uploads = new Map<string, { parts: Buffer[]; patches: number; dropped: boolean }>();
  private server!: Server;

  constructor(private drops: number) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Uploads opened (POST), dropped or not. */
  get uploadCount(): number {
    return this.uploads.size;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const at = url.pathname;
    const id = /\/blobs\/uploads\/(.+)$/.exec(at)?.[1];
    const upload = id === undefined ? undefined : this.uploads.get(id);
    if (req.method === 'PATCH' && upload && !upload.dropped && ++upload.patches === 2 && this.drops > 0) {
      this.drops--;
      upload.dropped = true;
      req.once('data', () => req.socket.destroy());
      return;
    }
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const body = Buffer.concat(parts);
    const reply = (status: number, headers: Record<string, string> = {}, content?: string) =>
      void res.writeHead(status, headers).end(content);
    if (at === '/v2/') return reply(200, {}, '{}');
    if (req.method === 'HEAD' && at.includes('/blobs/sha256:')) {
      const blob = this.blobs.get(at.split('/').pop() as string);
      return blob ? reply(200, { 'content-length': String(blob.length) }) : reply(404);
    }
    if (req.method === 'POST' && at.endsWith('/blobs/uploads/')) {
      const next = `u${this.uploads.size + 1}`;
      this.uploads.set(next, { parts: [], patches: 0, dropped: false });
      return reply(202, { location: `${at}${next}`, range: '0-0' });
    }
    if (id !== undefined) {
      if (!upload || upload.dropped) {
        const unknown = { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }] };
        return reply(404, { 'content-type': 'application/json' }, JSON.stringify(unknown));
      }
      const held = () => upload.parts.reduce((n, p) => n + p.length, 0);
      if (req.method === 'PATCH') {
        upload.parts.push(body);
        return reply(202, { location: at, range: `0-${held() - 1}` });
      }
      if (req.method === 'GET') return reply(204, { location: at, range: `0-${Math.max(0, held() - 1)}` });
      if (req.method === 'DELETE') return reply(204);
      if (req.method === 'PUT') {
        const data = Buffer.concat([...upload.parts, body]);
        const digest = url.searchParams.get('digest') as string;
        if (sha256Digest(data) !== digest) return reply(400);
        this.blobs.set(digest, data);
        return reply(201, { 'docker-content-digest': digest });
      }
    }
    if (req.method === 'PUT' && at.includes('/manifests/')) {
      this.manifests.push(body);
      return reply(201, { 'docker-content-digest': sha256Digest(body) });
    }
    return reply(404);
  }
}

/** A tar member: header and padded data. */
const member = (name: string, data: Buffer): Buffer => {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write(' '.repeat(8), 148);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
};

const base = (http: HttpClient, source: ImageSource = new CountingSource()): RegistryPushOptions => ({
  source,
  repository: { registry: '127.0.0.1:5000', path: 'app' },
  tags: ['1.0'],
  cacheDir: false,
  http,
});

/**
 * An image of one layer whose bytes the source holds uncompressed, its config given up front;
 * `reading(layer)` is what the source hands over for it (its stream, and a `recycle`).
 */
function oneLayerImage(
  layer: Buffer,
  reading: () => Omit<LayerReading, 'expectedDiffId'> = () => ({ stream: Readable.from([layer]) }),
): UncompressedImage {
  const diffId = sha256Digest(layer);
  const imageConfig = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [diffId] } }));
  return {
    kind: 'uncompressed',
    location: 'app:1',
    configDigest: sha256Digest(imageConfig),
    diffIds: [diffId],
    config: imageConfig,
    readLayers: async (_wanted, visit) => {
      await visit({ expectedDiffId: diffId, ...reading() } as LayerReading);
      return imageConfig;
    },
  };
}

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
    expect(manifests.every((r) => bodyBytes(r.body).equals(manifest))).toBe(true);
  });

  it('pushes an artifact an index lists (an attestation: its config no image config) as stored, beside the image', async () => {
    const artifactConfig = Buffer.from('{}');
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.in-toto+json',
        config: descriptorOf('application/vnd.oci.empty.v1+json', artifactConfig),
        layers: [descriptorOf('application/vnd.in-toto+json', statement)],
      }),
    );
    const image = stored.manifests[0] as StoredManifest;
    const artifactManifest: StoredManifest = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256Digest(artifact),
      bytes: artifact,
      config: descriptorOf('application/vnd.oci.empty.v1+json', artifactConfig),
      layers: [descriptorOf('application/vnd.in-toto+json', statement)],
    };
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [descriptorOf(image.mediaType, image.bytes), descriptorOf(artifactManifest.mediaType, artifact)],
      }),
    );
    const blobs = new Map([
      [sha256Digest(config), config],
      [sha256Digest(artifactConfig), artifactConfig],
      [sha256Digest(statement), statement],
    ]);
    const withArtifact: StoredImage = {
      kind: 'stored',
      location: 'oci:/fake',
      index: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256Digest(index), bytes: index },
      manifests: [image, artifactManifest],
      openBlob: (digest) => Readable.from([blobs.get(digest) as Buffer]),
    };
    const http = new KeepingRegistry();
    const result = await pushToRegistry(base(http, { name: 'oci:/fake', open: async () => withArtifact }));
    expect(result.pushed[0]?.digest).toBe(sha256Digest(index));
    expect(http.blobs.get(sha256Digest(statement))).toEqual(statement);
    expect(http.blobs.get(sha256Digest(artifactConfig))).toEqual(artifactConfig);
    const manifestPuts = http.sent.filter((r) => r.method === 'PUT' && r.url.pathname.includes('/manifests/'));
    expect(manifestPuts.map((r) => r.url.pathname.split('/').pop())).toEqual([
      image.digest,
      sha256Digest(artifact),
      '1.0',
    ]);
  });

  it('sends a blob of many chunks whole, its two buffers filled again in turn', async () => {
    const layer = randomBytes(20_000);
    const http = new KeepingRegistry();
    const image = oneLayerImage(layer, () => ({
      stream: Readable.from([layer.subarray(0, 7_000), layer.subarray(7_000)]),
    }));
    await pushToRegistry({
      ...base(http, { name: 'app:1', open: async () => image }),
      chunkSize: 1024,
      compressionLevel: 0,
    });
    const patches = http.sent.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(10);
    const blob = http.blobs.get(http.manifest().layers[0]?.digest as string) as Buffer;
    expect(gunzipSync(blob).equals(layer)).toBe(true);
  });

  it('sends a blob that fits in one chunk in the closing PUT, and opens its upload while the layer is read', async () => {
    const layer = randomBytes(3_000);
    const keeping = new KeepingRegistry();
    let layerRead = false;
    const postsAnsweredAfterRead: boolean[] = [];
    const http: HttpClient = {
      send: async (req) => {
        // Uploads are opened only once the layer was read (or after a bound): a push that reads
        // the layer only after its upload is open finds the bound.
        if (req.method === 'POST') {
          for (const started = Date.now(); !layerRead && Date.now() - started < 1000;) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          postsAnsweredAfterRead.push(layerRead);
        }
        return keeping.send(req);
      },
    };
    const image = oneLayerImage(layer, () => ({
      stream: (async function* () {
        yield layer;
        layerRead = true;
      })(),
    }));
    const events: PushEvent[] = [];
    await pushToRegistry({
      ...base(http, { name: 'app:1', open: async () => image }),
      compressionLevel: 1,
      emit: (e) => events.push(e),
    });
    const digest = keeping.manifest().layers[0]?.digest as string;
    // Its bytes all count as sent once the PUT is answered, before the layer is pushed.
    const states = events.flatMap((e) => (e.type === 'layer' ? [[e.state, e.current]] : []));
    expect(states.slice(-2)).toEqual([
      ['pushing', keeping.blobs.get(digest)?.length],
      ['pushed', undefined],
    ]);
    expect(gunzipSync(keeping.blobs.get(digest) as Buffer).equals(layer)).toBe(true);
    expect(keeping.sent.filter((r) => r.method === 'PATCH')).toEqual([]);
    const put = keeping.sent.find((r) => r.method === 'PUT' && r.url.searchParams.get('digest') === digest);
    expect(bodyBytes(put?.body).length).toBe(keeping.blobs.get(digest)?.length);
    // The config's upload and the layer's, both opened while the layer was read.
    expect(postsAnsweredAfterRead).toEqual([true, true]);
  });

  it.each([
    ['in chunks', 1024 * 1024],
    ['whole, in the closing PUT', undefined],
  ])(
    'hands a stored block back to its source only once the request carrying it was answered (%s)',
    async (_how, chunkSize) => {
      // Random bytes are stored, not compressed: the blob is made of the source's own chunks.
      const layer = randomBytes(3 * 1024 * 1024);
      const keeping = new KeepingRegistry();
      // A registry that reads a body only just before it answers, as a socket may still be
      // sending it until then: a chunk handed back (and refilled) earlier would arrive as zeros.
      const http: HttpClient = {
        send: async (req) => {
          if (req.body && bodyLength(req.body) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
          return keeping.send(req);
        },
      };
      let handedBack = 0;
      const image = oneLayerImage(layer, () => ({
        stream: Readable.from(
          [0, 1, 2].map((i) => Buffer.from(layer.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))),
        ),
        recycle: (chunk: Buffer) => {
          handedBack++;
          chunk.fill(0);
        },
      }));
      await pushToRegistry({
        ...base(http, { name: 'app:1', open: async () => image }),
        ...(chunkSize ? { chunkSize } : { chunkSize: 8 * 1024 * 1024 }),
      });
      expect(handedBack).toBe(3);
      const blob = keeping.blobs.get(keeping.manifest().layers[0]?.digest as string) as Buffer;
      expect(gunzipSync(blob).equals(layer)).toBe(true);
    },
  );

  it('sends a whole blob again in a new upload when its closing PUT fails on the way', async () => {
    const keeping = new KeepingRegistry();
    const puts: string[] = [];
    const http: HttpClient = {
      send: async (req) => {
        if (req.method === 'PUT' && req.url.pathname.includes('/blobs/uploads/')) {
          puts.push(req.url.pathname);
          if (puts.length === 1) throw new HttpNetworkError('socket hang up', 'network');
        }
        return keeping.send(req);
      },
    };
    await pushToRegistry({ ...base(http), retries: 2 });
    // The upload the failed PUT went to is not used again: a new one is opened.
    expect(puts).toEqual(['/v2/app/blobs/uploads/u0', '/v2/app/blobs/uploads/u1']);
    expect(keeping.blobs.get(sha256Digest(config))?.equals(config)).toBe(true);
  });

  it('a layer whose upload fails ends the push at once: the uploads of the others are stopped, not left running, and its DELETE not waited for', async () => {
    const a = Buffer.from('AAAA'.repeat(1000));
    const b = Buffer.from('BBBB'.repeat(1000));
    const imageConfig = Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256Digest(a), sha256Digest(b)] } }),
    );
    let stopped = false;
    const http: HttpClient = {
      send: async (req) => {
        const reply = (status: number, headers: Record<string, string> = {}) => ({
          status,
          headers,
          body: Buffer.alloc(0),
        });
        if (req.method === 'HEAD') return reply(404);
        if (req.method === 'POST') return reply(202, { location: `/v2/app/blobs/uploads/${Math.random()}` });
        // Each layer fits in one chunk, so its bytes go in the closing PUT.
        if (req.method === 'PUT' && bodyBytes(req.body).includes('AAAA')) return reply(400);
        if (req.method === 'PUT' && bodyBytes(req.body).includes('BBBB')) {
          // B's upload answers only when stopped (or after 10 s, failing the test's bound).
          await new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, 10_000);
            req.signal?.addEventListener('abort', () => {
              stopped = true;
              clearTimeout(timer);
              reject(req.signal?.reason);
            });
          });
          return reply(202);
        }
        // The failed upload's DELETE is never answered: the push does not wait for it.
        if (req.method === 'DELETE') {
          await new Promise((_resolve, reject) =>
            req.signal?.addEventListener('abort', () => reject(req.signal?.reason)),
          );
        }
        return reply(201);
      },
    };
    const image: UncompressedImage = {
      kind: 'uncompressed',
      location: 'app:1',
      configDigest: sha256Digest(imageConfig),
      diffIds: [sha256Digest(a), sha256Digest(b)],
      readLayers: async (_wanted, visit) => {
        await Promise.all([
          visit({ expectedDiffId: sha256Digest(a), stream: Readable.from([a]) }),
          visit({ expectedDiffId: sha256Digest(b), stream: Readable.from([b]) }),
        ]);
        return imageConfig;
      },
    };
    const started = Date.now();
    await expect(
      pushToRegistry({ ...base(http, { name: 'app:1', open: async () => image }), compressionLevel: 0, retries: 0 }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(true);
  });

  it('checks the registry while the source opens', async () => {
    const http = new AcceptingRegistry();
    const source: ImageSource = {
      name: 'oci:/fake',
      open: async () => {
        // Opened only once the registry check is out: a push that checks after opening never gets here.
        for (let waited = 0; !http.sent.some((r) => r.url.pathname === '/v2/'); waited += 10) {
          if (waited > 2000) throw new Error('the registry was not checked while the source opened');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return stored;
      },
    };
    await expect(pushToRegistry(base(http, source))).resolves.toMatchObject({ imageId: sha256Digest(config) });
  });

  it('a source that cannot be opened: its error, and no token asked for while the registry was checked', async () => {
    const sent: HttpRequest[] = [];
    const tokenAuth: HttpClient = {
      send: async (req) => {
        sent.push(req);
        if (req.url.pathname === '/v2/') {
          return {
            status: 401,
            headers: { 'www-authenticate': 'Bearer realm="http://127.0.0.1:5001/token",service="registry"' },
            body: Buffer.alloc(0),
          };
        }
        return { status: 200, headers: {}, body: Buffer.from('{"token":"t"}') };
      },
    };
    const missing: ImageSource = {
      name: 'oci:/missing',
      open: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new ImageSourceError('oci:/missing', 'it does not exist');
      },
    };
    await expect(pushToRegistry(base(tokenAuth, missing))).rejects.toThrow('it does not exist');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The registry check alone, over plain HTTP (a loopback registry that answers it as a registry).
    expect(sent.map((r) => `${r.url.protocol}${r.url.pathname}`)).toEqual(['http:/v2/']);
  });

  it('uploads a config the source gives up front beside the layers, not after them', async () => {
    const layer = Buffer.from('a layer that waits for the config');
    const diffId = sha256Digest(layer);
    const imageConfig = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const configDigest = sha256Digest(imageConfig);
    let configSeen = () => {};
    const configUploaded = new Promise<void>((resolve) => (configSeen = resolve));
    class Watching extends KeepingRegistry {
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.url.searchParams.get('digest') === configDigest) configSeen();
        return super.send(req);
      }
    }
    const http = new Watching();
    const image: UncompressedImage = {
      kind: 'uncompressed',
      location: 'app:1',
      configDigest,
      diffIds: [diffId],
      config: imageConfig,
      readLayers: async (_wanted, visit) => {
        // The layer is handed over only once the config is in: a push that waits for the layers first never ends.
        const waited = await Promise.race([
          configUploaded.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
        ]);
        if (!waited) throw new Error('the config was not uploaded while the layers were read');
        await visit({ expectedDiffId: diffId, stream: Readable.from([layer]) });
        return imageConfig;
      },
    };
    const source: ImageSource = { name: 'app:1', open: async () => image };
    const result = await pushToRegistry({ ...base(http, source), tags: ['1'] });
    expect(result.imageId).toBe(configDigest);
    expect(http.blobs.get(configDigest)).toEqual(imageConfig);
  });

  it.each([
    [undefined, 4],
    [10, 10],
    [1, 1],
  ])('writes the manifests of tagsAtOnce (%p) tags at once, default 4', async (tagsAtOnce, expected) => {
    let inFlight = 0;
    let most = 0;
    class SlowManifests extends AcceptingRegistry {
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.method !== 'PUT' || !req.url.pathname.includes('/manifests/')) return super.send(req);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return super.send(req);
      }
    }
    const tags = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const result = await pushToRegistry({
      ...base(new SlowManifests()),
      tags,
      ...(tagsAtOnce !== undefined ? { tagsAtOnce } : {}),
    });
    expect(result.pushed.map((p) => p.tag)).toEqual(tags);
    expect(most).toBe(expected);
  });

  it.each([
    [{ tags: ['bad tag'] }, 'tags: "bad tag" is not a valid tag'],
    [{ tags: [] }, 'tags: is empty: give at least one tag'],
    [{ compression: 'lz4' as 'gzip' }, 'compression: "lz4" is not gzip or zstd'],
    [{ compressionLevel: 10 }, 'compressionLevel: 10 is not a gzip level: give 0 (store) to 9 (smallest)'],
    [{ compression: 'gzip' as const, compressionLevel: 1.5 }, 'compressionLevel: 1.5 is not a gzip level'],
    [
      { compression: 'zstd' as const, compressionLevel: 0 },
      'compressionLevel: 0 is not a zstd level: give 1 (fastest) to 19 (smallest)',
    ],
    [{ compression: 'zstd' as const, compressionLevel: 20 }, 'compressionLevel: 20 is not a zstd level: give 1'],
    [{ repository: { registry: 'r', path: 'App' } }, 'repository.path: "App" is not a repository path'],
    [{ chunkSize: 10 }, 'chunkSize: 10 is not a whole number of at least 1024'],
    [{ tagsAtOnce: 0 }, 'tagsAtOnce: 0 is not a whole number of at least 1'],
  ])('refuses %p before opening the source or sending anything', async (bad, message) => {
    const http = new AcceptingRegistry();
    const source = new CountingSource();
    const push = pushToRegistry({ ...base(http, source), ...bad });
    await expect(push).rejects.toThrow(ArgumentsError);
    await expect(pushToRegistry({ ...base(http, source), ...bad })).rejects.toThrow(message);
    expect(source.opened).toBe(0);
    expect(http.sent).toEqual([]);
  });

  it("retries a tag's manifest after a 503, saying so (tag-retrying) and counting the attempts", async () => {
    class BusyOnce extends AcceptingRegistry {
      busy = 1;
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.method === 'PUT' && req.url.pathname.endsWith('/manifests/1.0') && this.busy-- > 0) {
          this.sent.push(req);
          return {
            status: 503,
            headers: {},
            body: Buffer.from('{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}'),
          };
        }
        return super.send(req);
      }
    }
    const events: PushEvent[] = [];
    const result = await pushToRegistry({ ...base(new BusyOnce()), emit: (e) => events.push(e) });
    expect(result.pushed.map((p) => p.tag)).toEqual(['1.0']);
    const retrying = events.filter((e) => e.type === 'tag-retrying');
    expect(retrying).toEqual([
      expect.objectContaining({ tag: '1.0', attempt: 1, reason: expect.stringContaining('503') }),
    ]);
  });

  it("tells when the registry reports another digest than the manifest sent, and reports the registry's", async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    class OtherDigest extends AcceptingRegistry {
      override async send(req: HttpRequest): Promise<HttpResponse> {
        const answer = await super.send(req);
        return req.method === 'PUT' && req.url.pathname.includes('/manifests/')
          ? { ...answer, headers: { 'docker-content-digest': other } }
          : answer;
      }
    }
    const events: PushEvent[] = [];
    const result = await pushToRegistry({ ...base(new OtherDigest()), emit: (e) => events.push(e) });
    expect(result.pushed[0]?.digest).toBe(other);
    expect(events).toContainEqual({
      type: 'notice',
      message: expect.stringContaining(`reports ${other} for the manifest of 1.0, which dockpush sent as sha256:`),
    });
  });

  it('pushes over plain HTTP to a registry marked insecure in DOCKPUSH_INSECURE_REGISTRIES, and only then', async () => {
    /** A registry on another host that serves plain HTTP only. */
    class PlainHttpOnly extends AcceptingRegistry {
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.url.protocol === 'https:') throw new HttpNetworkError('wrong version number', 'tls');
        return super.send(req);
      }
    }
    const options = { repository: { registry: 'reg.lan:5000', path: 'app' } };
    const http = new PlainHttpOnly();
    const result = await pushToRegistry({
      ...base(http),
      ...options,
      env: { DOCKPUSH_INSECURE_REGISTRIES: 'reg.lan:5000' },
    });
    expect(result.pushed.map((p) => p.tag)).toEqual(['1.0']);
    expect(http.sent.some((req) => req.method === 'PUT' && req.url.protocol === 'http:')).toBe(true);
    await expect(pushToRegistry({ ...base(new PlainHttpOnly()), ...options, env: {} })).rejects.toThrow(
      /if it serves plain HTTP, list it in the Docker engine's insecure-registries/,
    );
  });

  it('bounds the whole push by totalTimeoutMs: each tag not in the registry by then fails saying so', async () => {
    // Two manifests at once: the first two are cut by the bound, the other three never start.
    const events: PushEvent[] = [];
    const tags = ['1', '2', '3', '4', '5'];
    const options = { ...base(new AcceptingRegistry(true)), tags, tagsAtOnce: 2, totalTimeoutMs: 300 };
    const error = await pushToRegistry({ ...options, emit: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushFailedError);
    const outcomes = (error as PushFailedError).outcomes;
    expect(outcomes.map((o) => [o.tag, o.status])).toEqual(tags.map((t) => [t, 'failed']));
    for (const outcome of outcomes) {
      expect(outcome.status === 'failed' && outcome.error).toContain(
        "the push did not finish within 300 ms, the registry engine's bound on a whole push",
      );
    }
    expect(events.filter((e) => e.type === 'tag-failed').map((e) => e.type === 'tag-failed' && e.tag)).toEqual(
      expect.arrayContaining(tags),
    );
  });

  it('bounds the upload too: PushTimeLimitError, and every tag reported failed (a cancellation reports none)', async () => {
    /** A registry that never answers the start of an upload. */
    class StallingUploads extends AcceptingRegistry {
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.method !== 'POST') return super.send(req);
        return new Promise((_resolve, reject) =>
          req.signal?.addEventListener('abort', () => reject(req.signal?.reason)),
        );
      }
    }
    const events: PushEvent[] = [];
    const tags = ['1', '2'];
    const options = { ...base(new StallingUploads()), tags, emit: (e: PushEvent) => events.push(e) };
    const error = await pushToRegistry({ ...options, totalTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushTimeLimitError);
    expect((error as Error).message).toContain('the push did not finish within 300 ms');
    expect(events.filter((e) => e.type === 'tag-failed')).toHaveLength(2);

    events.length = 0;
    const cancelled = await pushToRegistry({ ...options, signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect(cancelled).not.toBeInstanceOf(PushTimeLimitError);
    expect(events.filter((e) => e.type === 'tag-failed')).toEqual([]);
  });

  it("shares a bound already running (the engine's other images of the run used some of it), and names its length", async () => {
    const totalTime = AbortSignal.timeout(200);
    const push = pushToRegistry({ ...base(new AcceptingRegistry(true)), totalTime, totalTimeoutMs: 30 * 60_000 });
    await expect(push).rejects.toThrow(
      "the push did not finish within 30 min, the registry engine's bound on a whole push",
    );
  });

  describe('when the registry refuses the manifest', () => {
    class RefusingManifests extends AcceptingRegistry {
      constructor(
        private readonly status: number,
        private readonly code: string,
      ) {
        super();
      }
      override async send(req: HttpRequest): Promise<HttpResponse> {
        if (req.method === 'PUT' && req.url.pathname.includes('/manifests/')) {
          this.sent.push(req);
          const body = Buffer.from(JSON.stringify({ errors: [{ code: this.code, message: 'refused' }] }));
          return { status: this.status, headers: {}, body };
        }
        return super.send(req);
      }
    }

    it('fails with RegistryAuthError on a 401, as anywhere else in the push', async () => {
      const push = pushToRegistry(base(new RefusingManifests(401, 'UNAUTHORIZED')));
      await expect(push).rejects.toThrow(RegistryAuthError);
      await expect(push).rejects.toThrow(/refused anonymous access for manifest 1\.0 \(UNAUTHORIZED: refused\)/);
    });

    it.each([
      [403, 'DENIED'],
      [400, 'MANIFEST_INVALID'],
    ])("fails the tag with PushFailedError on a %d, keeping the registry's reason", async (status, code) => {
      const push = pushToRegistry(base(new RefusingManifests(status, code)));
      await expect(push).rejects.toThrow(PushFailedError);
      await expect(push).rejects.toThrow(new RegExp(`${code}: refused`));
    });
  });

  describe('with zstd', () => {
    const layerA = Buffer.from('a zstd layer of text '.repeat(300_000));
    const layerB = Buffer.from('another layer '.repeat(1_000));
    const imageConfig = Buffer.from(
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256Digest(layerA), sha256Digest(layerB)] } }),
    );
    const image: UncompressedImage = {
      kind: 'uncompressed',
      location: 'docker-archive:/fake.tar',
      configDigest: sha256Digest(imageConfig),
      diffIds: [sha256Digest(layerA), sha256Digest(layerB)],
      config: imageConfig,
      readLayers: async (wanted, visit) => {
        for (const layer of [layerA, layerB]) {
          if (!wanted.has(sha256Digest(layer))) continue;
          await visit({
            expectedDiffId: sha256Digest(layer),
            size: layer.length,
            stream: Readable.from([layer.subarray(0, 1000), layer.subarray(1000)]),
          });
        }
        return imageConfig;
      },
    };
    const source: ImageSource = { name: 'docker-archive:/fake.tar', open: async () => image };

    /** The real compressor, watched: how many were opened and closed. */
    const watched = () => {
      const counts = { opened: 0, closed: 0 };
      const open = async (): Promise<ZstdCompressor> => {
        const real = await openZstdCompressor({ threads: 2 });
        counts.opened++;
        return {
          kind: real.kind,
          parallel: real.parallel,
          compress: (block, level) => real.compress(block, level),
          close: async () => {
            counts.closed++;
            await real.close();
          },
        };
      };
      return { counts, open };
    };

    it('pushes zstd layers in an OCI manifest that keeps the image ID, and ends its worker threads', async () => {
      const http = new KeepingRegistry();
      const { counts, open } = watched();
      const result = await pushToRegistry({ ...base(http, source), compression: 'zstd', openZstd: open });
      expect(result.imageId).toBe(sha256Digest(imageConfig));
      expect(result.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      const manifest = http.manifest();
      expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(manifest.config.digest).toBe(sha256Digest(imageConfig));
      expect(manifest.layers.map((l) => l.mediaType)).toEqual([
        'application/vnd.oci.image.layer.v1.tar+zstd',
        'application/vnd.oci.image.layer.v1.tar+zstd',
      ]);
      manifest.layers.forEach((l, i) => {
        const blob = http.blobs.get(l.digest) as Buffer;
        expect(sha256Digest(blob)).toBe(l.digest);
        expect(Buffer.from(zstdDecompress(blob)).equals([layerA, layerB][i] as Buffer)).toBe(true);
      });
      expect(counts).toEqual({ opened: 1, closed: 1 });
    }, 30_000);

    it('ends its worker threads when the push fails', async () => {
      const { counts, open } = watched();
      const failing: HttpClient = { send: async () => ({ status: 500, headers: {}, body: Buffer.alloc(0) }) };
      await expect(
        pushToRegistry({ ...base(failing, source), compression: 'zstd', openZstd: open, retries: 0 }),
      ).rejects.toThrow();
      expect(counts).toEqual({ opened: 1, closed: 1 });
    }, 30_000);

    it('keys the blob info cache by compression and level, so gzip and zstd results never mix', async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
      const http = new KeepingRegistry();
      // The same level as zstd's default: only the compression tells the two apart.
      await pushToRegistry({ ...base(http, source), cacheDir, compressionLevel: 3 });
      const gzipManifest = http.manifest();
      expect(gzipManifest.layers.map((l) => l.mediaType)).toEqual([
        'application/vnd.docker.image.rootfs.diff.tar.gzip',
        'application/vnd.docker.image.rootfs.diff.tar.gzip',
      ]);
      expect(gunzipSync(http.blobs.get(gzipManifest.layers[0]?.digest as string) as Buffer).equals(layerA)).toBe(true);

      await pushToRegistry({ ...base(http, source), cacheDir, compression: 'zstd' });
      const zstdManifest = http.manifest();
      const zstdDigests = zstdManifest.layers.map((l) => l.digest);
      expect(zstdDigests).not.toContain(gzipManifest.layers[0]?.digest);
      expect(Buffer.from(zstdDecompress(http.blobs.get(zstdDigests[0] as string) as Buffer)).equals(layerA)).toBe(true);

      // A re-push at the same compression and level reuses what the cache knows: nothing is uploaded.
      const before = http.sent.filter((r) => r.method === 'PATCH').length;
      await pushToRegistry({ ...base(http, source), cacheDir, compression: 'zstd' });
      expect(http.manifest().layers.map((l) => l.digest)).toEqual(zstdDigests);
      expect(http.sent.filter((r) => r.method === 'PATCH').length).toBe(before);

      // Another level is another blob.
      await pushToRegistry({ ...base(http, source), cacheDir, compression: 'zstd', compressionLevel: 9 });
      expect(http.manifest().layers[0]?.digest).not.toBe(zstdDigests[0]);
    }, 60_000);

    it('reports each layer once, under the first tag, however many tags are pushed', async () => {
      const http = new KeepingRegistry();
      const events: PushEvent[] = [];
      await pushToRegistry({ ...base(http, source), tags: ['1.0', 'latest', 'stable'], emit: (e) => events.push(e) });
      const layerEvents = events.filter((e) => e.type === 'layer');
      expect(layerEvents.length).toBeGreaterThan(0);
      expect(new Set(layerEvents.map((e) => e.tag))).toEqual(new Set(['1.0']));
      const pushed = layerEvents.filter((e) => e.type === 'layer' && e.state === 'pushed');
      expect(pushed.map((e) => e.type === 'layer' && e.layer)).toEqual(
        expect.arrayContaining([sha256Digest(layerA).slice(7, 19), sha256Digest(layerB).slice(7, 19)]),
      );
      expect(pushed).toHaveLength(2);
      // Every tag still starts and finishes.
      expect(events.filter((e) => e.type === 'tag-done').map((e) => e.tag)).toEqual(
        expect.arrayContaining(['1.0', 'latest', 'stable']),
      );
    });

    it('fails before anything is sent when zstd cannot load', async () => {
      const http = new KeepingRegistry();
      let opened = 0;
      const push = pushToRegistry({
        ...base(http, { name: 'docker-archive:/fake.tar', open: async () => (opened++, image) }),
        compression: 'zstd',
        openZstd: () => openZstdCompressor({ zlib: {}, wasmModulePath: '/nonexistent/zstd-wasm.js' }),
      });
      await expect(push).rejects.toThrow(ZstdUnavailableError);
      await expect(push).rejects.toThrow(/did not load: .*use compression: 'gzip' \(the default\)/s);
      expect(http.sent).toEqual([]);
      expect(opened).toBe(0);
    });
  });

  describe('from the engine export', () => {
    /** Distinct bytes, so that every layer compresses to a blob of its own. */
    const layer = (seed: string, size: number) => {
      const out = Buffer.alloc(size);
      for (let at = 0, n = 0; at < size; n++) at += out.write(`${seed}-${n};`, at);
      return out;
    };

    interface Export {
      id: string;
      diffIds: string[];
      exporter: ImageExporter;
      /** Bytes the push pulled from each export, and whether it was closed before its end. */
      reads: { pulled: number; total: number; destroyed: boolean }[];
    }

    /**
     * An engine whose export is a `docker save` tar in Docker 20.10's format (layers named by
     * legacy IDs), or in the OCI format of later engines (`blobs/sha256/<diffID>`), members in
     * the given order.
     */
    const engine = (
      layers: Buffer[],
      order: ('config' | number)[],
      { oci = false, config: configOverride }: { oci?: boolean; config?: Buffer } = {},
    ): Export => {
      const diffIds = layers.map((l) => sha256Digest(l));
      const config =
        configOverride ??
        Buffer.from(JSON.stringify({ architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds } }));
      const id = sha256Digest(config);
      const hex = id.slice(7);
      const names = layers.map((l, i) => (oci ? `blobs/sha256/${diffIds[i]?.slice(7)}` : `legacy${i}/layer.tar`));
      const configName = oci ? `blobs/sha256/${hex}` : `${hex}.json`;
      const tar = Buffer.concat([
        ...order.map((m) =>
          m === 'config' ? member(configName, config) : member(names[m] as string, layers[m] as Buffer),
        ),
        member('manifest.json', Buffer.from(JSON.stringify([{ Config: configName, Layers: names }]))),
        Buffer.alloc(1024),
      ]);
      const reads: Export['reads'] = [];
      const exporter: ImageExporter = {
        inspect: async () => ({ Id: id, RootFS: { Layers: diffIds } }),
        export: async () => {
          const read = { pulled: 0, total: tar.length, destroyed: false };
          reads.push(read);
          let at = 0;
          const stream = new Readable({
            highWaterMark: 16 * 1024,
            read() {
              const piece = tar.subarray(at, at + 16 * 1024);
              at += piece.length;
              read.pulled = at;
              this.push(piece.length ? piece : null);
            },
            destroy(error, callback) {
              read.destroyed = at < tar.length;
              callback(error);
            },
          });
          return stream;
        },
      };
      return { id, diffIds, exporter, reads };
    };

    const push = (http: KeepingRegistry, image: Export, cacheDir: string, repository = 'app') =>
      pushToRegistry({
        ...base(http, new EngineImageSource('app:1', image.exporter)),
        repository: { registry: '127.0.0.1:5000', path: repository },
        cacheDir,
      });
    const uploads = (http: KeepingRegistry) => http.sent.filter((r) => r.method === 'POST').length;
    const layerBlobs = (http: KeepingRegistry) => http.manifest().layers.map((l) => http.blobs.get(l.digest) as Buffer);

    const base0 = layer('base', 200_000);
    const middle = layer('middle', 100_000);
    const top1 = layer('top one', 40_000);
    const top2 = layer('top two', 50_000);

    it.each([
      ['Docker 20.10 (legacy layer names)', false],
      ['OCI (layers named by diffID)', true],
    ])(
      'in the %s format, reads only the changed layer and closes the export once it and the config are read',
      async (_format, oci) => {
        const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
        const http = new KeepingRegistry();
        const first = engine([base0, middle, top1], ['config', 0, 1, 2], { oci });
        await push(http, first, cacheDir);
        expect(first.reads).toEqual([expect.objectContaining({ destroyed: false })]);
        expect(uploads(http)).toBe(4);

        // The top layer changed; the export holds it before the two layers the registry has.
        const second = engine([base0, middle, top2], ['config', 2, 0, 1], { oci });
        const before = uploads(http);
        const result = await push(http, second, cacheDir);
        expect(result.imageId).toBe(second.id);
        // The config and the new layer uploaded, nothing else.
        expect(uploads(http) - before).toBe(2);
        expect(second.reads).toHaveLength(1);
        const read = second.reads[0] as Export['reads'][number];
        expect(read.destroyed).toBe(true);
        expect(read.pulled).toBeLessThan(read.total - base0.length);
        expect(layerBlobs(http).map((b) => gunzipSync(b))).toEqual([base0, middle, top2]);
      },
      30_000,
    );

    it('needs no export at all when the registry has every layer and the config', async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
      const http = new KeepingRegistry();
      const image = engine([base0, top1], ['config', 0, 1]);
      await push(http, image, cacheDir);
      await push(http, image, cacheDir);
      expect(image.reads).toHaveLength(1);
    });

    it('to a second repository: mounts every blob (no HEAD before), reads no export, uploads nothing', async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
      const http = new RepositoriesRegistry();
      const image = engine([base0, top1], ['config', 0, 1]);
      await push(http, image, cacheDir);
      const before = http.sent.length;
      const result = await push(http, image, cacheDir, 'other');
      expect(result.imageId).toBe(image.id);
      expect(image.reads).toHaveLength(1);
      const second = http.sent.slice(before).filter((r) => r.url.pathname.includes('/blobs/'));
      const digests = [
        ...new Set(second.map((r) => r.url.searchParams.get('mount') ?? r.url.pathname.split('/').pop())),
      ];
      expect(digests).toHaveLength(3);
      for (const digest of digests) {
        const about = second.filter(
          (r) => r.url.pathname.endsWith(digest as string) || r.url.searchParams.get('mount') === digest,
        );
        expect(about.map((r) => `${r.method} ${r.url.searchParams.get('from') ?? ''}`)).toEqual(['POST app', 'HEAD ']);
      }
      expect([...(http.held.get('other') ?? [])].sort()).toEqual([...(http.held.get('app') ?? [])].sort());
    });

    it('reads and uploads a layer the cache says the registry has but which it lost', async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
      const http = new KeepingRegistry();
      await push(http, engine([base0, middle, top1], ['config', 0, 1, 2]), cacheDir);
      const lost = http.manifest().layers[0]?.digest as string;
      http.blobs.delete(lost);

      const second = engine([base0, middle, top2], ['config', 2, 1, 0]);
      await push(http, second, cacheDir);
      expect(http.blobs.has(lost)).toBe(true);
      expect(layerBlobs(http).map((b) => gunzipSync(b))).toEqual([base0, middle, top2]);
    }, 30_000);

    it('reads the export again when a changed layer has the size of one the registry has', async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'));
      const http = new KeepingRegistry();
      await push(http, engine([base0, top1], ['config', 0, 1]), cacheDir);
      // Both layers of the new image have the size of the one the registry has: both are passed
      // over on the first reading, and the second reads the new one.
      const sameSize = layer('other base', base0.length);
      const second = engine([base0, sameSize], ['config', 0, 1]);
      await push(http, second, cacheDir);
      expect(second.reads).toHaveLength(2);
      expect(layerBlobs(http).map((b) => gunzipSync(b))).toEqual([base0, sameSize]);
    }, 30_000);

    it('refuses an export whose config lists other layers than the engine reported, even when it stops early', async () => {
      const http = new KeepingRegistry();
      const wrong = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256Digest(middle)] } }));
      const image = engine([top1], ['config', 0], { config: wrong });
      const pushed = push(http, image, mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-')));
      await expect(pushed).rejects.toThrow(ImageSourceError);
      await expect(pushed).rejects.toThrow(/lists other layers than the engine reported/);
      expect(http.sent.filter((r) => r.url.pathname.includes('/manifests/'))).toEqual([]);
    });

    describe('when the registry drops an upload after its first chunk', () => {
      // Incompressible, so that its blob takes many chunks, and larger than what the compressor reads
      // ahead (4 blocks of 1 MiB), so that the drop leaves it read partway; the small layer takes one
      // chunk. The export holds the big one first: after the drop, it must go on to the next.
      const big = randomBytes(8 * 1024 * 1024);
      const small = layer('small', 5_000);
      const registries: DroppingRegistry[] = [];
      const registry = async (drops: number) => {
        const started = await new DroppingRegistry(drops).start();
        registries.push(started);
        return started;
      };
      afterEach(async () => {
        await Promise.all(registries.splice(0).map((r) => r.stop()));
      });
      const pushTo = (target: DroppingRegistry, image: Export, emit?: (event: PushEvent) => void) =>
        pushToRegistry({
          source: new EngineImageSource('app:1', image.exporter),
          repository: { registry: target.host, path: 'app' },
          tags: ['1.0'],
          cacheDir: false,
          chunkSize: 64 * 1024,
          concurrency: 1,
          emit,
        });

      it.each([
        ['Docker 20.10 (legacy layer names)', false],
        ['OCI (layers named by diffID)', true],
      ])(
        'in the %s format, exports the image again and uploads the dropped layer from its start, once',
        async (_format, oci) => {
          const fresh = await registry(0);
          await pushTo(fresh, engine([small, big], ['config', 1, 0], { oci }));

          const dropping = await registry(1);
          const image = engine([small, big], ['config', 1, 0], { oci });
          const events: PushEvent[] = [];
          const result = await pushTo(dropping, image, (e) => events.push(e));

          expect(result.imageId).toBe(image.id);
          expect(image.reads).toHaveLength(2);
          // The config and the small layer once, the big layer twice.
          expect(dropping.uploadCount).toBe(4);
          // What the registry holds is byte for byte what a push without drops left (compared with
          // Buffer.equals: a deep equality of 8 MiB takes minutes).
          expect([...dropping.blobs.keys()].sort()).toEqual([...fresh.blobs.keys()].sort());
          for (const [digest, blob] of fresh.blobs) expect(dropping.blobs.get(digest)?.equals(blob)).toBe(true);
          expect(dropping.manifests).toEqual(fresh.manifests);
          const manifest = JSON.parse((dropping.manifests[0] as Buffer).toString()) as { layers: { digest: string }[] };
          const unpacked = manifest.layers.map((l) => gunzipSync(dropping.blobs.get(l.digest) as Buffer));
          expect(unpacked.map((b, i) => b.equals([small, big][i] as Buffer))).toEqual([true, true]);

          // The big layer's progress starts again from 0 after the drop, and says pushed once, at its end.
          const bigId = oci ? sha256Digest(big).slice(7, 19) : 'legacy1';
          const states = events.flatMap((e) =>
            e.type === 'layer' && e.layer === bigId ? [`${e.state}${e.current === 0 ? ' 0' : ''}`] : [],
          );
          const dropped = states.indexOf('waiting', states.indexOf('pushing 0'));
          expect(dropped).toBeGreaterThan(0);
          expect(states.slice(0, dropped)).not.toContain('pushed');
          expect(states[dropped + 1]).toBe('pushing 0');
          expect(states.filter((s) => s === 'pushed')).toHaveLength(1);
          expect(states[states.length - 1]).toBe('pushed');
        },
        30_000,
      );

      it('fails saying so when the upload is dropped again after the second export, writing no manifest', async () => {
        const dropping = await registry(2);
        const image = engine([small, big], ['config', 1, 0], { oci: true });
        const pushed = pushTo(dropping, image);
        await expect(pushed).rejects.toThrow(UploadLostError);
        await expect(pushed).rejects.toThrow(
          `upload of layer ${sha256Digest(big).slice(7, 19)}: the registry dropped the upload after 65536 bytes had ` +
            'been sent, and it had dropped the first upload of this blob too (dockpush read the blob again from the ' +
            'source once). Push again;',
        );
        expect(image.reads).toHaveLength(2);
        expect(dropping.manifests).toEqual([]);
      }, 30_000);
    });
  });

  describe('when the registry drops an upload after its first chunk, from an archive or a layout', () => {
    const raw = randomBytes(8 * 1024 * 1024);
    const layerConfig = Buffer.from(
      JSON.stringify({ architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha256Digest(raw)] } }),
    );
    const registries: DroppingRegistry[] = [];
    const registry = async (drops: number) => {
      const started = await new DroppingRegistry(drops).start();
      registries.push(started);
      return started;
    };
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-dropped-'));
    });
    afterEach(async () => {
      jest.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
      await Promise.all(registries.splice(0).map((r) => r.stop()));
    });
    const pushTo = (target: DroppingRegistry, source: ImageSource) =>
      pushToRegistry({
        source,
        repository: { registry: target.host, path: 'app' },
        tags: ['1.0'],
        cacheDir: false,
        chunkSize: 64 * 1024,
      });
    const sameBlobs = (a: DroppingRegistry, b: DroppingRegistry) => {
      expect([...a.blobs.keys()].sort()).toEqual([...b.blobs.keys()].sort());
      for (const [digest, blob] of b.blobs) expect(a.blobs.get(digest)?.equals(blob)).toBe(true);
      expect(a.manifests).toEqual(b.manifests);
    };

    /** A `docker save` archive of one layer, and a count of the reads of that layer. */
    const archive = () => {
      const file = path.join(dir, 'image.tar');
      writeFileSync(
        file,
        Buffer.concat([
          member('manifest.json', Buffer.from(JSON.stringify([{ Config: 'config.json', Layers: ['l/layer.tar'] }]))),
          member('config.json', layerConfig),
          member('l/layer.tar', raw),
          Buffer.alloc(1024),
        ]),
      );
      const open = jest.spyOn(TarFileTree.prototype, 'open');
      return {
        source: new DockerArchiveSource(file),
        reads: () => open.mock.calls.filter(([n]) => n === 'l/layer.tar'),
      };
    };

    it('docker-archive: reads the layer again from the archive and uploads it from its start, once', async () => {
      const fresh = await registry(0);
      await pushTo(fresh, archive().source);
      jest.restoreAllMocks();
      const dropping = await registry(1);
      const { source, reads } = archive();
      await pushTo(dropping, source);
      expect(reads()).toHaveLength(2);
      sameBlobs(dropping, fresh);
    }, 30_000);

    it('docker-archive: fails saying so when the second upload is dropped too, writing no manifest', async () => {
      const dropping = await registry(2);
      const { source, reads } = archive();
      const pushed = pushTo(dropping, source);
      await expect(pushed).rejects.toThrow(UploadLostError);
      await expect(pushed).rejects.toThrow(/it had dropped the first upload of this blob too/);
      expect(reads()).toHaveLength(2);
      expect(dropping.manifests).toEqual([]);
    }, 30_000);

    /** An OCI layout of one gzip layer, in memory, counting the openings of each blob. */
    const layout = () => {
      const blob = gzipSync(raw, { level: 1 });
      const config = descriptorOf('application/vnd.oci.image.config.v1+json', layerConfig);
      const layers = [descriptorOf('application/vnd.oci.image.layer.v1.tar+gzip', blob)];
      const bytes = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }),
      );
      const opened: string[] = [];
      const image: StoredImage = {
        kind: 'stored',
        location: 'oci:/fake',
        manifests: [{ ...descriptorOf('application/vnd.oci.image.manifest.v1+json', bytes), bytes, config, layers }],
        openBlob: (digest) => {
          opened.push(digest);
          return Readable.from([digest === config.digest ? layerConfig : blob]);
        },
      };
      const source: ImageSource = { name: 'oci:/fake', open: async () => image };
      return { source, layerReads: () => opened.filter((d) => d === layers[0]?.digest) };
    };

    it('OCI layout: opens the blob again and uploads it from its start, once', async () => {
      const fresh = await registry(0);
      await pushTo(fresh, layout().source);
      const dropping = await registry(1);
      const { source, layerReads } = layout();
      await pushTo(dropping, source);
      expect(layerReads()).toHaveLength(2);
      sameBlobs(dropping, fresh);
    }, 30_000);

    it('OCI layout: fails saying so when the second upload is dropped too, writing no manifest', async () => {
      const dropping = await registry(2);
      const { source, layerReads } = layout();
      const pushed = pushTo(dropping, source);
      await expect(pushed).rejects.toThrow(UploadLostError);
      await expect(pushed).rejects.toThrow(/it had dropped the first upload of this blob too/);
      expect(layerReads()).toHaveLength(2);
      expect(dropping.manifests).toEqual([]);
    }, 30_000);
  });
});
