import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ZstdCompressor } from './zstd-compressor';

const gzip = promisify(zlib.gzip);

export interface CompressionResult {
  /** sha256 of the uncompressed bytes: the layer's diffID. */
  diffId: string;
  uncompressedSize: number;
  /** sha256 and size of the compressed blob. */
  digest: string;
  size: number;
}

export interface GzipOptions {
  level: number;
  /** Bytes compressed as one gzip member (default 1 MiB). */
  blockSize?: number;
  /** Members compressed at once on libuv's thread pool (default 4). */
  parallel?: number;
  /** Hands each piece of the input back once its member is made (`LayerReading.recycle`). */
  recycle?: (piece: Buffer) => void;
}

/**
 * A block of the input: the pieces of the stream it spans, in order. The pieces are not copied
 * into one buffer: a source whose chunks are the block size (the engine store's are) is
 * compressed without a copy, and another's bytes are copied once, by the compressor.
 */
type Block = Buffer[];

const lengthOf = (block: Block) => block.reduce((n, piece) => n + piece.length, 0);

/** One buffer of a block's bytes (a copy, unless it is one piece). */
const joined = (block: Block): Buffer => (block.length === 1 ? (block[0] as Buffer) : Buffer.concat(block));

/** Splits a stream into blocks of exactly `size` bytes (the last may be shorter). */
async function* blocksOf(input: AsyncIterable<Buffer>, size: number): AsyncGenerator<Block> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of input) {
    let rest = chunk;
    while (length + rest.length >= size) {
      const take = size - length;
      parts.push(take === rest.length ? rest : rest.subarray(0, take));
      yield parts;
      parts = [];
      length = 0;
      rest = rest.subarray(take);
    }
    if (rest.length) {
      parts.push(rest);
      length += rest.length;
    }
  }
  if (length) yield parts;
}

/** `looksCompressed` reads this many bytes at each quarter of a block. */
const PROBE = 4 * 1024;

/**
 * Whether a block looks already compressed (or random): 4 KiB at the start of each of its
 * quarters have, on average, a byte entropy so high that coding each byte by its frequency
 * (deflate's Huffman stage) would save under 3 %. Executables measure about 6 bits a byte, text
 * under 5; gzip, PNG or random bytes above 7.9. The average lets a tar header in one probe pass
 * (a large compressed file is stored from its first block), while a block that mixes small
 * compressed files with their headers and text is compressed. Counting 16 KiB costs some 50
 * microseconds on the main thread, where deflating a sample on the thread pool cost as much CPU
 * as compressing 6 % of every block over again.
 */
export function looksCompressed(block: Block, length = lengthOf(block)): boolean {
  if (length < 4 * PROBE) return false;
  let bits = 0;
  for (let quarter = 0; quarter < 4; quarter++) {
    bits += entropy(bytesAt(block, Math.floor((quarter * length) / 4), PROBE));
  }
  return bits / 4 > 8 * 0.97;
}

/** Bits a byte of `bytes` by their frequencies (Shannon's entropy, order 0). */
function entropy(bytes: Buffer): number {
  const counts = new Uint32Array(256);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    counts[byte] = (counts[byte] as number) + 1;
  }
  let bits = 0;
  for (const count of counts) {
    if (count) bits -= count * Math.log2(count / bytes.length);
  }
  return bits / bytes.length;
}

/** `length` bytes of a block from `offset`: a view where one piece holds them, else a copy of them. */
function bytesAt(block: Block, offset: number, length: number): Buffer {
  const parts: Buffer[] = [];
  let start = offset;
  let wanted = length;
  for (const piece of block) {
    if (start >= piece.length) {
      start -= piece.length;
      continue;
    }
    const part = piece.subarray(start, start + wanted);
    if (part.length === length) return part;
    parts.push(part);
    wanted -= part.length;
    start = 0;
    if (wanted === 0) break;
  }
  return Buffer.concat(parts);
}

/**
 * A compressed block: the pieces of its output, in order. A stored member's pieces include the
 * block's own bytes (`borrowsInput`): they are sent as they are, so the block is not handed back
 * to its source for reuse.
 */
interface Member {
  pieces: Buffer[];
  borrowsInput: boolean;
}

const made = (output: Buffer): Member => ({ pieces: [output], borrowsInput: false });

/**
 * One gzip member. A block that looks already compressed (compressed files, random data) is
 * stored: compressing it would cost CPU and save nothing.
 */
async function compressBlock(block: Block, level: number): Promise<Member> {
  if (level === 0) return stored(block);
  const length = lengthOf(block);
  if (looksCompressed(block, length)) return stored(block);
  return made(await gzipMember(block, length, level));
}

