import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexTarFile, readTarStream } from './tar-reader';

/** A tar member: header (with an optional typeflag) and padded data. */
function member(name: string, data: Buffer | string, typeflag = '0', linkName = ''): Buffer {
  const body = Buffer.from(data);
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 100), 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write(' '.repeat(8), 148);
  header.write(typeflag, 156);
  header.write(linkName, 157);
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function pax(records: Record<string, string>): Buffer {
  const text = Object.entries(records)
    .map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let length = rest.length + 2;
      if (`${length}${rest}`.length !== length) length++;
      return `${length}${rest}`;
    })
    .join('');
  return member('PaxHeader', text, 'x');
}

const longName = `blobs/sha256/${'a'.repeat(120)}`;
const archive = Buffer.concat([
  member('manifest.json', '[{"Config":"c.json"}]'),
  member('dir/', '', '5'),
  pax({ path: longName }),
  member('ignored-short-name', 'long'),
  member('././@LongLink', `${'b'.repeat(110)}\0`, 'L'),
  member('short', 'gnu'),
  member('link/layer.tar', '', '2', '../dir/layer.tar'),
  member('dir/layer.tar', Buffer.alloc(70_000, 7)),
  Buffer.alloc(1024),
]);

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('readTarStream', () => {
  it.each([[1], [511], [4096], [archive.length]])('reads entries and bodies from chunks of %d bytes', async (size) => {
    const seen: Array<[string, string, number, string]> = [];
    for await (const entry of readTarStream(chunks(archive, size))) {
      let length = 0;
      if (entry.name !== 'manifest.json') for await (const part of entry.body) length += part.length;
      seen.push([entry.name, entry.type, entry.name === 'manifest.json' ? entry.size : length, entry.linkName]);
    }
    expect(seen).toEqual([
      ['manifest.json', 'file', 21, ''],
      ['dir', 'directory', 0, ''],
      [longName, 'file', 4, ''],
      ['b'.repeat(110), 'file', 3, ''],
      ['link/layer.tar', 'symlink', 0, '../dir/layer.tar'],
      ['dir/layer.tar', 'file', 70_000, ''],
    ]);
  });

  it('reads the next entry after one whose reader stopped partway and let go of it', async () => {
    const data = Buffer.concat([Buffer.alloc(40_000, 1), Buffer.alloc(30_000, 2)]);
    const twoLayers = Buffer.concat([
      member('a/layer.tar', data),
      member('b/layer.tar', 'the next one'),
      Buffer.alloc(1024),
    ]);
    const seen: Array<[string, string]> = [];
    for await (const entry of readTarStream(chunks(twoLayers, 4096))) {
      let first: Buffer | undefined;
      // Reads one chunk, then breaks off, as an upload the registry dropped does.
      for await (const part of entry.body) {
        first = part;
        break;
      }
      seen.push([entry.name, first?.toString('latin1', 0, 12) ?? '']);
    }
    expect(seen).toEqual([
      ['a/layer.tar', '\u0001'.repeat(12)],
      ['b/layer.tar', 'the next one'],
    ]);
  });

  it('refuses what is not a tar archive', async () => {
    const read = async () => {
      for await (const entry of readTarStream(chunks(Buffer.alloc(512, 1), 512))) void entry;
    };
    await expect(read()).rejects.toThrow('not a tar archive');
  });
});

describe('indexTarFile', () => {
  it('lists members with the offset of their data', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-tar-'));
    try {
      const file = path.join(dir, 'a.tar');
      writeFileSync(file, archive);
      const index = await indexTarFile(file);
      const layer = index.get('dir/layer.tar');
      expect(layer?.size).toBe(70_000);
      expect(archive[(layer?.offset ?? 0) + 69_999]).toBe(7);
      expect(index.get(longName)?.size).toBe(4);
      expect(index.get('link/layer.tar')).toMatchObject({ type: 'symlink', linkName: '../dir/layer.tar' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
