import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { gzipLayer, hashing } from './layer-compressor';

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('gzipLayer', () => {
  const text = Buffer.from('dockpush layer text '.repeat(40_000));
  const random = randomBytes(300_000);
  const mixed = Buffer.concat([text, random, text]);

  it.each([
    ['text', text],
    ['random bytes', random],
    ['text and random bytes', mixed],
    ['nothing', Buffer.alloc(0)],
  ])('%s: members concatenate to one gzip stream of the input, with both digests', async (_what, data) => {
    const { output, result } = gzipLayer(pieces(data, 7_777), { level: 1, blockSize: 100_000, parallel: 3 });
    const blob = await collect(output);
    expect(gunzipSync(blob).equals(data)).toBe(true);
    expect(result()).toEqual({
      diffId: sha(data),
      uncompressedSize: data.length,
      digest: sha(blob),
      size: blob.length,
    });
  });

  it('gives the same blob for the same layer, however the input is chunked', async () => {
    const a = gzipLayer(pieces(mixed, 1000), { level: 1, blockSize: 65_536 });
    const b = gzipLayer(pieces(mixed, 123_457), { level: 1, blockSize: 65_536 });
    expect((await collect(a.output)).equals(await collect(b.output))).toBe(true);
  });

  it('stores incompressible blocks instead of compressing them', async () => {
    const { output } = gzipLayer(pieces(random, 65_536), { level: 6, blockSize: 100_000 });
    const blob = await collect(output);
    // Stored deflate blocks: 5 bytes per 64 KiB plus a gzip header and trailer per member.
    expect(blob.length).toBeLessThan(random.length + 200);
    expect(gunzipSync(blob).equals(random)).toBe(true);
  });

  it('compresses text', async () => {
    const { output, result } = gzipLayer(pieces(text, 65_536), { level: 1 });
    await collect(output);
    expect(result().size).toBeLessThan(text.length / 10);
  });

  it('has no result before the output has been read', () => {
    expect(() => gzipLayer(pieces(text, 10), { level: 1 }).result()).toThrow('has not been read to its end');
  });
});

describe('hashing', () => {
  it('passes the stream through and digests it', async () => {
    const data = randomBytes(10_000);
    const h = hashing(pieces(data, 999));
    expect((await collect(h.output)).equals(data)).toBe(true);
    expect(h.digest()).toBe(sha(data));
    expect(h.size()).toBe(10_000);
  });
});
