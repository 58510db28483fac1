import path from 'node:path';
import { debugLog } from '../debug-log';
import type Dockerode from 'dockerode';
import { ImageNotFoundError } from '../errors';
import { ImageSourceError, LayerDigestMismatchError } from './image-source-error';
import { EngineStore, EngineStoreError, type EngineStoreLocation } from './engine-store';
import type { ImageSource, LayerVisitor, UncompressedImage } from './image-source';
import { isSha256Digest, parseImageConfig, sha256Digest } from './layer-digest';
import { readTarStream } from './tar-reader';

const debug = debugLog('dockpush:image-source:engine');
/** A layer this large counts as large: at most `LARGE_AT_ONCE` of them are read at once. */
const LARGE_LAYER = 32 * 1024 * 1024;
/**
 * Two large layers at once: one of many small files keeps the main thread reading while the other's
 * blocks keep the thread pool compressing (a realistic 316 MB image: 4.7 s against 5.1 s one at a
 * time; 1 GB of two layers: 7.5 s against 11 s, at 144 MB peak RSS against 134 MB). A third adds
 * memory and little else on two cores.
 */
const LARGE_AT_ONCE = 2;

/** What the engine source needs of a Docker engine: an image's identity and its export as a stream. */
export interface ImageExporter {
  inspect(reference: string): Promise<{ Id: string; RootFS?: { Layers?: string[] }; GraphDriver?: { Name?: string } }>;
  /** `GET /images/{name}/get`: the image as a `docker save` tar stream. */
  export(reference: string): Promise<NodeJS.ReadableStream>;
  /**
   * Where the engine keeps its images, when it runs on this host (see `EngineStore`); given the
   * image's graph driver, maybe a guess without asking the engine (`EnginePort.localStore`).
   */
  store?(driver?: string): Promise<EngineStoreLocation | undefined>;
  /** Tells the user something about how the image is read (the export taken for want of the store). */
  notice?(message: string): void;
}

/** An `ImageExporter` over dockerode. */
export function dockerodeExporter(docker: Dockerode): ImageExporter {
  return {
    inspect: (reference) => docker.getImage(reference).inspect(),
    export: (reference) => docker.getImage(reference).get(),
  };
}

/**
 * A local image in the Docker engine. Where the engine runs on this host and dockpush may read its
 * store, the config and the wanted layers are read from the store (`EngineStore`), several at
 * once, each checked against its digest. Otherwise, and for anything the store does not give as
 * expected, they come from the engine's export as a stream: never written to disk or held whole
 * in memory. Layers come in the archive's order, one after the other; layers not wanted are
 * skipped unread, and the export is closed as soon as every wanted layer and the config have
 * been read.
 */
export class EngineImageSource implements ImageSource {
  constructor(
    readonly name: string,
    private readonly exporter: ImageExporter,
  ) {}

  async open(): Promise<UncompressedImage> {
    let inspected: Awaited<ReturnType<ImageExporter['inspect']>>;
    try {
      inspected = await this.exporter.inspect(this.name);
    } catch (cause) {
      if ((cause as { statusCode?: number }).statusCode === 404) {
        throw new ImageNotFoundError(this.name, 'Build or pull it first, or name an archive (docker-archive:PATH).', {
          cause,
        });
      }
      throw cause;
    }
    const diffIds = inspected.RootFS?.Layers ?? [];
    if (!isSha256Digest(inspected.Id) || !diffIds.every(isSha256Digest)) {
      throw new ImageSourceError(this.name, 'the engine reports no sha256 image ID or layer list for it');
    }
    const id = inspected.Id;
    const { store, config } = await this.openStore(id, inspected.GraphDriver?.Name);
    if (config) this.checkConfig(id, diffIds, config);
    // Said once, however often the layers are asked for again (an upload the registry dropped).
    let exportNoticed = false;
    return {
      kind: 'uncompressed',
      location: this.name,
      configDigest: id,
      diffIds,
      ...(config ? { config } : {}),
      readLayers: async (wanted, visit, concurrency) => {
        const left = store ? await this.readStore(store, diffIds, wanted, visit, concurrency) : wanted;
        if (config && left.size === 0) return config;
        debug('%d layers of %s from the export', left.size, this.name);
        if (!store && left.size > 0 && !exportNoticed) {
          exportNoticed = true;
          // Worth saying: the engine writes the whole image out before the first byte comes.
          this.exporter.notice?.(
            `reading ${this.name} through the engine's export (docker save): the engine's store cannot be read ` +
              'here (another user, a remote engine, or DOCKPUSH_ENGINE_STORE=0), and the export is the whole image, ' +
              'so a re-push of a large image that changed little can be faster with --engine docker',
          );
        }
        return this.readExport(id, diffIds, left, visit);
      },
    };
  }

