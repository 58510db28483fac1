import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chainId, digestOf, EngineStore, EngineStoreError } from './engine-store';
import { EngineImageSource, type ImageExporter } from './engine-image-source';
import { sha256Digest } from './layer-digest';

/** A layer as the engine records it: stretches of the tar as they were, and files by name. */
type Part = { segment: string } | { file: string; content: string; raw?: boolean };

/** A vfs store in a temp folder holding one image with these layers; returns its IDs. */
function fakeStore(layers: Part[][]): { root: string; id: string; diffIds: string[]; config: Buffer } {
  const root = mkdtempSync(path.join(tmpdir(), 'dockpush-store-'));
  const image = path.join(root, 'image', 'vfs');
  mkdirSync(path.join(image, 'imagedb', 'content', 'sha256'), { recursive: true });
  writeFileSync(path.join(image, 'repositories.json'), '{}');
  const diffIds = layers.map((parts) =>
    sha256Digest(Buffer.concat(parts.map((p) => Buffer.from('segment' in p ? p.segment : p.content)))),
  );
  layers.forEach((parts, index) => {
    const cacheId = `cache${index}`;
    const folder = path.join(image, 'layerdb', 'sha256', chainId(diffIds, index).slice(7));
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'diff'), diffIds[index] as string);
    writeFileSync(path.join(folder, 'cache-id'), cacheId);
    const files = path.join(root, 'vfs', 'dir', cacheId);
    mkdirSync(files, { recursive: true });
    const lines = parts.map((p, position) => {
      if ('segment' in p)
        return JSON.stringify({ type: 2, payload: Buffer.from(p.segment).toString('base64'), position });
      const name = p.file;
      mkdirSync(path.dirname(path.join(files, name)), { recursive: true });
      writeFileSync(path.join(files, name), p.content);
      const named = p.raw ? { name_raw: Buffer.from(name).toString('base64') } : { name };
      return JSON.stringify({ type: 1, ...named, size: Buffer.byteLength(p.content), position });
    });
    writeFileSync(path.join(folder, 'tar-split.json.gz'), gzipSync(`${lines.join('\n')}\n`));
    // The engine's count of the layer's file bytes.
    const fileBytes = parts.reduce((n, p) => n + ('file' in p ? Buffer.byteLength(p.content) : 0), 0);
    writeFileSync(path.join(folder, 'size'), String(fileBytes));
  });
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: diffIds } }));
  const id = sha256Digest(config);
  writeFileSync(path.join(image, 'imagedb', 'content', 'sha256', id.slice(7)), config);
  return { root, id, diffIds, config };
}

const layers: Part[][] = [
  [{ segment: 'header-a;' }, { file: 'a', content: 'content of a' }, { segment: 'pad;' }],
  [{ segment: 'header-b;' }, { file: 'dir/b', content: 'bbbb', raw: true }, { file: 'empty', content: '' }],
];

