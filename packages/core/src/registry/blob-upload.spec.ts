import { createHash, randomBytes } from 'node:crypto';
import { HttpNetworkError, type HttpClient, type HttpRequest, type HttpResponse } from './http-client';
import { RepositoryBlobs } from './blob-upload';
import { RegistryClient } from './registry-client';
import { anonymousCredentials } from './registry-credentials';

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
  private patches = 0;

  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const answer = (status: number, headers: Record<string, string> = {}): HttpResponse => ({
      status,
      headers,
      body: Buffer.alloc(0),
    });
    const range = () => ({ range: `0-${Math.max(0, this.held.length - 1)}`, location: '/v2/app/blobs/uploads/u1' });
    const path = req.url.pathname;
    if (path === '/v2/') return answer(200);
    if (req.method === 'POST') return answer(202, { location: '/v2/app/blobs/uploads/u1' });
    if (req.method === 'GET' && path === '/v2/app/blobs/uploads/u1') return answer(204, range());
    if (req.method === 'PATCH') {
      const body = req.body as Buffer;
      const [start] = (req.headers?.['Content-Range'] ?? '').split('-').map(Number);
      if (start !== this.held.length) return answer(416, range());
      const cut = this.cuts.get(++this.patches);
      if (cut !== undefined) {
        this.held = this.loseDataOnCut ? Buffer.alloc(0) : Buffer.concat([this.held, body.subarray(0, cut)]);
        throw new HttpNetworkError('ECONNRESET: socket hang up', 'network');
      }
      this.held = Buffer.concat([this.held, body]);
      return answer(202, range());
    }
    if (req.method === 'PUT') {
      const digest = req.url.searchParams.get('digest') as string;
      const data = Buffer.concat([this.held, req.body ?? Buffer.alloc(0)]);
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

async function upload(fake: FakeUploadRegistry, data: Buffer, chunk: number) {
  const client = new RegistryClient({
    registry: '127.0.0.1:5000',
    http: fake,
    credentials: anonymousCredentials,
    scopes: [],
    timeoutMs: 1000,
    retries: 3,
    delay: () => 0,
  });
  await client.ping();
  const session = await new RepositoryBlobs(client, 'app', 3).startUpload();
  for (let at = 0; at < data.length; at += chunk) await session.write(data.subarray(at, at + chunk), 'upload');
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

  it('resends the whole chunk when the registry kept nothing of the cut request', async () => {
    const fake = new FakeUploadRegistry();
    fake.cuts.set(1, 0);
    await upload(fake, data, 4000);
    expect(fake.patchRanges()).toEqual(['0-3999', '0-3999', '4000-7999', '8000-9999']);
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