/**
 * zlib's gzip of a block, with an output buffer big enough for the whole member: the block is
 * then one round trip to the thread pool. With zlib's default (16 KiB) a 1 MiB block takes some
 * 30, each with a callback and a copy on the main thread.
 */
function gzipMember(block: Block, length: number, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // deflate's bound (zlib's deflateBound, rounded up) plus gzip's header and trailer.
    const gz = zlib.createGzip({ level, chunkSize: Math.max(64 * 1024, length + (length >> 10) + 1024) });
    const out: Buffer[] = [];
    gz.on('data', (chunk: Buffer) => out.push(chunk));
    gz.on('error', reject);
    gz.on('end', () => resolve(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)));
    for (const piece of block) gz.write(piece);
    gz.end();
  });
}

/** Node 20.15 and later have zlib.crc32; before, zlib's own level 0. */
const hasCrc32 = typeof (zlib as { crc32?: unknown }).crc32 === 'function';
async function stored(block: Block): Promise<Member> {
  return hasCrc32
    ? { pieces: storedGzipPieces(block), borrowsInput: true }
    : made(await gzip(joined(block), { level: 0 }));
}

/** Deflate's stored blocks hold at most this many bytes (RFC 1951 §3.2.4). */
const STORED_BLOCK = 65_535;

/**
 * A gzip member (RFC 1952) whose deflate data is stored blocks: the bytes as they are, framed,
 * with their CRC-32. The member is returned as pieces: its framing, and between the frames the
 * block's own bytes, not copied (a copy of fresh memory costs its page faults). zlib's level 0,
 * which runs the bytes through its window and output buffers, is several times slower. Not byte
 * for byte what zlib writes (its blocks are cut elsewhere, its header names the OS), so a layer
 * stored here has another blob digest than on Node before 20.15, which uses zlib's level 0.
 */
export function storedGzipPieces(block: Buffer | Block): Buffer[] {
  const input = Array.isArray(block) ? block : [block];
  const length = lengthOf(input);
  const blocks = Math.max(1, Math.ceil(length / STORED_BLOCK));
  // Every frame in one buffer: the header, a 5-byte head per stored block, the trailer.
  const frames = Buffer.allocUnsafe(10 + 5 * blocks + 8);
  // ID1 ID2, CM=deflate, no flags, no mtime, XFL=0, OS=unknown (255): the same on every machine.
  frames.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  const pieces: Buffer[] = [];
  let at = 10;
  let from = 0; // frames not yet in `pieces` start here
  let piece = 0;
  let offset = 0;
  for (let i = 0; i < blocks; i++) {
    const size = Math.min(STORED_BLOCK, length - i * STORED_BLOCK);
    frames[at] = i === blocks - 1 ? 1 : 0; // BFINAL on the last; BTYPE 00, stored
    frames.writeUInt16LE(size, at + 1);
    frames.writeUInt16LE(size ^ 0xffff, at + 3);
    at += 5;
    pieces.push(frames.subarray(from, at));
    from = at;
    // The stored block's bytes, from as many input pieces as it spans.
    for (let left = size; left > 0;) {
      const source = input[piece] as Buffer;
      const take = Math.min(left, source.length - offset);
      pieces.push(take === source.length ? source : source.subarray(offset, offset + take));
      offset += take;
      left -= take;
      if (offset === source.length) {
        piece++;
        offset = 0;
      }
    }
  }
  let crc = 0;
  for (const source of input) crc = zlib.crc32(source, crc);
  frames.writeUInt32LE(crc, at);
  frames.writeUInt32LE(length % 2 ** 32, at + 4);
  pieces.push(frames.subarray(from, at + 8));
  return pieces;
}

/**
 * Gzips a layer as a series of members compressed in parallel on the thread pool and
 * concatenated (RFC 1952: a gzip stream may hold several members; Go's reader, which engines use,
 * reads them all), hashing the input (diffID) and the output (blob digest) on the way. Memory
 * stays at about `parallel` blocks. The output depends on the input and options only, so the same
 * layer always gives the same blob. `result()` is valid once the output has been read to its end.
 */
export function gzipLayer(input: AsyncIterable<Buffer>, options: GzipOptions): CompressedLayer {
  return compressBlocks(input, {
    blockSize: options.blockSize ?? 1024 * 1024,
    parallel: options.parallel ?? 4,
    compress: (block) => compressBlock(block, options.level),
    empty: async () => made(await gzip(Buffer.alloc(0), { level: options.level })),
    ...(options.recycle ? { done: options.recycle } : {}),
  });
}

