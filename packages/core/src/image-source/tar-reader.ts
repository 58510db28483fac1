import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** One member of a tar archive, as far as image archives need it. */
export interface TarEntryHeader {
  name: string;
  /** 'file', 'directory', 'symlink', 'hardlink' or 'other'. */
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** Target of a link entry. */
  linkName: string;
}

export interface TarStreamEntry extends TarEntryHeader {
  /** The entry's bytes, read before the next entry is asked for; what is left unread is skipped. */
  body: AsyncIterable<Buffer>;
}

export interface TarIndexEntry extends TarEntryHeader {
  /** Offset of the entry's data in the file. */
  offset: number;
}

const BLOCK = 512;

/** Parses a 512-byte header; `undefined` for an end-of-archive (zero) block. */
export function parseTarHeader(block: Buffer): { header: TarEntryHeader; typeflag: string } | undefined {
  if (block.every((b) => b === 0)) return undefined;
  const text = (start: number, length: number) => {
    const raw = block.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? length : end).toString('utf8');
  };
  let stored = 0;
  for (let i = 0; i < BLOCK; i++) stored += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  const checksum = parseInt(text(148, 8).trim() || '0', 8);
  if (checksum !== stored) throw new Error('not a tar archive (a header checksum does not match)');
  const typeflag = text(156, 1) || '0';
  const prefix = block.subarray(257, 263).toString('latin1').startsWith('ustar') ? text(345, 155) : '';
  const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
  return {
    typeflag,
    header: { name, type: entryType(typeflag), size: parseSize(block.subarray(124, 136)), linkName: text(157, 100) },
  };
}

function parseSize(field: Buffer): number {
  // GNU base-256 for sizes of 8 GiB and more.
  if ((field[0] ?? 0) & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function entryType(typeflag: string): TarEntryHeader['type'] {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Records (`path=...`, `size=...`) of a pax extended header. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = parseInt(data.subarray(pos, space).toString('latin1'), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return out;
}

function normalizeName(name: string): string {
  return name.replace(/^\.\//, '').replace(/\/$/, '');
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteReader {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private readonly chunks: AsyncIterator<Buffer>;
  private done = false;

  constructor(stream: AsyncIterable<Buffer>) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffered.push(next.value);
    this.bufferedLength += next.value.length;
    return true;
  }

  /** Exactly `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.bufferedLength < n && (await this.fill()));
    const all = Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.bufferedLength = rest.length;
    return out;
  }

  /** `n` bytes as they come, without joining them. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.bufferedLength === 0 && !(await this.fill()))
        throw new Error('tar archive ends in the middle of an entry');
      const chunk = this.buffered.shift() as Buffer;
      this.bufferedLength -= chunk.length;
      if (chunk.length > left) {
        this.buffered.unshift(chunk.subarray(left));
        this.bufferedLength += chunk.length - left;
        yield chunk.subarray(0, left);
        left = 0;
      } else {
        left -= chunk.length;
        yield chunk;
      }
    }
  }

  /** Lets go of the stream (a Readable is destroyed), e.g. to drop the padding after the end-of-archive blocks. */
  async close(): Promise<void> {
    if (!this.done) await this.chunks.return?.();
    this.done = true;
  }

  async skip(n: number): Promise<void> {
    for await (const chunk of this.stream(n)) void chunk;
  }
}

/**
 * Reads a tar archive from a stream, one entry at a time: nothing is held whole but
 * the small pax and GNU long-name records.
 */
export async function* readTarStream(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<TarStreamEntry> {
  const reader = new ByteReader(stream as AsyncIterable<Buffer>);
  try {
    yield* readEntries(reader);
  } finally {
    await reader.close();
  }
}

async function* readEntries(reader: ByteReader): AsyncGenerator<TarStreamEntry> {
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.length < BLOCK) return;
    const parsed = parseTarHeader(block);
    if (!parsed) return;
    const { header, typeflag } = parsed;
    const padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
    if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
      const data = await reader.read(header.size);
      await reader.skip(padding);
      if (typeflag === 'x') pax = parsePax(data);
      else if (typeflag === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
      else longLink = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeflag === 'g') {
      await reader.skip(header.size + padding);
      continue;
    }
    const entry: TarEntryHeader = {
      ...header,
      name: normalizeName(pax.path ?? longName ?? header.name),
      linkName: pax.linkpath ?? longLink ?? header.linkName,
      size: pax.size ? Number(pax.size) : header.size,
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    // Counts what the reader of the body took, so that the rest is skipped whether it read all,
    // nothing, or stopped partway (closing the body, as a dropped upload does).
    let left = entry.size;
    const body = (async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of reader.stream(entry.size)) {
        left -= chunk.length;
        yield chunk;
      }
    })();
    yield { ...entry, body };
    await reader.skip(left + ((BLOCK - (entry.size % BLOCK)) % BLOCK));
  }
}

/**
 * Lists the entries of a tar file with their offsets, reading headers only, so that
 * each member can then be read on its own (and several at once).
 */
export async function indexTarFile(file: string): Promise<Map<string, TarIndexEntry>> {
  const handle = await open(file, 'r');
  try {
    const index = new Map<string, TarIndexEntry>();
    const block = Buffer.alloc(BLOCK);
    let position = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, BLOCK, position);
      if (bytesRead < BLOCK) break;
      const parsed = parseTarHeader(block);
      if (!parsed) break;
      const { header, typeflag } = parsed;
      const dataAt = position + BLOCK;
      const next = dataAt + header.size + ((BLOCK - (header.size % BLOCK)) % BLOCK);
      if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
        const data = Buffer.alloc(header.size);
        await handle.read(data, 0, header.size, dataAt);
        if (typeflag === 'x') pax = parsePax(data);
        else if (typeflag === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        else longLink = data.toString('utf8').replace(/\0+$/, '');
      } else if (typeflag !== 'g') {
        const name = normalizeName(pax.path ?? longName ?? header.name);
        const size = pax.size ? Number(pax.size) : header.size;
        index.set(name, {
          ...header,
          name,
          size,
          linkName: pax.linkpath ?? longLink ?? header.linkName,
          offset: dataAt,
        });
        pax = {};
        longName = undefined;
        longLink = undefined;
      }
      position = next;
    }
    return index;
  } finally {
    await handle.close();
  }
}
