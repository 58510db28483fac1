import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readSync } from 'node:fs';
import { open, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { debugLog } from '../debug-log';
import { sha256Digest } from './layer-digest';

const debug = debugLog('dockpush:image-source:store');

/** Where a local Docker engine keeps its images (`GET /info`: `DockerRootDir`, `Driver`). */
export interface EngineStoreLocation {
  root: string;
  driver: string;
}

/** The graph drivers whose layer files dockpush can find: a layer's files under one folder. */
const LAYER_FILES: Record<string, (root: string, cacheId: string) => string> = {
  // Each layer a full copy of the file system up to it: the layer's own files are there as it left them.
  vfs: (root, cacheId) => path.join(root, 'vfs', 'dir', cacheId),
  // Each layer's changes alone.
  overlay2: (root, cacheId) => path.join(root, 'overlay2', cacheId, 'diff'),
};

/** The store did not give a layer as its record says: the caller reads the layer from the export instead. */
export class EngineStoreError extends Error {
  override name = 'EngineStoreError';
}

/** A tar-split record: a stretch of the tar as it was (headers, padding), or a file whose bytes are in the layer. */
interface TarSplitEntry {
  type: number;
  name?: string;
  name_raw?: string;
  size?: number;
  payload?: string;
}
const FILE_ENTRY = 1;
const SEGMENT_ENTRY = 2;

/**
 * A local Docker engine's image store, read directly, as the engine itself reads it to push: a
 * layer's tar is rebuilt from its tar-split record (the tar's headers as they were) and the
 * layer's files, so it hashes to the layer's diffID, and the config is the file named by the
 * image ID. Only the layers a push needs are read, where the engine's export (`docker save`)
 * writes the whole image to a temporary folder before it sends a byte.
 *
 * Only for an engine on this host (a unix socket) with the vfs or overlay2 graph driver, and only
 * when dockpush may read its folder (root). Hints, like the blob cache: the config must hash to
 * the image ID and every layer to its diffID, or the caller falls back to the export.
 */
export class EngineStore {
  private constructor(
    private readonly location: EngineStoreLocation,
    private readonly layerFiles: (root: string, cacheId: string) => string,
  ) {}

  /** Whether dockpush can find the layers of this graph driver (vfs, overlay2). */
  static readsDriver(driver: string): boolean {
    return Object.hasOwn(LAYER_FILES, driver);
  }

  /** The store, when it is one dockpush can read; else undefined (the export is used). */
  static async open(location: EngineStoreLocation | undefined): Promise<EngineStore | undefined> {
    const layerFiles = location ? LAYER_FILES[location.driver] : undefined;
    if (!location || !layerFiles || !path.isAbsolute(location.root)) return undefined;
    const store = new EngineStore(location, layerFiles);
    try {
      await open(path.join(store.imageFolder, 'repositories.json'), 'r').then((file) => file.close());
      return store;
    } catch (error) {
      debug('not reading the store at %s: %s', location.root, (error as Error).message);
      return undefined;
    }
  }

  /** The engine's root folder. */
  get root(): string {
    return this.location.root;
  }

  private get imageFolder(): string {
    return path.join(this.location.root, 'image', this.location.driver);
  }

  /** The image's config, when the store holds it and it hashes to `imageId`. */
  async config(imageId: string): Promise<Buffer | undefined> {
    const hex = imageId.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{64}$/.test(hex)) return undefined;
    try {
      const bytes = await readFile(path.join(this.imageFolder, 'imagedb', 'content', 'sha256', hex));
      return sha256Digest(bytes) === imageId ? bytes : undefined;
    } catch (error) {
      debug('no config %s in the store: %s', imageId, (error as Error).message);
      return undefined;
    }
  }

  /**
   * The layer `diffIds[index]` of an image with these diffIDs: its tar as a stream, and the bytes of
   * its files (the store's own count, without the tar's headers: enough to tell a large layer from
   * a small one), or undefined when the store does not hold it as expected. The stream's bytes are
   * the layer as the engine would export it; the caller checks them against the diffID.
   */
  async layer(
    diffIds: string[],
    index: number,
  ): Promise<
    { fileBytes: number | undefined; stream: AsyncIterable<Buffer>; recycle: (chunk: Buffer) => void } | undefined
  > {
    try {
      const layerFolder = path.join(this.imageFolder, 'layerdb', 'sha256', chainId(diffIds, index).slice(7));
      const [diff, cacheId, tarSplit, size] = await Promise.all([
        readFile(path.join(layerFolder, 'diff'), 'utf8'),
        readFile(path.join(layerFolder, 'cache-id'), 'utf8'),
        readFile(path.join(layerFolder, 'tar-split.json.gz')),
        readFile(path.join(layerFolder, 'size'), 'utf8').catch(() => ''),
      ]);
      if (diff.trim() !== diffIds[index] || !/^[a-zA-Z0-9_-]+$/.test(cacheId.trim())) return undefined;
      const files = this.layerFiles(this.location.root, cacheId.trim());
      const fileBytes = /^\d+$/.test(size.trim()) ? Number(size.trim()) : undefined;
      const chunks = new ChunkPool();
      return {
        fileBytes,
        stream: failingAsStoreError(assembleTar(tarSplit, files, chunks)),
        recycle: (chunk) => chunks.recycle(chunk),
      };
    } catch (error) {
      debug('layer %s not read from the store: %s', diffIds[index], (error as Error).message);
      return undefined;
    }
  }
}

/** The chain ID of the layer at `index`: the diffID of the bottom layer, then sha256("<parent chain ID> <diffID>"). */
export function chainId(diffIds: string[], index: number): string {
  let chain = diffIds[0] as string;
  for (let i = 1; i <= index; i++) chain = sha256Digest(`${chain} ${diffIds[i] as string}`);
  return chain;
}