  /**
   * The engine's store and the image's config in it: where the engine keeps images by default for
   * the image's driver, if its config is there; else where the engine says it keeps them.
   */
  private async openStore(id: string, driver: string | undefined): Promise<{ store?: EngineStore; config?: Buffer }> {
    const at = async (location: Promise<EngineStoreLocation | undefined> | undefined) => {
      const store = await EngineStore.open(await location?.catch(() => undefined));
      return { store, config: await store?.config(id) };
    };
    const guessed = driver ? await at(this.exporter.store?.(driver)) : undefined;
    const found = guessed?.config ? guessed : await at(this.exporter.store?.());
    debug(
      'the store of %s: %s',
      this.name,
      found.store
        ? `${found.store.root}, ${found === guessed ? 'where the engine keeps images by default' : 'as the engine says'}`
        : 'none',
    );
    return found;
  }

  /**
   * Hands the wanted layers the store holds to `visit`, up to `concurrency` at once. Resolves to
   * the layers left for the export: those the store does not hold or cannot give whole, or whose
   * bytes did not hash to their diffID (then the store is not trusted for the rest either). A layer the
   * visitor did not push (it returned undefined: its upload was dropped) is neither: the pusher
   * asks for it again.
   */
  private async readStore(
    store: EngineStore,
    diffIds: string[],
    wanted: ReadonlySet<string>,
    visit: LayerVisitor,
    concurrency: number,
  ): Promise<Set<string>> {
    const left = new Set<string>();
    const queue = [...wanted].map((diffId) => [diffId, diffIds.indexOf(diffId)] as const);
    let trusted = true;
    let failed = false;
    /** Large layers being read, and the readers waiting for one of them to end. */
    let large = 0;
    const waiting: (() => void)[] = [];
    const worker = async () => {
      // After a failure no new layer is started: the push is over.
      for (let next = queue.shift(); next && !failed; next = queue.shift()) {
        const [expected, index] = next;
        const layer = trusted && index >= 0 ? await store.layer(diffIds, index) : undefined;
        if (!layer) {
          left.add(expected);
          continue;
        }
        let release = () => {};
        // A layer of unknown size is taken for a large one.
        if ((layer.fileBytes ?? Infinity) > LARGE_LAYER) {
          while (large >= LARGE_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
          large++;
          release = () => {
            large--;
            waiting.shift()?.();
          };
        }
        try {
          const actual = await visit({ expectedDiffId: expected, stream: layer.stream, recycle: layer.recycle });
          // Undefined: the pusher did not push it (its upload was dropped) and asks for it again.
          if (actual !== undefined && actual !== expected)
            throw new LayerDigestMismatchError(this.name, expected, actual);
        } catch (error) {
          if (!(error instanceof LayerDigestMismatchError || error instanceof EngineStoreError)) {
            failed = true;
            throw error;
          }
          debug('layer %s from the store of %s: %s; reading the export instead', expected, this.name, error.message);
          // Bytes that do not hash to their digest: the store is not what dockpush takes it for.
          if (error instanceof LayerDigestMismatchError) trusted = false;
          left.add(expected);
        } finally {
          release();
        }
      }
    };
    // Up to `concurrency` layers at once, large ones `LARGE_AT_ONCE` at a time. Small layers are
    // latency more than work: the requests of each overlap.
    const workers = Math.max(1, Math.min(concurrency, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    debug('%d of %d wanted layers of %s read from the engine store', wanted.size - left.size, wanted.size, this.name);
    return left;
  }

  private async readExport(
    id: string,
    diffIds: string[],
    wanted: ReadonlySet<string>,
    visit: LayerVisitor,
  ): Promise<Buffer> {
    const stream = (await this.exporter.export(id)) as NodeJS.ReadableStream & { destroy?: (e?: Error) => void };
    const configName = `${id.slice('sha256:'.length)}.json`;
    const known = new Set(diffIds);
    const digestOf = new Map<string, string>();
    const links = new Map<string, string>();
    let config: Buffer | undefined;
    let manifest: Buffer | undefined;
    /** Wanted layers read and checked so far. */
    const read = new Set<string>();
    /** Layers the visitor passed over unread: their digest is unknown, and the pusher does not need them. */
    const skipped = new Set<string>();
    /** Wanted layers the visitor did not push (their upload was dropped): the pusher asks for them again. */
    const passed = new Set<string>();
    const allRead = () => config !== undefined && [...wanted].every((d) => read.has(d) || passed.has(d));
    let stoppedEarly = false;
    const collect = async (body: AsyncIterable<Buffer>) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      return Buffer.concat(chunks);
    };
    try {
      for await (const entry of readTarStream(stream as AsyncIterable<Buffer>)) {
        if (entry.type === 'symlink' || entry.type === 'hardlink') {
          const target =
            entry.type === 'symlink' ? path.posix.join(path.posix.dirname(entry.name), entry.linkName) : entry.linkName;
          links.set(entry.name, path.posix.normalize(target));
        } else if (entry.type !== 'file') {
          continue;
        } else if (entry.name === 'manifest.json') {
          manifest = await collect(entry.body);
        } else if (entry.name === configName || entry.name === `blobs/sha256/${configName.slice(0, -5)}`) {
          config = await collect(entry.body);
        } else if (entry.name.endsWith('/layer.tar')) {
          // Docker's own save format names layers by a legacy ID: which layer this is shows once hashed.
          const digest = await visit({ size: entry.size, stream: entry.body, name: entry.name });
          if (digest === undefined) skipped.add(entry.name);
          else {
            digestOf.set(entry.name, digest);
            if (wanted.has(digest)) read.add(digest);
          }
        } else if (entry.name.startsWith('blobs/sha256/') && known.has(`sha256:${entry.name.slice(13)}`)) {
          const expected = `sha256:${entry.name.slice(13)}`;
          if (wanted.has(expected)) {
            const actual = await visit({ expectedDiffId: expected, size: entry.size, stream: entry.body });
            if (actual === undefined) passed.add(expected);
            else if (actual !== expected) throw new LayerDigestMismatchError(this.name, expected, actual);
            else read.add(expected);
          }
          digestOf.set(entry.name, expected);
        }
        if (allRead()) {
          stoppedEarly = true;
          break;
        }
      }
    } catch (error) {
      stream.destroy?.();
      throw error;
    }
    if (stoppedEarly) {
      // The rest of the export is layers the registry has: not read at all.
      stream.destroy?.();
      debug('every wanted layer and the config read: the rest of the export of %s is skipped', this.name);
      return this.checkConfig(id, diffIds, config as Buffer);
    }
    if (!config || !manifest) {
      throw new ImageSourceError(this.name, "the engine's export lacks the image config or manifest.json");
    }
    const layers = (JSON.parse(manifest.toString('utf8')) as Array<{ Layers?: string[] }>)[0]?.Layers ?? [];
    const resolve = (name: string): string => {
      for (let hops = 0; hops < 16 && links.has(name); hops++) name = links.get(name) as string;
      return name;
    };
    layers.forEach((file, i) => {
      const expected = diffIds[i] as string;
      if (skipped.has(resolve(file))) return;
      const actual = digestOf.get(resolve(file)) ?? 'nothing (the layer is missing from the export)';
      if (actual !== expected)
        throw new LayerDigestMismatchError(this.name, expected, actual ?? 'nothing (it was not read)');
    });
    if (layers.length !== diffIds.length) {
      throw new ImageSourceError(this.name, `the export lists ${layers.length} layers but the image ${diffIds.length}`);
    }
    return this.checkConfig(id, diffIds, config);
  }

  /** The config is the image's (it hashes to its ID) and lists the layers the engine reported. */
  private checkConfig(id: string, diffIds: string[], config: Buffer): Buffer {
    if (sha256Digest(config) !== id) {
      throw new ImageSourceError(this.name, `the config in the engine's export does not hash to the image ID ${id}`);
    }
    let listed: string[];
    try {
      listed = parseImageConfig(config, this.name).diffIds;
    } catch (cause) {
      throw new ImageSourceError(this.name, (cause as Error).message, { cause });
    }
    if (listed.length !== diffIds.length || listed.some((d, i) => d !== diffIds[i])) {
      throw new ImageSourceError(
        this.name,
        "the config in the engine's export lists other layers than the engine reported",
      );
    }
    return config;
  }
}
