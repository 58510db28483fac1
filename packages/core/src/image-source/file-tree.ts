import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { indexTarFile, type TarIndexEntry } from './tar-reader';

/**
 * Read access to the files of an image archive, be it a directory (an OCI layout) or a
 * tar file (`docker save`, `oci-archive:`): members are opened on their own, several at once.
 */
export interface FileTree {
  /** What the user named, for messages. */
  readonly location: string;
  has(name: string): Promise<boolean>;
  size(name: string): Promise<number>;
  read(name: string): Promise<Buffer>;
  open(name: string): Readable;
}

/** A directory on disk. */
export class DirectoryFileTree implements FileTree {
  constructor(readonly location: string) {}

  private resolve(name: string): string {
    const full = path.resolve(this.location, name);
    if (!full.startsWith(path.resolve(this.location) + path.sep)) {
      throw new Error(`${this.location}: "${name}" points outside the image layout`);
    }
    return full;
  }

  async has(name: string): Promise<boolean> {
    return stat(this.resolve(name)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  async size(name: string): Promise<number> {
    return (await stat(this.resolve(name))).size;
  }

  read(name: string): Promise<Buffer> {
    return readFile(this.resolve(name));
  }

  open(name: string): Readable {
    return createReadStream(this.resolve(name), { highWaterMark: 1024 * 1024 });
  }
}

/** A tar file, indexed once by its headers; links inside it are followed. */
export class TarFileTree implements FileTree {
  private constructor(
    readonly location: string,
    private readonly index: Map<string, TarIndexEntry>,
  ) {}

  static async open(file: string): Promise<TarFileTree> {
    return new TarFileTree(file, await indexTarFile(file));
  }

  private entry(name: string): TarIndexEntry | undefined {
    let current = path.posix.normalize(name);
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.index.get(current);
      if (!entry) return undefined;
      if (entry.type === 'file') return entry;
      if (entry.type === 'symlink')
        current = path.posix.normalize(path.posix.join(path.posix.dirname(current), entry.linkName));
      else if (entry.type === 'hardlink') current = path.posix.normalize(entry.linkName);
      else return undefined;
    }
    return undefined;
  }

  private required(name: string): TarIndexEntry {
    const entry = this.entry(name);
    if (!entry) throw new Error(`${this.location} has no file "${name}"`);
    return entry;
  }

  async has(name: string): Promise<boolean> {
    return this.entry(name) !== undefined;
  }

  async size(name: string): Promise<number> {
    return this.required(name).size;
  }

  async read(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  open(name: string): Readable {
    const entry = this.required(name);
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.location, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: 1024 * 1024,
    });
  }
}