describe('EngineStore', () => {
  it('rebuilds each layer from its tar-split record and files, and gives the config', async () => {
    const fake = fakeStore(layers);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    expect(await store?.config(fake.id)).toEqual(fake.config);
    for (const index of [0, 1]) {
      const layer = await store?.layer(fake.diffIds, index);
      expect(await digestOf(layer?.stream as AsyncIterable<Buffer>)).toBe(fake.diffIds[index]);
    }
    expect((await store?.layer(fake.diffIds, 0))?.fileBytes).toBe('content of a'.length);
  });

  it('chain IDs: the bottom diffID, then sha256 of "<parent chain> <diffID>"', () => {
    const [a, b] = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`];
    expect(chainId([a, b], 0)).toBe(a);
    expect(chainId([a, b], 1)).toBe(sha256Digest(`${a} ${b}`));
  });

  it('is not used for a driver whose layers it cannot find, or a folder it cannot read', async () => {
    const fake = fakeStore(layers);
    expect(await EngineStore.open({ root: fake.root, driver: 'btrfs' })).toBeUndefined();
    expect(await EngineStore.open({ root: path.join(fake.root, 'nowhere'), driver: 'vfs' })).toBeUndefined();
    expect(await EngineStore.open({ root: 'relative', driver: 'vfs' })).toBeUndefined();
    expect(await EngineStore.open(undefined)).toBeUndefined();
  });

  it('gives nothing it cannot vouch for: a config not hashing to the ID, a layer it lacks', async () => {
    const fake = fakeStore(layers);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    writeFileSync(path.join(fake.root, 'image', 'vfs', 'imagedb', 'content', 'sha256', fake.id.slice(7)), '{}');
    expect(await store?.config(fake.id)).toBeUndefined();
    expect(await store?.layer([fake.diffIds[0] as string, `sha256:${'0'.repeat(64)}`], 1)).toBeUndefined();
  });

  it('never reads a file outside the layer folder, whatever links lie on the way', async () => {
    const fake = fakeStore([[{ segment: 'h;' }, { file: 'dir/secret', content: 'host file' }]]);
    const outside = mkdtempSync(path.join(tmpdir(), 'dockpush-outside-'));
    writeFileSync(path.join(outside, 'secret'), 'host file');
    const dir = path.join(fake.root, 'vfs', 'dir', 'cache0', 'dir');
    rmSync(dir, { recursive: true });
    symlinkSync(outside, dir);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const layer = await store?.layer(fake.diffIds, 0);
    await expect(digestOf(layer?.stream as AsyncIterable<Buffer>)).rejects.toThrow("leads out of the layer's folder");
  });

  it('a missing tar-split record: no layer (and no crash), for the export to give', async () => {
    const fake = fakeStore(layers);
    const folder = path.join(fake.root, 'image', 'vfs', 'layerdb', 'sha256', (fake.diffIds[0] as string).slice(7));
    rmSync(path.join(folder, 'tar-split.json.gz'));
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    expect(await store?.layer(fake.diffIds, 0)).toBeUndefined();
  });

  it("a layer's files gone between the record's reading and the stream (the image removed): the stream fails as a store error", async () => {
    const fake = fakeStore(layers);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const layer = await store?.layer(fake.diffIds, 0);
    rmSync(path.join(fake.root, 'vfs', 'dir', 'cache0'), { recursive: true });
    await expect(digestOf(layer?.stream as AsyncIterable<Buffer>)).rejects.toThrow(EngineStoreError);
  });

  it('hands the tar on in chunks of 1 MiB, whatever the files and stretches, and a folder that is a link fails even when it stays inside', async () => {
    const big = 'y'.repeat(1024 * 1024 + 3);
    const parts: Part[] = [{ segment: 'h'.repeat(700) }];
    for (let i = 0; i < 40; i++)
      parts.push({ file: `d${i % 3}/f${i}`, content: `${i}`.repeat(30_000 + i) }, { segment: 'p'.repeat(i) });
    parts.push({ file: 'big', content: big }, { segment: 'end' });
    const fake = fakeStore([parts]);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const sizes: number[] = [];
    const chunks: Buffer[] = [];
    for await (const chunk of (await store?.layer(fake.diffIds, 0))?.stream ?? []) {
      sizes.push(chunk.length);
      chunks.push(chunk);
    }
    expect(sha256Digest(Buffer.concat(chunks))).toBe(fake.diffIds[0]);
    expect(sizes.slice(0, -1).every((n) => n === 1024 * 1024)).toBe(true);
    expect(sizes.length).toBeGreaterThan(2);

    // d1 replaced by a link to d0, inside the layer: still not followed.
    const files = path.join(fake.root, 'vfs', 'dir', 'cache0');
    rmSync(path.join(files, 'd1'), { recursive: true });
    symlinkSync(path.join(files, 'd0'), path.join(files, 'd1'));
    const layer = await store?.layer(fake.diffIds, 0);
    await expect(digestOf(layer?.stream as AsyncIterable<Buffer>)).rejects.toThrow("leads out of the layer's folder");
  });

  it('a file whose name is not UTF-8 (name_raw) is found by its bytes', async () => {
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    const fake = fakeStore([[{ segment: 'h;' }, { file: 'placeholder', content: 'latin one' }]]);
    const files = Buffer.from(path.join(fake.root, 'vfs', 'dir', 'cache0') + '/');
    writeFileSync(Buffer.concat([files, name]), 'latin one');
    const folder = path.join(fake.root, 'image', 'vfs', 'layerdb', 'sha256', (fake.diffIds[0] as string).slice(7));
    const lines = [
      JSON.stringify({ type: 2, payload: Buffer.from('h;').toString('base64'), position: 0 }),
      JSON.stringify({ type: 1, name_raw: name.toString('base64'), size: 9, position: 1 }),
    ];
    writeFileSync(path.join(folder, 'tar-split.json.gz'), gzipSync(`${lines.join('\n')}\n`));
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const layer = await store?.layer(fake.diffIds, 0);
    expect(await digestOf(layer?.stream as AsyncIterable<Buffer>)).toBe(fake.diffIds[0]);
  });

  it('fills a chunk handed back again, and only one it lent and not yet taken back', async () => {
    const parts: Part[] = [];
    for (let i = 0; i < 6; i++)
      parts.push({ segment: 'h'.repeat(512) }, { file: `f${i}`, content: `${i}`.repeat(700_000) });
    const fake = fakeStore([parts]);
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const layer = await store?.layer(fake.diffIds, 0);
    const hash = createHash('sha256');
    const seen: Buffer[] = [];
    // Kept (never handed back, or handed back twice while another reader may have it): never filled again.
    for await (const chunk of layer?.stream ?? []) {
      hash.update(chunk);
      if (seen.some((s) => s.buffer === chunk.buffer)) throw new Error('a chunk kept by its reader was filled again');
      seen.push(chunk);
    }
    expect(`sha256:${hash.digest('hex')}`).toBe(fake.diffIds[0]);

    // Handed back, a chunk is filled again: five chunks in two buffers (one being read, one filling).
    const again = await store?.layer(fake.diffIds, 0);
    const memory = new Set<ArrayBufferLike>();
    let count = 0;
    for await (const chunk of again?.stream ?? []) {
      count++;
      memory.add(chunk.buffer);
      again?.recycle(chunk);
    }
    expect(count).toBe(5);
    expect(memory.size).toBe(2);
  });

  it('a file shorter than its record fails the layer stream', async () => {
    const fake = fakeStore(layers);
    writeFileSync(path.join(fake.root, 'vfs', 'dir', 'cache0', 'a'), 'short');
    const store = await EngineStore.open({ root: fake.root, driver: 'vfs' });
    const layer = await store?.layer(fake.diffIds, 0);
    await expect(digestOf(layer?.stream as AsyncIterable<Buffer>)).rejects.toThrow('shorter than its tar-split record');
  });
});

describe('EngineImageSource with a store', () => {
  function exporter(fake: ReturnType<typeof fakeStore>, calls: string[]): ImageExporter {
    return {
      inspect: async () => ({ Id: fake.id, RootFS: { Layers: fake.diffIds } }),
      export: async () => {
        calls.push('export');
        throw new Error('the export was asked for');
      },
      store: async () => ({ root: fake.root, driver: 'vfs' }),
    };
  }
  const visit = async (layer: { stream: AsyncIterable<Buffer> }) => digestOf(layer.stream);

  it('reads the config and the wanted layers from the store, never the export', async () => {
    const fake = fakeStore(layers);
    const calls: string[] = [];
    const image = await new EngineImageSource('app:1', exporter(fake, calls)).open();
    expect(image).toMatchObject({ kind: 'uncompressed', config: fake.config });
    const read: string[] = [];
    const config = await (image as Extract<typeof image, { kind: 'uncompressed' }>).readLayers(
      new Set(fake.diffIds),
      async (layer) => {
        read.push(layer.expectedDiffId as string);
        return visit(layer);
      },
      2,
    );
    expect(config).toEqual(fake.config);
    expect(read.sort()).toEqual([...fake.diffIds].sort());
    expect(calls).toEqual([]);
  });

  it("tries where the engine keeps images by default for the image's driver first, and asks the engine only when the image is not there", async () => {
    const fake = fakeStore(layers);
    const other = fakeStore([[{ file: 'z', content: 'another image' }]]);
    const asked: (string | undefined)[] = [];
    const guessing = (guess: string): ImageExporter => ({
      ...exporter(fake, []),
      inspect: async () => ({ Id: fake.id, RootFS: { Layers: fake.diffIds }, GraphDriver: { Name: 'vfs' } }),
      store: async (driver) => {
        asked.push(driver);
        return { root: driver ? guess : fake.root, driver: 'vfs' };
      },
    });
    // Right: the engine is not asked.
    expect(await new EngineImageSource('app:1', guessing(fake.root)).open()).toMatchObject({ config: fake.config });
    expect(asked).toEqual(['vfs']);
    // Wrong (another store, without this image): the engine is asked, and its answer used.
    asked.length = 0;
    expect(await new EngineImageSource('app:1', guessing(other.root)).open()).toMatchObject({ config: fake.config });
    expect(asked).toEqual(['vfs', undefined]);
  });

  it.each([
    ['the store cannot give whole (a file missing)', (files: string) => rmSync(path.join(files, 'a'))],
    ['whose bytes do not hash to its diffID', (files: string) => writeFileSync(path.join(files, 'a'), 'CONTENT OF A')],
  ])('a layer %s goes to the export instead', async (_what, damage) => {
    const fake = fakeStore(layers);
    damage(path.join(fake.root, 'vfs', 'dir', 'cache0'));
    const calls: string[] = [];
    const image = await new EngineImageSource('app:1', exporter(fake, calls)).open();
    const reading = (image as Extract<typeof image, { kind: 'uncompressed' }>).readLayers(
      new Set([fake.diffIds[0] as string]),
      visit,
      1,
    );
    await expect(reading).rejects.toThrow('the export was asked for');
    expect(calls).toEqual(['export']);
  });

  it('reads small layers up to the concurrency at once, large ones two at a time', async () => {
    const fake = fakeStore([
      [{ file: 'a', content: 'small one' }],
      [{ file: 'b', content: 'large one' }],
      [{ file: 'c', content: 'large two' }],
      [{ file: 'd', content: 'large three' }],
      [{ file: 'e', content: 'small two' }],
      [{ file: 'f', content: 'small three' }],
    ]);
    // Large by the store's count of their files' bytes, which is all the reader goes by.
    const large = [1, 2, 3].map((i) => fake.diffIds[i] as string);
    for (const i of [1, 2, 3]) {
      const folder = path.join(fake.root, 'image', 'vfs', 'layerdb', 'sha256', chainId(fake.diffIds, i).slice(7));
      writeFileSync(path.join(folder, 'size'), String(40 * 1024 * 1024));
    }
    const image = await new EngineImageSource('app:1', exporter(fake, [])).open();
    const reading = new Set<string>();
    let most = 0;
    let mostLarge = 0;
    await (image as Extract<typeof image, { kind: 'uncompressed' }>).readLayers(
      new Set(fake.diffIds),
      async (layer) => {
        reading.add(layer.expectedDiffId as string);
        most = Math.max(most, reading.size);
        mostLarge = Math.max(mostLarge, large.filter((d) => reading.has(d)).length);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const digest = await visit(layer);
        reading.delete(layer.expectedDiffId as string);
        return digest;
      },
      4,
    );
    // Two large layers, and a small one beside them (the fourth reader waits for a large one's turn).
    expect(mostLarge).toBe(2);
    expect(most).toBe(3);
  });

  it('after a failure that ends the push, no other layer is started', async () => {
    const fake = fakeStore(layers);
    const image = await new EngineImageSource('app:1', exporter(fake, [])).open();
    const started: string[] = [];
    const reading = (image as Extract<typeof image, { kind: 'uncompressed' }>).readLayers(
      new Set(fake.diffIds),
      async (layer) => {
        started.push(layer.expectedDiffId as string);
        throw new Error('the registry refused the credentials');
      },
      1,
    );
    await expect(reading).rejects.toThrow('the registry refused the credentials');
    expect(started).toHaveLength(1);
  });

  it('a layer the pusher did not push (its upload dropped) is not the store at fault: asked again, it comes from the store', async () => {
    const fake = fakeStore(layers);
    const calls: string[] = [];
    const image = (await new EngineImageSource('app:1', exporter(fake, calls)).open()) as Extract<
      Awaited<ReturnType<EngineImageSource['open']>>,
      { kind: 'uncompressed' }
    >;
    const dropped = fake.diffIds[0] as string;
    const read: string[] = [];
    const config = await image.readLayers(
      new Set(fake.diffIds),
      async (layer) => {
        read.push(layer.expectedDiffId as string);
        // Not pushed, as when the registry drops the upload: the source must not count it as read.
        if (layer.expectedDiffId === dropped) return undefined;
        return visit(layer);
      },
      1,
    );
    expect(config).toEqual(fake.config);
    expect(calls).toEqual([]);
    await image.readLayers(new Set([dropped]), visit, 1);
    expect(read.sort()).toEqual([...fake.diffIds].sort());
    expect(calls).toEqual([]);
  });
});