export interface ZstdOptions {
  level: number;
  /** Where the blocks are compressed (Node's zlib, or the WebAssembly build's worker threads). */
  compressor: ZstdCompressor;
  /** Bytes compressed as one zstd frame (default 2 MiB). */
  blockSize?: number;
  /** Blocks in flight (default twice the compressor's parallelism, so that no worker waits). */
  parallel?: number;
}

/**
 * Compresses a layer to zstd as independent frames, one per block, compressed in parallel and
 * concatenated in order (RFC 8878 §3.1: a zstd stream may hold several frames, and decoders read
 * them all). Hashes and memory bound as `gzipLayer`.
 */
export function zstdLayer(input: AsyncIterable<Buffer>, options: ZstdOptions): CompressedLayer {
  const compress = async (block: Block) => made(await options.compressor.compress(joined(block), options.level));
  return compressBlocks(input, {
    blockSize: options.blockSize ?? 2 * 1024 * 1024,
    parallel: options.parallel ?? 2 * options.compressor.parallel,
    compress,
    empty: () => compress([Buffer.alloc(0)]),
  });
}

export interface CompressedLayer {
  /**
   * The blob, in pieces. A stored member's pieces are the input's own bytes: the input goes back
   * to its source (`recycle`) only once every piece of the member has been handed to `sent`.
   */
  output: AsyncIterable<Buffer>;
  result: () => CompressionResult;
  /** Says an output piece has been sent and is not needed again. */
  sent: (piece: Buffer) => void;
}

/**
 * The frame of both compressors: splits the input into blocks, keeps at most `parallel` of them
 * compressing, and yields their outputs in input order.
 */
function compressBlocks(
  input: AsyncIterable<Buffer>,
  options: {
    blockSize: number;
    parallel: number;
    compress: (block: Block) => Promise<Member>;
    /** The output for an empty layer (one empty member or frame, so that the blob is valid). */
    empty: () => Promise<Member>;
    /** Called with each piece of a block once its compression has ended and nothing reads it. */
    done?: (piece: Buffer) => void;
  },
): CompressedLayer {
  const inHash = createHash('sha256');
  const outHash = createHash('sha256');
  let uncompressedSize = 0;
  let size = 0;
  let finished = false;
  /** The pieces of members made of their block's bytes, and the block each holds. */
  const borrowing = new WeakMap<Buffer, { left: number; block: Block }>();

  async function* output(): AsyncGenerator<Buffer> {
    const pending: Promise<Member>[] = [];
    async function* emit(member: Member): AsyncGenerator<Buffer> {
      for (const piece of member.pieces) {
        outHash.update(piece);
        size += piece.length;
        yield piece;
      }
    }
    try {
      for await (const block of blocksOf(input, options.blockSize)) {
        for (const piece of block) inHash.update(piece);
        uncompressedSize += lengthOf(block);
        const job = options.compress(block);
        job.then(
          (member) => {
            if (!member.borrowsInput) block.forEach((piece) => options.done?.(piece));
            else {
              // Handed back once all of its pieces are sent.
              const hold = { left: member.pieces.length, block };
              for (const piece of member.pieces) borrowing.set(piece, hold);
            }
          },
          () => undefined,
        );
        pending.push(job);
        if (pending.length >= options.parallel) yield* emit(await (pending.shift() as Promise<Member>));
      }
      if (uncompressedSize === 0) pending.push(options.empty());
      while (pending.length) yield* emit(await (pending.shift() as Promise<Member>));
      finished = true;
    } finally {
      pending.length = 0;
    }
  }

  return {
    output: output(),
    sent: (piece) => {
      const hold = borrowing.get(piece);
      if (!hold) return;
      borrowing.delete(piece);
      if (--hold.left === 0) hold.block.forEach((input) => options.done?.(input));
    },
    result: () => {
      if (!finished) throw new Error('the compressed layer has not been read to its end');
      return {
        diffId: `sha256:${inHash.digest('hex')}`,
        uncompressedSize,
        digest: `sha256:${outHash.digest('hex')}`,
        size,
      };
    },
  };
}

/** sha256 of a stream while passing it on; `digest()` once it has ended. */
export function hashing(input: AsyncIterable<Buffer>): {
  output: AsyncIterable<Buffer>;
  digest: () => string;
  size: () => number;
} {
  const hash = createHash('sha256');
  let size = 0;
  let value: string | undefined;
  async function* output(): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    value = `sha256:${hash.digest('hex')}`;
  }
  return {
    output: output(),
    digest: () => {
      if (value === undefined) throw new Error('hashing: the stream has not ended');
      return value;
    },
    size: () => size,
  };
}
