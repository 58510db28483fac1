import { createHash, randomBytes } from 'node:crypto';
import { HttpNetworkError, type HttpClient, type HttpRequest, type HttpResponse } from './http-client';
import { RepositoryBlobs } from './blob-upload';
import { RegistryClient } from './registry-client';
import { anonymousCredentials } from './registry-credentials';
import { UploadLostError } from './registry-errors';
import { bodyBytes } from '@dockpush/core/testing';

/**
 * A registry's upload endpoint in memory that keeps what it received of a cut request (as
 * registries that persist partial data do) and reports it in `Range`, answering 416 to a chunk
 * that does not start where it stands.
 */
class FakeUploadRegistry implements HttpClient {
  readonly sent: HttpRequest[] = [];
  held = Buffer.alloc(0);
  blobs = new Map<string, Buffer>();
  /** Per PATCH number (1-based): keep this many bytes, then fail the request. */
  cuts = new Map<number, number>();
  /** Forget everything received (a registry that lost the upload's data). */
  loseDataOnCut = false;
  /** Drop the upload on a cut, as registry:2 does: its status is then 404 and a new upload is needed. */
  dropOnCut = false;
  private patches = 0;
  private upload = 1;
  private dropped = false;

  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const answer = (status: number, headers: Record<string, string> = {}): HttpResponse => ({
      status,
      headers,
      body: Buffer.alloc(0),
    });
    const current = `/v2/app/blobs/uploads/u${this.upload}`;
    const range = () => ({ range: `0-${Math.max(0, this.held.length - 1)}`, location: current });
    const path = req.url.pathname;
    if (path === '/v2/') return answer(200);
    if (req.method === 'POST') {
      if (this.dropped) {
        this.dropped = false;
        this.upload++;
      }
      return answer(202, { location: `/v2/app/blobs/uploads/u${this.upload}` });
    }
    if (path !== current || this.dropped) {
      const body = Buffer.from(
        JSON.stringify({ errors: [{ code: 'BLOB_UPLOAD_INVALID', message: 'blob upload invalid' }] }),
      );
      if (req.method !== 'HEAD' && !(req.method === 'PUT' && path.includes('/blobs/sha256')))
        return { status: 404, headers: {}, body };
    }
    if (req.method === 'GET' && path === current) return answer(204, range());
    if (req.method === 'PATCH') {
      const body = bodyBytes(req.body);
      const [start] = (req.headers?.['Content-Range'] ?? '').split('-').map(Number);
      if (start !== this.held.length) return answer(416, range());
      const cut = this.cuts.get(++this.patches);
      if (cut !== undefined) {
        this.held = this.loseDataOnCut ? Buffer.alloc(0) : Buffer.concat([this.held, body.subarray(0, cut)]);
        if (this.dropOnCut) {
          this.held = Buffer.alloc(0);
          this.dropped = true;
        }
        throw new HttpNetworkError('ECONNRESET: socket hang up', 'network');
      }
      this.held = Buffer.concat([this.held, body]);
      return answer(202, range());
    }
    if (req.method === 'PUT') {
      const digest = req.url.searchParams.get('digest') as string;
      const data = Buffer.concat([this.held, bodyBytes(req.body)]);
      if (`sha256:${createHash('sha256').update(data).digest('hex')}` !== digest) return answer(400);
      this.blobs.set(digest, data);
      return answer(201);
    }
    if (req.method === 'HEAD') return answer(this.blobs.has(path.split('/').pop() as string) ? 200 : 404);
    return answer(404);
  }

  patchRanges(): string[] {
    return this.sent.filter((r) => r.method === 'PATCH').map((r) => r.headers?.['Content-Range'] as string);
  }
}

/** A client of the fake registry, its check done. */
async function checkedClient(fake: FakeUploadRegistry, signal?: AbortSignal): Promise<RegistryClient> {
  const client = new RegistryClient({
    registry: '127.0.0.1:5000',
    http: fake,
    credentials: anonymousCredentials,
    scopes: [],
    timeoutMs: 1000,
    retries: 3,
    delay: () => 0,
    ...(signal ? { signal } : {}),
  });
  await client.ping();
  return client;
}

async function upload(fake: FakeUploadRegistry, data: Buffer, chunk: number, parts = 1) {
  const client = await checkedClient(fake);
  const session = await new RepositoryBlobs(client, 'app', 3).startUpload();
  for (let at = 0; at < data.length; at += chunk) {
    // A chunk as one buffer, or as `parts` buffers sent back to back.
    const bytes = data.subarray(at, at + chunk);
    const step = Math.ceil(bytes.length / parts);
    const pieces = Array.from({ length: parts }, (_, i) => bytes.subarray(i * step, (i + 1) * step));
    await session.write(parts === 1 ? bytes : pieces, 'upload');
  }
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await session.finish(digest, undefined, 'upload');
  return digest;
}