/**
 * The records of a tar-split file (gzipped JSON lines), one line at a time: a layer of many files
 * has a record of many megabytes.
 */
async function* readTarSplit(gzipped: Buffer): AsyncGenerator<TarSplitEntry> {
  const gunzip = createGunzip();
  gunzip.end(gzipped);
  const text = new StringDecoder('utf8');
  let rest = '';
  const parse = (line: string): TarSplitEntry => {
    const entry = JSON.parse(line) as TarSplitEntry;
    if (entry.type !== FILE_ENTRY && entry.type !== SEGMENT_ENTRY)
      throw new Error(`unknown tar-split entry ${entry.type}`);
    return entry;
  };
  for await (const chunk of gunzip) {
    const lines = (rest + text.write(chunk as Buffer)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') yield parse(line);
  }
  rest += text.end();
  if (rest.trim() !== '') yield parse(rest);
}

/**
 * The size of the chunks the tar is handed on in: the registry engine's gzip block, so that the
 * compressor takes each chunk as it is, without a copy.
 */
const CHUNK = 1024 * 1024;

/**
 * The layer's tar: the recorded stretches as they were, each file's bytes from the layer's folder,
 * written straight into chunks of `CHUNK` bytes (files are read into them; nothing is copied
 * twice). Files are read on the main thread: from the page cache that is faster than a round trip
 * through the thread pool, which the compressor keeps busy.
 */
async function* assembleTar(tarSplit: Buffer, files: string, chunks: ChunkPool): AsyncGenerator<Buffer> {
  const folders = new LayerFolders(Buffer.from(`${await realpath(files)}/`));
  let chunk = chunks.take();
  let at = 0;
  /** The chunk when it is full (and a new one begun), else undefined. */
  const full = (): Buffer | undefined => {
    if (at < CHUNK) return undefined;
    const done = chunks.lend(chunk);
    chunk = chunks.take();
    at = 0;
    return done;
  };
  for await (const entry of readTarSplit(tarSplit)) {
    if (entry.type === SEGMENT_ENTRY) {
      if (!entry.payload) continue;
      const length = Buffer.byteLength(entry.payload, 'base64');
      if (length <= CHUNK - at) {
        // Decoded straight into the chunk: a stretch (a header, padding) is small and most fit.
        at += chunk.write(entry.payload, at, length, 'base64');
      } else {
        const bytes = Buffer.from(entry.payload, 'base64');
        for (let from = 0; from < bytes.length;) {
          const n = Math.min(bytes.length - from, CHUNK - at);
          chunk.set(bytes.subarray(from, from + n), at);
          from += n;
          at += n;
          const done = full();
          if (done) yield done;
        }
      }
      const done = full();
      if (done) yield done;
    } else if ((entry.size ?? 0) > 0) {
      const size = entry.size as number;
      const name = entry.name_raw !== undefined ? Buffer.from(entry.name_raw, 'base64') : Buffer.from(entry.name ?? '');
      // The file itself is opened without following a link; its folders were checked to be folders.
      const fd = openSync(folders.file(name), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        for (let read = 0; read < size;) {
          const n = readSync(fd, chunk, at, Math.min(size - read, CHUNK - at), read);
          if (n === 0) throw new Error(`${name.toString('utf8')} is shorter than its tar-split record says`);
          read += n;
          at += n;
          const done = full();
          if (done) yield done;
        }
      } finally {
        closeSync(fd);
      }
    }
  }
  if (at > 0) yield chunk.subarray(0, at);
}

/**
 * The chunks of one layer's tar: taken back once the reader has done with them (`recycle`) and
 * filled again, rather than made anew, since fresh memory costs its page faults on first touch.
 * Only a chunk lent out and not yet taken back is taken back, so a stray or repeated `recycle`
 * cannot put a chunk in use under two readers.
 */
class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Weak: a reader that never hands chunks back (it need not) does not keep the layer in memory. */
  private readonly lent = new WeakSet<Buffer>();

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(CHUNK);
  }

  lend(chunk: Buffer): Buffer {
    this.lent.add(chunk);
    return chunk;
  }

  recycle(chunk: Buffer): void {
    if (this.lent.delete(chunk) && this.free.length < 8) this.free.push(chunk);
  }
}

/**
 * The layer's folder, and the folders in it found to be folders rather than links: never a file
 * outside it, whatever links lie on the way. Each folder is checked once, by one `lstat`, after
 * its parent.
 */
class LayerFolders {
  /** Folders (as latin1 text of their bytes, relative to the top) found to be folders. */
  private readonly checked = new Set<string>(['.']);

  constructor(private readonly top: Buffer) {}

  /** The path of the file `name` (bytes, as tar-split gives it) in the layer. */
  file(name: Buffer): Buffer {
    // latin1 keeps every byte as one character, so normalizing cannot change the name's bytes.
    const relative = path.posix.normalize(`/${name.toString('latin1')}`).slice(1);
    this.check(path.posix.dirname(relative), name);
    return this.pathOf(relative);
  }

  private pathOf(relative: string): Buffer {
    return Buffer.concat([this.top, Buffer.from(relative, 'latin1')]);
  }

  private check(folder: string, name: Buffer): void {
    if (this.checked.has(folder)) return;
    this.check(path.posix.dirname(folder), name);
    if (!lstatSync(this.pathOf(folder)).isDirectory()) {
      throw new Error(`${name.toString('utf8')} leads out of the layer's folder (through a link)`);
    }
    this.checked.add(folder);
  }
}

async function* failingAsStoreError(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } catch (error) {
    throw new EngineStoreError(`the engine store: ${(error as Error).message}`, { cause: error });
  }
}

/** sha256 of a stream, for tests and checks. */
export async function digestOf(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}
