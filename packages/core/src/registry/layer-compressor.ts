import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ZstdCompressor } from './zstd-compressor';

const gzip = promisify(zlib.gzip);
const deflateRaw = promisify(zlib.deflateRaw);

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
}

const SAMPLE = 64 * 1024;

/** Splits a stream into blocks of exactly `size` bytes (the last may be shorter). */
async function* blocksOf(input: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of input) {
    let rest = chunk;
    while (length + rest.length >= size) {
      const take = size - length;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      length = 0;
      rest = rest.subarray(take);
    }
    if (rest.length) {
      parts.push(rest);
      length += rest.length;
    }
  }
  if (length) yield Buffer.concat(parts);
}

/**
 * One gzip member. A block whose sample does not compress (already-compressed files, random
 * data) is stored at level 0: compressing it would cost CPU and save nothing.
 */
async function compressBlock(block: Buffer, level: number): Promise<Buffer> {
  if (level > 0 && block.length > SAMPLE) {
    const sample = await deflateRaw(block.subarray(0, SAMPLE), { level: 1 });
    if (sample.length > SAMPLE * 0.97) return gzip(block, { level: 0 });
  }
  return gzip(block, { level });
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
    empty: () => gzip(Buffer.alloc(0), { level: options.level }),
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
  const compress = (block: Buffer) => options.compressor.compress(block, options.level);
  return compressBlocks(input, {
    blockSize: options.blockSize ?? 2 * 1024 * 1024,
    parallel: options.parallel ?? 2 * options.compressor.parallel,
    compress,
    empty: () => compress(Buffer.alloc(0)),
  });
}

export interface CompressedLayer {
  output: AsyncIterable<Buffer>;
  result: () => CompressionResult;
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
    compress: (block: Buffer) => Promise<Buffer>;
    /** The output for an empty layer (one empty member or frame, so that the blob is valid). */
    empty: () => Promise<Buffer>;
  },
): CompressedLayer {
  const inHash = createHash('sha256');
  const outHash = createHash('sha256');
  let uncompressedSize = 0;
  let size = 0;
  let finished = false;

  async function* output(): AsyncGenerator<Buffer> {
    const pending: Promise<Buffer>[] = [];
    const emit = (compressed: Buffer) => {
      outHash.update(compressed);
      size += compressed.length;
      return compressed;
    };
    try {
      for await (const block of blocksOf(input, options.blockSize)) {
        inHash.update(block);
        uncompressedSize += block.length;
        const job = options.compress(block);
        job.catch(() => undefined);
        pending.push(job);
        if (pending.length >= options.parallel) yield emit(await (pending.shift() as Promise<Buffer>));
      }
      if (uncompressedSize === 0) pending.push(options.empty());
      while (pending.length) yield emit(await (pending.shift() as Promise<Buffer>));
      finished = true;
    } finally {
      pending.length = 0;
    }
  }

  return {
    output: output(),
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
