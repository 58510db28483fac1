import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { debugLog } from '../debug-log';
import { DockpushError } from '../errors';

const debug = debugLog('dockpush:registry:zstd');

/** zstd's levels that dockpush accepts, and its default. */
export const ZSTD_LEVELS = { min: 1, max: 19 } as const;

/** Compresses independent blocks into zstd frames; frames concatenated are one zstd stream (RFC 8878 §3.1). */
export interface ZstdCompressor {
  /** Which implementation: Node's zlib, or the WebAssembly build in worker threads. */
  readonly kind: 'zlib' | 'wasm';
  /** Blocks it can compress at once. */
  readonly parallel: number;
  /** One zstd frame holding `block`. */
  compress(block: Buffer, level: number): Promise<Buffer>;
  /** Ends its workers; pending and later blocks fail. Safe to call twice. */
  close(): Promise<void>;
}

/** zstd cannot be used here: nothing has been pushed. */
export class ZstdUnavailableError extends DockpushError {
  readonly code = 'ZSTD_UNAVAILABLE';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `zstd compression is not available: ${detail}. Reinstall dockpush's dependencies (npm ci), ` +
        `or use compression: 'gzip' (the default)`,
      options,
    );
  }
}

/** The part of `node:zlib` that has zstd (Node.js 22.15 and later). */
interface ZlibWithZstd {
  zstdCompress(
    block: Buffer,
    options: { params: Record<number, number> },
    callback: (error: Error | null, result: Buffer) => void,
  ): void;
  constants: { ZSTD_c_compressionLevel: number };
}

export interface OpenZstdOptions {
  /** Test seam: the zlib module to feature-detect (default `node:zlib`). */
  zlib?: object;
  /** Worker threads for the WebAssembly build (default: the cores available, at most 4). */
  threads?: number;
  /** Test seam: the path of the WebAssembly build's entry (default: resolved from `@bokuweb/zstd-wasm`). */
  wasmModulePath?: string;
  /** Bound on loading the WebAssembly build (default 30 s). */
  loadTimeoutMs?: number;
}

/**
 * Node's own zstd when its zlib has it (compressed on libuv's thread pool, like gzip), else a
 * WebAssembly build of zstd in a small pool of worker threads. Rejects with `ZstdUnavailableError`
 * when neither can be loaded, so that a push asking for zstd fails before it sends anything.
 */
export async function openZstdCompressor(options: OpenZstdOptions = {}): Promise<ZstdCompressor> {
  const lib = (options.zlib ?? zlib) as Partial<ZlibWithZstd>;
  const threads = Math.max(1, options.threads ?? Math.min(4, os.availableParallelism()));
  if (typeof lib.zstdCompress === 'function' && lib.constants?.ZSTD_c_compressionLevel !== undefined) {
    return nativeZstd(lib as ZlibWithZstd, threads);
  }
  let modulePath = options.wasmModulePath;
  if (modulePath === undefined) {
    try {
      modulePath = require.resolve('@bokuweb/zstd-wasm');
    } catch (cause) {
      throw new ZstdUnavailableError(
        `Node.js ${process.version} has no zstd in zlib and the module @bokuweb/zstd-wasm is not installed`,
        { cause },
      );
    }
  }
  return WasmZstdPool.start(modulePath, threads, options.loadTimeoutMs ?? 30_000);
}

function nativeZstd(lib: ZlibWithZstd, parallel: number): ZstdCompressor {
  let closed = false;
  return {
    kind: 'zlib',
    parallel,
    compress: (block, level) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new Error('the zstd compressor is closed'));
        lib.zstdCompress(block, { params: { [lib.constants.ZSTD_c_compressionLevel]: level } }, (error, result) =>
          error ? reject(error) : resolve(result),
        );
      }),
    close: async () => {
      closed = true;
    },
  };
}

/** Runs in each worker: loads the WebAssembly build, then compresses the blocks it is sent. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fail = (error) => String((error && error.message) || error);
let zstd;
Promise.resolve()
  .then(() => {
    zstd = require(workerData.modulePath);
    return zstd.init();
  })
  .then(
    () => parentPort.postMessage({ ready: true }),
    (error) => parentPort.postMessage({ ready: false, error: fail(error) }),
  );
parentPort.on('message', ({ id, block, level }) => {
  try {
    const out = zstd.compress(block, level);
    parentPort.postMessage({ id, out }, [out.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: fail(error) });
  }
});
`;

interface Job {
  resolve: (out: Buffer) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, Job>;
}

type WorkerMessage = { ready: boolean; error?: string } | { id: number; out?: Uint8Array; error?: string };

/** zstd compiled to WebAssembly, one instance per worker thread; each block goes to the least busy worker. */
class WasmZstdPool implements ZstdCompressor {
  readonly kind = 'wasm';
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(private readonly workers: PoolWorker[]) {}

  get parallel(): number {
    return this.workers.length;
  }

  static async start(modulePath: string, threads: number, loadTimeoutMs: number): Promise<WasmZstdPool> {
    const workers: PoolWorker[] = [];
    const pool = new WasmZstdPool(workers);
    const loads: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      // Loaded here: a push that does not compress to zstd with WebAssembly needs no worker threads.
      const { Worker: WorkerThread } = require('node:worker_threads') as typeof import('node:worker_threads');
      const worker = new WorkerThread(WORKER_SOURCE, { eval: true, workerData: { modulePath } });
      const entry: PoolWorker = { worker, jobs: new Map() };
      workers.push(entry);
      loads.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`it did not load within ${loadTimeoutMs} ms`)),
            loadTimeoutMs,
          );
          const settle = (error?: Error) => {
            clearTimeout(timer);
            if (error) reject(error);
            else resolve();
          };
          worker.on('message', (message: WorkerMessage) => {
            if ('ready' in message) settle(message.ready ? undefined : new Error(message.error));
            else pool.settle(entry, message);
          });
          worker.on('error', (error) => {
            settle(error);
            pool.fail(entry, error);
          });
          worker.on('exit', (code) => {
            const error = new Error(`a zstd worker thread exited (code ${code})`);
            settle(error);
            pool.fail(entry, error);
          });
        }),
      );
    }
    try {
      await Promise.all(loads);
    } catch (cause) {
      await pool.close();
      throw new ZstdUnavailableError(
        `Node.js ${process.version} has no zstd in zlib and its WebAssembly build (${modulePath}) did not load: ${(cause as Error).message}`,
        { cause },
      );
    }
    debug('%d zstd worker threads ready', threads);
    return pool;
  }

  compress(block: Buffer, level: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const entry = this.workers.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      entry.jobs.set(id, { resolve, reject });
      // A copy moved to the worker: the caller keeps its block, and no second copy is made.
      const copy = new Uint8Array(block);
      entry.worker.postMessage({ id, block: copy, level }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the zstd compressor is closed');
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private settle(entry: PoolWorker, message: { id: number; out?: Uint8Array; error?: string }): void {
    const job = entry.jobs.get(message.id);
    if (!job) return;
    entry.jobs.delete(message.id);
    if (message.out) job.resolve(Buffer.from(message.out.buffer, message.out.byteOffset, message.out.byteLength));
    else job.reject(new Error(`zstd could not compress a block: ${message.error}`));
  }

  /** A worker died: its blocks and every later one fail (the layer's upload is then cancelled). */
  private fail(entry: PoolWorker, error: Error): void {
    this.failure ??= error;
    for (const job of entry.jobs.values()) job.reject(error);
    entry.jobs.clear();
  }
}