describe('BlobUploadSession', () => {
  const data = randomBytes(10_000);

  it('sends chunks with Content-Range and closes with the digest', async () => {
    const fake = new FakeUploadRegistry();
    const digest = await upload(fake, data, 4000);
    expect(fake.patchRanges()).toEqual(['0-3999', '4000-7999', '8000-9999']);
    expect(fake.blobs.get(digest)?.equals(data)).toBe(true);
  });

  it('after a cut, resumes from the offset the registry reports, inside the chunk', async () => {
    const fake = new FakeUploadRegistry();
    fake.cuts.set(2, 1500);
    const digest = await upload(fake, data, 4000);
    expect(fake.patchRanges()).toEqual(['0-3999', '4000-7999', '5500-7999', '8000-9999']);
    const afterCut = fake.sent.slice(fake.sent.findIndex((r) => r.headers?.['Content-Range'] === '4000-7999') + 1);
    expect(afterCut[0]?.method).toBe('GET');
    expect(fake.blobs.get(digest)?.equals(data)).toBe(true);
  });

  it('a chunk given in parts: after a cut inside one part, resumes with the rest of it and the parts after', async () => {
    const fake = new FakeUploadRegistry();
    fake.cuts.set(2, 1500);
    const digest = await upload(fake, data, 4000, 3);
    expect(fake.patchRanges()).toEqual(['0-3999', '4000-7999', '5500-7999', '8000-9999']);
    const resumed = fake.sent.filter((r) => r.method === 'PATCH')[2];
    expect(bodyBytes(resumed?.body).equals(data.subarray(5500, 8000))).toBe(true);
    expect(fake.blobs.get(digest)?.equals(data)).toBe(true);
  });

  it('a cancellation during the wait before a resume ends the upload at once, not after the wait', async () => {
    const fake = new FakeUploadRegistry();
    fake.cuts.set(1, 100);
    const stop = new AbortController();
    const client = await checkedClient(fake, stop.signal);
    const session = await new RepositoryBlobs(client, 'app', 3).startUpload();
    const writing = session.write(data.subarray(0, 4000), 'upload').catch((e: unknown) => e);
    // The cut is seen at once; the wait before asking where the upload stands is 100 ms or more.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const aborted = Date.now();
    stop.abort(new Error('cancelled by SIGTERM'));
    expect(await writing).toMatchObject({ message: 'cancelled by SIGTERM' });
    expect(Date.now() - aborted).toBeLessThan(60);
    expect(fake.sent.filter((r) => r.method === 'GET' && r.url.pathname !== '/v2/')).toEqual([]);
  });

  it('resends the whole chunk when the registry kept nothing of the cut request', async () => {
    const fake = new FakeUploadRegistry();
    fake.cuts.set(1, 0);
    await upload(fake, data, 4000);
    expect(fake.patchRanges()).toEqual(['0-3999', '0-3999', '4000-7999', '8000-9999']);
  });

  it('starts the blob again in a new upload when the registry dropped the upload during its first chunk', async () => {
    const fake = new FakeUploadRegistry();
    fake.dropOnCut = true;
    fake.cuts.set(1, 1500);
    const digest = await upload(fake, data, 12_000);
    expect(fake.sent.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      // The registry check, over plain HTTP alone (a loopback registry that answers it).
      'GET /v2/',
      'POST /v2/app/blobs/uploads/',
      'PATCH /v2/app/blobs/uploads/u1',
      'GET /v2/app/blobs/uploads/u1',
      'POST /v2/app/blobs/uploads/',
      'PATCH /v2/app/blobs/uploads/u2',
      'PUT /v2/app/blobs/uploads/u2',
    ]);
    expect(fake.patchRanges()).toEqual(['0-9999', '0-9999']);
    expect(fake.blobs.get(digest)?.equals(data)).toBe(true);
  });

  it('fails, saying why, when the registry dropped the upload after chunks it no longer has', async () => {
    const fake = new FakeUploadRegistry();
    fake.dropOnCut = true;
    fake.cuts.set(2, 100);
    const uploaded = upload(fake, data, 4000);
    await expect(uploaded).rejects.toThrow(
      'the registry dropped the upload after 4000 bytes had been sent, and dockpush no longer holds them to start it again. Push again.',
    );
    // Typed, so that the pusher can read the blob again from its source.
    await expect(uploaded).rejects.toBeInstanceOf(UploadLostError);
    await expect(uploaded).rejects.toMatchObject({ sentBytes: 4000, reread: false, code: 'REGISTRY_REQUEST' });
  });

  it('fails, saying so, when the registry lost data it had acknowledged', async () => {
    const fake = new FakeUploadRegistry();
    fake.loseDataOnCut = true;
    fake.cuts.set(2, 100);
    await expect(upload(fake, data, 4000)).rejects.toThrow(
      'the registry holds 0 bytes of the upload, but 4000 to 8000 were expected, so it cannot be resumed. Push again.',
    );
  });
});
