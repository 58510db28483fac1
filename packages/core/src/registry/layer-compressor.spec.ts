import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { gzipLayer, hashing, looksCompressed, storedGzipPieces, zstdLayer } from './layer-compressor';

const storedGzipMember = (block: Buffer | Buffer[]) => Buffer.concat(storedGzipPieces(block));
import { openZstdCompressor, type ZstdCompressor } from './zstd-compressor';

/** V8's full collection, reached without starting Node with --expose-gc. */
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

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

  it("makes each compressible member as zlib's gzip does, so blob digests do not depend on how the source is chunked", async () => {
    const blockSize = 100_000;
    const { output } = gzipLayer(pieces(text, 33_333), { level: 1, blockSize });
    const members: Buffer[] = [];
    for (let at = 0; at < text.length; at += blockSize)
      members.push(gzipSync(text.subarray(at, at + blockSize), { level: 1 }));
    expect((await collect(output)).equals(Buffer.concat(members))).toBe(true);
  });

  it('hands each piece back only once its member is made: a piece filled again at once changes nothing', async () => {
    // Blocks of text, then of random bytes, then of text again.
    const block = 2 * 65_536;
    const data = Buffer.concat([
      text.subarray(0, 3 * block),
      random.subarray(0, 2 * block),
      text.subarray(0, 3 * block),
    ]);
    const copies = async function* () {
      for (let at = 0; at < data.length; at += 65_536) yield Buffer.from(data.subarray(at, at + 65_536));
    };
    let handedBack = 0;
    const { output, result } = gzipLayer(copies(), {
      level: 1,
      blockSize: block,
      parallel: 4,
      recycle: (piece) => {
        handedBack++;
        piece.fill(0x55); // as the source would fill it again
      },
    });
    const blob = await collect(output);
    expect(gunzipSync(blob).equals(data)).toBe(true);
    expect(result().diffId).toBe(sha(data));
    // Stored blocks (the random bytes) are sent as they are: those pieces are never handed back.
    expect(handedBack).toBe((6 * block) / 65_536);
  });

  it("sends a stored block's own bytes, not a copy of them, and hands them back once all are sent", async () => {
    const input = [0, 1, 2, 3].map((i) => Buffer.from(random.subarray(i * 65_536, (i + 1) * 65_536)));
    const handedBack: Buffer[] = [];
    const { output, sent } = gzipLayer(
      (async function* () {
        yield* input;
      })(),
      { level: 1, blockSize: 2 * 65_536, recycle: (piece) => handedBack.push(piece) },
    );
    const pieces: Buffer[] = [];
    for await (const piece of output) pieces.push(piece);
    expect(gunzipSync(Buffer.concat(pieces)).equals(Buffer.concat(input))).toBe(true);
    const inputMemory = new Set(input.map((piece) => piece.buffer));
    const borrowed = pieces.filter((piece) => inputMemory.has(piece.buffer as ArrayBuffer));
    expect(borrowed.reduce((n, piece) => n + piece.length, 0)).toBe(4 * 65_536);
    // Nothing goes back while the upload may still read it; a block goes back once all its pieces are sent.
    expect(handedBack).toEqual([]);
    const firstMember = pieces.findIndex((piece) => piece[0] === 0x1f && piece[1] === 0x8b && piece.length < 64);
    const secondMember = pieces.findIndex(
      (piece, k) => k > firstMember && piece[0] === 0x1f && piece[1] === 0x8b && piece.length < 64,
    );
    pieces.slice(0, secondMember - 1).forEach(sent);
    expect(handedBack).toEqual([]);
    sent(pieces[secondMember - 1] as Buffer);
    expect(handedBack).toEqual(input.slice(0, 2));
    pieces.slice(secondMember).forEach(sent);
    expect(handedBack).toEqual(input);
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

describe('looksCompressed', () => {
  const gzipped = gzipSync(readFileSync(process.execPath).subarray(0, 1 << 20));
  it.each([
    ['random bytes', true, randomBytes(65_536)],
    ['gzip output', true, gzipped],
    ['an executable', false, readFileSync(process.execPath).subarray(4096, 4096 + 65_536)],
    ['text', false, Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(2000))],
    ['zeros', false, Buffer.alloc(65_536)],
    [
      'random bytes with text in the last quarter',
      false,
      Buffer.concat([randomBytes(49_152), Buffer.from('text '.repeat(3277))]),
    ],
    ['random bytes after a tar header', true, Buffer.concat([Buffer.alloc(512), randomBytes(65_024)])],
    ['too short to judge', false, randomBytes(8_000)],
  ])('%s: %s', (_what, expected, bytes) => {
    expect(looksCompressed([bytes])).toBe(expected);
    // The same answer from a block that comes in pieces.
    expect(looksCompressed([bytes.subarray(0, 1000), bytes.subarray(1000)])).toBe(expected);
  });
});

describe('storedGzipMember', () => {
  it('frames a block given in pieces as it frames the block whole', () => {
    const block = randomBytes(200_000);
    const split = [
      block.subarray(0, 1),
      block.subarray(1, 70_000),
      block.subarray(70_000, 70_000),
      block.subarray(70_000),
    ];
    expect(storedGzipMember(split).equals(storedGzipMember(block))).toBe(true);
  });

  it.each([0, 1, 65_535, 65_536, 200_000])(
    '%d bytes: a gzip member gunzip reads back, framed as stored blocks',
    (n) => {
      const block = randomBytes(n);
      const member = storedGzipMember(block);
      expect(gunzipSync(member)).toEqual(block);
      expect(inflateRawSync(member.subarray(10, -8))).toEqual(block);
      expect(member.length).toBe(10 + n + 5 * Math.max(1, Math.ceil(n / 65_535)) + 8);
      // CRC-32 and size as gzip's trailer wants them: a wrong one makes gunzip fail.
      const corrupt = Buffer.from(member);
      corrupt.writeUInt32LE((corrupt.readUInt32LE(corrupt.length - 8) ^ 1) >>> 0, corrupt.length - 8);
      expect(() => gunzipSync(corrupt)).toThrow();
    },
  );
});

describe('zstdLayer', () => {
  const text = Buffer.from('dockpush layer text '.repeat(40_000));
  const random = randomBytes(300_000);
  const mixed = Buffer.concat([text, random, text]);
  let zstd: ZstdCompressor;

  beforeAll(async () => {
    zstd = await openZstdCompressor({ threads: 2 });
  });
  afterAll(() => zstd.close());

  it.each([
    ['text', text],
    ['random bytes', random],
    ['text and random bytes', mixed],
    ['nothing', Buffer.alloc(0)],
  ])('%s: frames concatenate to one zstd stream of the input, with both digests', async (_what, data) => {
    const { output, result } = zstdLayer(pieces(data, 7_777), { level: 3, compressor: zstd, blockSize: 100_000 });
    const blob = await collect(output);
    // An independent decoder (not the WebAssembly build that compressed it).
    expect(Buffer.from(zstdDecompress(blob)).equals(data)).toBe(true);
    expect(result()).toEqual({
      diffId: sha(data),
      uncompressedSize: data.length,
      digest: sha(blob),
      size: blob.length,
    });
  });

  it('keeps the blocks in input order when later blocks finish first', async () => {
    // A compressor whose first blocks take longest: outputs arrive in reverse order.
    const finished: number[] = [];
    const slowFirst: ZstdCompressor = {
      kind: 'wasm',
      parallel: 3,
      compress: async (block) => {
        const n = block[0] as number;
        await new Promise((resolve) => setTimeout(resolve, 60 - (n % 6) * 10));
        finished.push(n);
        return Buffer.from([n]);
      },
      close: async () => undefined,
    };
    const data = Buffer.concat(Array.from({ length: 12 }, (_, n) => Buffer.alloc(100, n)));
    const { output } = zstdLayer(pieces(data, 33), { level: 3, compressor: slowFirst, blockSize: 100, parallel: 6 });
    expect([...(await collect(output))]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(finished).not.toEqual([...finished].sort((x, y) => x - y));
  });

  it('keeps many blocks in order across the worker threads', async () => {
    const blocks = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0 ? text.subarray(0, 100_000) : randomBytes(100_000),
    );
    const data = Buffer.concat(blocks);
    const { output } = zstdLayer(pieces(data, 65_536), { level: 3, compressor: zstd, blockSize: 100_000, parallel: 6 });
    expect(Buffer.from(zstdDecompress(await collect(output))).equals(data)).toBe(true);
  });

  it('gives the same blob for the same layer, however the input is chunked', async () => {
    const a = zstdLayer(pieces(mixed, 1000), { level: 3, compressor: zstd, blockSize: 65_536 });
    const b = zstdLayer(pieces(mixed, 123_457), { level: 3, compressor: zstd, blockSize: 65_536 });
    expect((await collect(a.output)).equals(await collect(b.output))).toBe(true);
  });

  it('compresses text, more at a higher level', async () => {
    const sizes: number[] = [];
    for (const level of [1, 19]) {
      const { output, result } = zstdLayer(pieces(mixed, 65_536), { level, compressor: zstd });
      await collect(output);
      sizes.push(result().size);
    }
    expect(sizes[0]).toBeLessThan(random.length + text.length / 10);
    expect(sizes[1]).toBeLessThan(sizes[0] as number);
  });

  it('streams a large layer in bounded memory', async () => {
    // 200 MB of compressible bytes made on the fly: neither the input nor the output is kept.
    // What is measured is the memory still in use after a collection, sampled as the output
    // comes: the RSS alone rises with garbage not yet collected, more or less by chance.
    const piece = Buffer.concat([text.subarray(0, 600_000), randomBytes(400_000)]);
    async function* large(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 200; i++) yield piece;
    }
    const live = () => {
      collectGarbage();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const before = live();
    let peak = before;
    let parts = 0;
    const { output, result } = zstdLayer(large(), { level: 1, compressor: zstd });
    for await (const part of output) {
      expect(part.length).toBeGreaterThan(0);
      if (++parts % 16 === 0) peak = Math.max(peak, live());
    }
    expect(result().uncompressedSize).toBe(200 * piece.length);
    expect(parts).toBeGreaterThan(32);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});

describe('openZstdCompressor', () => {
  it("uses Node's zlib zstd when it has one", async () => {
    const calls: { level: number; bytes: number }[] = [];
    const fakeZlib = {
      constants: { ZSTD_c_compressionLevel: 100 },
      zstdCompress: (block: Buffer, opts: { params: Record<number, number> }, cb: (e: null, r: Buffer) => void) => {
        calls.push({ level: opts.params[100] as number, bytes: block.length });
        cb(null, Buffer.from('frame'));
      },
    };
    const compressor = await openZstdCompressor({ zlib: fakeZlib });
    expect(compressor.kind).toBe('zlib');
    const { output } = zstdLayer(pieces(Buffer.alloc(5000, 1), 999), { level: 7, compressor, blockSize: 2000 });
    expect((await collect(output)).toString()).toBe('frameframeframe');
    expect(calls).toEqual([
      { level: 7, bytes: 2000 },
      { level: 7, bytes: 2000 },
      { level: 7, bytes: 1000 },
    ]);
    await compressor.close();
  });

  it('falls back to the WebAssembly build in worker threads on a zlib without zstd', async () => {
    const compressor = await openZstdCompressor({ zlib: {}, threads: 2 });
    try {
      expect(compressor.kind).toBe('wasm');
      expect(compressor.parallel).toBe(2);
    } finally {
      await compressor.close();
    }
  });

  it('says clearly when the WebAssembly build cannot be loaded', async () => {
    const open = openZstdCompressor({ zlib: {}, threads: 2, wasmModulePath: '/nonexistent/zstd-wasm.js' });
    await expect(open).rejects.toThrow(
      /^zstd compression is not available: Node\.js v[\d.]+ has no zstd in zlib and its WebAssembly build \(\/nonexistent\/zstd-wasm\.js\) did not load: Cannot find module .*Reinstall dockpush's dependencies \(npm ci\), or use compression: 'gzip' \(the default\)$/s,
    );
  });

  it('fails the blocks of a compressor that was closed, without hanging', async () => {
    const compressor = await openZstdCompressor({ zlib: {}, threads: 1 });
    await compressor.close();
    await expect(compressor.compress(Buffer.from('x'), 3)).rejects.toThrow('the zstd compressor is closed');
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
