import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { open, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import createDebug from 'debug';
import { sha256Digest } from './layer-digest';

const debug = createDebug('dockpush:image-source:store');

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
   * The layer `diffIds[index]` of an image with these diffIDs: its size and its tar as a stream,
   * or undefined when the store does not hold it as expected. The stream's bytes are the layer
   * as the engine would export it; the caller checks them against the diffID.
   */
  async layer(diffIds: string[], index: number): Promise<{ size: number; stream: AsyncIterable<Buffer> } | undefined> {
    try {
      const layerFolder = path.join(this.imageFolder, 'layerdb', 'sha256', chainId(diffIds, index).slice(7));
      const [diff, cacheId] = await Promise.all([
        readFile(path.join(layerFolder, 'diff'), 'utf8'),
        readFile(path.join(layerFolder, 'cache-id'), 'utf8'),
      ]);
      if (diff.trim() !== diffIds[index] || !/^[a-zA-Z0-9_-]+$/.test(cacheId.trim())) return undefined;
      const tarSplit = path.join(layerFolder, 'tar-split.json.gz');
      const files = this.layerFiles(this.location.root, cacheId.trim());
      let size = 0;
      for await (const entry of readTarSplit(tarSplit)) {
        size += entry.type === SEGMENT_ENTRY ? Buffer.from(entry.payload ?? '', 'base64').length : (entry.size ?? 0);
      }
      return { size, stream: failingAsStoreError(assembleTar(tarSplit, files)) };
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
 * The records of a tar-split file, one line at a time (a layer of many files has a record of
 * many megabytes). The compressed file is read whole, so that every failure, opening it too,
 * reaches the caller as an error of this iteration.
 */
async function* readTarSplit(file: string): AsyncGenerator<TarSplitEntry> {
  const gunzip = createGunzip();
  gunzip.end(await readFile(file));
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

/** Files up to this size are read at once on the main thread: from the page cache, faster than a round trip through the thread pool. */
const SMALL_FILE = 256 * 1024;
/** Bytes gathered before they are handed on: a layer of many small files is not handed on header by header. */
const BATCH = 256 * 1024;
/** Bytes read at once from a larger file. */
const READ_CHUNK = 256 * 1024;

/** The layer's tar: the recorded stretches as they were, each file's bytes from the layer's folder. */
async function* assembleTar(tarSplit: string, files: string): AsyncGenerator<Buffer> {
  // Paths as bytes: a name need not be UTF-8 (tar-split keeps such names as `name_raw`).
  const top = Buffer.from(`${await realpath(files)}/`);
  /** Folders (as latin1 text of their bytes) found to lie inside the layer's folder. */
  const inside = new Set<string>();
  let batch: Buffer[] = [];
  let batched = 0;
  const add = (bytes: Buffer) => {
    batch.push(bytes);
    batched += bytes.length;
  };
  const flush = () => {
    const out = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return out;
  };
  for await (const entry of readTarSplit(tarSplit)) {
    if (entry.type === SEGMENT_ENTRY) {
      if (entry.payload) add(Buffer.from(entry.payload, 'base64'));
    } else if ((entry.size ?? 0) > 0) {
      const size = entry.size as number;
      const name = entry.name_raw !== undefined ? Buffer.from(entry.name_raw, 'base64') : Buffer.from(entry.name ?? '');
      // latin1 keeps every byte as one character, so normalizing cannot change the name's bytes.
      const relative = path.posix.normalize(`/${name.toString('latin1')}`).slice(1);
      const folder = path.posix.dirname(relative);
      if (!inside.has(folder)) {
        // Never a file outside the layer's folder, whatever links lie on the way: the folder's
        // real path is checked once, and the file itself is opened without following a link.
        const real = await realpath(Buffer.concat([top, Buffer.from(folder, 'latin1')]), { encoding: 'buffer' });
        if (
          !Buffer.concat([real, Buffer.from('/')])
            .subarray(0, top.length)
            .equals(top)
        ) {
          throw new Error(`${name.toString('utf8')} leads out of the layer's folder`);
        }
        inside.add(folder);
      }
      const file = Buffer.concat([top, Buffer.from(relative, 'latin1')]);
      if (size <= SMALL_FILE) {
        add(readSmallFile(file, size));
      } else {
        if (batched > 0) yield flush();
        yield* readExactly(file, size);
      }
    }
    if (batched >= BATCH) yield flush();
  }
  if (batched > 0) yield flush();
}

/** A small file whole, read without following a link; fewer bytes than recorded is an error. */
function readSmallFile(file: Buffer, size: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const bytes = Buffer.allocUnsafe(size);
    for (let at = 0; at < size;) {
      const read = readSync(fd, bytes, at, size - at, at);
      if (read === 0) throw new Error(`${file.toString('utf8')} is shorter than its tar-split record says`);
      at += read;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

async function* failingAsStoreError(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } catch (error) {
    throw new EngineStoreError(`the engine store: ${(error as Error).message}`, { cause: error });
  }
}

/** `size` bytes of `file`, in chunks; fewer bytes there is an error (the store changed under us). */
async function* readExactly(file: Buffer, size: number): AsyncGenerator<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buffer = Buffer.allocUnsafe(Math.min(left, READ_CHUNK));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size - left);
      if (bytesRead === 0) throw new Error(`${file.toString('utf8')} is shorter than its tar-split record says`);
      left -= bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** sha256 of a stream, for tests and checks. */
export async function digestOf(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}
