import { once } from 'node:events';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { debugLog } from '../debug-log';
import { mapWithConcurrency } from '../concurrency';
import { ArgumentsError, PushFailedError, RegistryAuthError } from '../errors';
import type { TagOutcome } from '../push-result';
import type { LayerState, PushEvent } from '../events';
import { ImageSourceError, LayerDigestMismatchError } from '../image-source/image-source-error';
import type {
  ImageContent,
  Descriptor,
  ImageSource,
  LayerReading,
  StoredImage,
  UncompressedImage,
} from '../image-source/image-source';
import { parseImageConfig, sha256Digest } from '../image-source/layer-digest';
import { mediaTypes } from '../image-source/media-types';
import { redact } from '../redact';
import { BlobInfoCache, defaultCacheDir } from './blob-info-cache';
import { RepositoryBlobs, type BlobUploadSession } from './blob-upload';
import { bodyLength, NodeHttpClient, type HttpClient } from './http-client';
import { gzipLayer, hashing, zstdLayer } from './layer-compressor';
import { buildImageManifest, type BuiltLayer, type LayerCompression } from './manifest-builder';
import { RegistryClient, type RegistryRequest } from './registry-client';
import { anonymousCredentials, type RegistryCredentialSource } from './registry-credentials';
import { PushTimeLimitError, UploadLostError } from './registry-errors';
import { insecureRegistriesOf, isInsecureHost, loadHostTls } from './transport-policy';
import { repositoryScope } from './www-authenticate';
import { openZstdCompressor, ZSTD_LEVELS, type ZstdCompressor } from './zstd-compressor';

const debug = debugLog('dockpush:registry:push');

export interface RegistryPushOptions {
  source: ImageSource;
  /** `registry`: `host[:port]`; `path`: the repository inside it (`team/app`). */
  repository: { registry: string; path: string };
  tags: string[];
  credentials?: RegistryCredentialSource;
  /**
   * Compression of layers the source holds uncompressed (default gzip). zstd layers need an OCI
   * manifest, so with zstd the image is pushed as OCI.
   */
  compression?: LayerCompression;
  /**
   * gzip: 0–9 (default 1: the fastest, and what benches best on two cores); zstd: 1–19
   * (default 3, zstd's own).
   */
  compressionLevel?: number;
  /** Layers uploaded at once (default 3). */
  concurrency?: number;
  /** Tags whose manifests are written at once (default 4, as the arguments' `concurrency`). */
  tagsAtOnce?: number;
  /** Deadline of each request: nothing moving for this long fails it (default 60 s). */
  timeoutMs?: number;
  /** Bound on the whole push (default 30 min). */
  totalTimeoutMs?: number;
  /**
   * The bound already running, when this push is one of several that share it (the registry
   * engine's images of one run): `totalTimeoutMs` is then its length, for the message.
   */
  totalTime?: AbortSignal;
  /** Retries of each request on transient failures (default 3). */
  retries?: number;
  signal?: AbortSignal;
  emit?: (event: PushEvent) => void;
  /** Blob info cache directory; `false` turns caching off. Default: `$XDG_CACHE_HOME/dockpush` or `~/.cache/dockpush`. */
  cacheDir?: string | false;
  /** `HTTPS_PROXY`, `NO_PROXY`, `XDG_CACHE_HOME`… (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Registries allowed over plain HTTP and unverified TLS, besides loopback (`host[:port]` or CIDR). */
  insecureRegistries?: string[];
  /** Where per-registry CAs and client certificates are (default `/etc/docker/certs.d`). */
  certsDir?: string;
  /** Bytes per upload request (default 5 MiB, ECR's smallest part; memory grows with it). */
  chunkSize?: number;
  /** Test seam: the HTTP client. */
  http?: HttpClient;
  /** Test seam: opens the zstd compressor (default: Node's zlib zstd, else the WebAssembly build). */
  openZstd?: () => Promise<ZstdCompressor>;
}

export interface RegistryPushedTag {
  tag: string;
  uri: string;
  /** The manifest digest the registry serves for the tag. */
  digest: string;
  /** The manifest's size in bytes. */
  size: number;
}

export interface RegistryPushResult {
  engine: 'registry';
  /** The config digest (the image ID) of a single image; the index digest of a multi-platform image. */
  imageId: string;
  mediaType: string;
  pushed: RegistryPushedTag[];
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MiB = 1024 * 1024;
const TAGS_AT_ONCE = 4;

function validate(options: RegistryPushOptions): void {
  const issues: { path: string; message: string }[] = [];
  if (!options.repository.registry) issues.push({ path: 'repository.registry', message: 'is empty: give host[:port]' });
  if (!REPOSITORY_PATH.test(options.repository.path)) {
    issues.push({
      path: 'repository.path',
      message: `"${options.repository.path}" is not a repository path: lower-case parts separated by "/"`,
    });
  }
  if (options.tags.length === 0) issues.push({ path: 'tags', message: 'is empty: give at least one tag' });
  for (const tag of options.tags) {
    if (!TAG.test(tag))
      issues.push({ path: 'tags', message: `"${tag}" is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})` });
  }
  const compression = options.compression ?? 'gzip';
  const level = options.compressionLevel;
  if (compression !== 'gzip' && compression !== 'zstd') {
    issues.push({ path: 'compression', message: `"${String(compression)}" is not gzip or zstd` });
  } else if (level !== undefined) {
    const [min, max, range] =
      compression === 'gzip'
        ? [0, 9, 'give 0 (store) to 9 (smallest)']
        : [ZSTD_LEVELS.min, ZSTD_LEVELS.max, `give ${ZSTD_LEVELS.min} (fastest) to ${ZSTD_LEVELS.max} (smallest)`];
    if (!(Number.isInteger(level) && level >= min && level <= max)) {
      issues.push({ path: 'compressionLevel', message: `${level} is not a ${compression} level: ${range}` });
    }
  }
  for (const [name, value, min] of [
    ['concurrency', options.concurrency, 1],
    ['tagsAtOnce', options.tagsAtOnce, 1],
    ['timeoutMs', options.timeoutMs, 1],
    ['totalTimeoutMs', options.totalTimeoutMs, 1],
    ['retries', options.retries, 0],
    ['chunkSize', options.chunkSize, 1024],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) {
      issues.push({ path: name, message: `${value} is not a whole number of at least ${min}` });
    }
  }
  if (issues.length) throw new ArgumentsError(issues);
}

/**
 * Pushes an image to a registry by the OCI Distribution API, without a Docker engine in the
 * upload path: `/v2/` check and authentication, then every blob (skipped when the repository has
 * it, mounted when the cache knows another repository of the registry holds it, else compressed
 * and uploaded in resumable chunks), then the manifest (and for a multi-platform image each
 * platform's manifest, then the index) under every tag.
 *
 * Resolves to what was pushed, the digests being those the registry serves. Fails with a typed
 * error: `ArgumentsError` before anything is done, `ImageSourceError` or
 * `LayerDigestMismatchError` when the source is unreadable or corrupt (no manifest is pushed),
 * `RegistryAuthError`, `CredentialPolicyError`, `RegistryRequestError` for the registry
 * (`PushTimeLimitError` when the bound on the whole push ran out before any manifest), and
 * `PushFailedError` when some tags' manifests could not be written (or the bound ran out then).
 */
export async function pushToRegistry(options: RegistryPushOptions): Promise<RegistryPushResult> {
  validate(options);
  const env = options.env ?? process.env;
  const insecureRegistries = options.insecureRegistries ?? insecureRegistriesOf(env);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 30 * 60_000;
  const totalTime = options.totalTime ?? AbortSignal.timeout(totalTimeoutMs);
  const signal = options.signal ? AbortSignal.any([totalTime, options.signal]) : totalTime;
  const ownHttp = options.http === undefined;
  const http =
    options.http ??
    new NodeHttpClient({
      env,
      tlsFor: (host) => ({
        ...loadHostTls(host, options.certsDir),
        insecure: isInsecureHost(host, insecureRegistries),
      }),
    });
  // Opened first: a zstd that cannot load fails the push before anything is sent.
  let zstd: ZstdCompressor | undefined;
  try {
    if (options.compression === 'zstd') zstd = await (options.openZstd ?? openZstdCompressor)();
  } catch (error) {
    if (ownHttp) (http as NodeHttpClient).close();
    throw error;
  }
  const cache =
    options.cacheDir === false
      ? BlobInfoCache.disabled()
      : await BlobInfoCache.load(options.cacheDir ?? defaultCacheDir(env));
  const job = new RegistryPush(
    options,
    http,
    cache,
    { signal, totalTime, totalTimeoutMs },
    timeoutMs,
    insecureRegistries,
    zstd,
  );
  try {
    return await job.run();
  } catch (error) {
    // The bound ran out (not a cancellation): say so, whatever the request it cut saw. A
    // PushFailedError already says it for each tag not in the registry.
    throw error instanceof PushFailedError ? error : (job.timeLimitError(error) ?? error);
  } finally {
    await zstd?.close();
    await cache.save();
    if (ownHttp) (http as NodeHttpClient).close();
  }
}

/** One push: the state shared by its steps. */
class RegistryPush {
  private readonly registry: string;
  private readonly path: string;
  private readonly uris: Map<string, string>;
  private readonly compression: LayerCompression;
  /** The blob info cache's key for this compression and level (`gzip-1`, `zstd-3`): results of others never mix. */
  private readonly compressionKey: string;
  private readonly level: number;
  private readonly concurrency: number;
  private readonly chunkSize: number;
  private readonly retries: number;
  private blobs!: RepositoryBlobs;
  private client!: RegistryClient;
  /**
   * Layers whose upload the registry dropped once (by diffID, else archive member): each is read
   * again from the source once; a second drop fails the push.
   */
  private readonly droppedOnce = new Set<string>();
  private readonly signal: AbortSignal;
  private readonly totalTime: AbortSignal;
  private readonly totalTimeoutMs: number;

  constructor(
    private readonly options: RegistryPushOptions,
    private readonly http: HttpClient,
    private readonly cache: BlobInfoCache,
    /**
     * `signal`: the cancellation or the total time, whichever ends the push; `totalTime` alone,
     * and its length.
     */
    { signal, totalTime, totalTimeoutMs }: { signal: AbortSignal; totalTime: AbortSignal; totalTimeoutMs: number },
    private readonly timeoutMs: number,
    private readonly insecureRegistries: string[],
    private readonly zstd: ZstdCompressor | undefined,
  ) {
    this.signal = signal;
    this.totalTime = totalTime;
    this.totalTimeoutMs = totalTimeoutMs;
    this.registry = options.repository.registry;
    this.path = options.repository.path;
    const tags = [...new Set(options.tags)];
    this.uris = new Map(tags.map((t) => [t, `${this.registry}/${this.path}:${t}`]));
    this.compression = options.compression ?? 'gzip';
    this.level = options.compressionLevel ?? (this.compression === 'zstd' ? 3 : 1);
    this.compressionKey = `${this.compression}-${this.level}`;
    this.concurrency = options.concurrency ?? 3;
    this.chunkSize = options.chunkSize ?? 5 * MiB;
    this.retries = options.retries ?? 3;
  }

  /** Whether the caller cancelled the push (the bound running out is not a cancellation). */
  private get cancelled(): boolean {
    return this.options.signal?.aborted === true;
  }

  /**
   * What the push failed with when its bound ran out and the caller did not cancel it (`error` is
   * what the cut request saw); undefined otherwise.
   */
  timeLimitError(error: unknown): PushTimeLimitError | undefined {
    if (!this.totalTime.aborted || this.cancelled) return undefined;
    if (error instanceof PushTimeLimitError) return error;
    return new PushTimeLimitError(this.registry, this.path, this.totalTimeoutMs, { cause: error });
  }

  private emit(event: PushEvent): void {
    try {
      this.options.emit?.(event);
    } catch (error) {
      debug('a progress listener threw: %s', (error as Error).message);
    }
  }

  /**
   * A layer's progress, under the first tag only: its blob is sent once for every tag, as the
   * Docker engine's push of the first tag carries the upload too.
   */
  private layerEvent(layer: string, state: LayerState, current?: number, total?: number): void {
    const tag = this.uris.keys().next().value as string;
    this.emit({ type: 'layer', tag, layer, state, ...(current !== undefined ? { current, total } : {}) });
  }

  async run(): Promise<RegistryPushResult> {
    const started = Date.now();
    // The registry check (and the credentials it asks for) runs while the source opens: the
    // token's scopes, which name the repositories to mount from, wait for the image.
    let scopesKnown = (_scopes: string[]) => {};
    let noScopes = (_error: unknown) => {};
    const scopes = new Promise<string[]>((resolve, reject) => {
      scopesKnown = resolve;
      noScopes = reject;
    });
    scopes.catch(() => undefined);
    // Stops the client's requests: the registry check when the source fails to open, and every
    // upload still running when one has failed the push.
    const stop = new AbortController();
    this.client = new RegistryClient({
      registry: this.registry,
      http: this.http,
      credentials: this.options.credentials ?? anonymousCredentials,
      scopes,
      insecureRegistries: this.insecureRegistries,
      timeoutMs: this.timeoutMs,
      retries: this.retries,
      signal: AbortSignal.any([this.signal, stop.signal]),
      bound: this.totalTime,
    });
    this.blobs = new RepositoryBlobs(this.client, this.path, this.retries);
    const checked = this.client.ping();
    checked.catch(() => undefined);
    let content: ImageContent;
    try {
      content = await this.options.source.open(this.signal);
      this.signal.throwIfAborted();
      const candidates =
        content.kind === 'uncompressed'
          ? [
              content.configDigest,
              ...content.diffIds.map((d) => this.cache.compressed(d, this.compressionKey)?.digest),
            ].filter((d): d is string => !!d)
          : content.manifests.flatMap((m) => [m.config, ...m.layers].map((d) => d.digest));
      const mountSources = [
        ...new Set(candidates.flatMap((d) => this.cache.repositoriesHolding(this.registry, d, this.path))),
      ].slice(0, 5);
      scopesKnown([
        repositoryScope(this.path, ['pull', 'push']),
        ...mountSources.map((r) => repositoryScope(r, ['pull'])),
      ]);
    } catch (error) {
      // No image: the registry check stops, and no token is asked for (a credential lookup under
      // way, such as a credential helper's, may still run to its end).
      noScopes(error);
      stop.abort(error);
      throw error;
    }
    for (const [tag, uri] of this.uris) this.emit({ type: 'tag-started', tag, uri, attempt: 1 });
    let manifests: { imageId: string; root: { mediaType: string; digest: string; bytes: Buffer } };
    try {
      await checked;
      manifests =
        content.kind === 'uncompressed' ? await this.pushUncompressed(content) : await this.pushStored(content);
    } catch (error) {
      // The other layers' uploads end now, not after the push has been reported failed.
      stop.abort(error);
      const failure = this.timeLimitError(error) ?? error;
      // Cancelled, no tag failed: none was started, and each is reported skipped.
      if (!this.cancelled) {
        for (const [tag, uri] of this.uris) {
          this.emit({ type: 'tag-failed', tag, uri, error: redact((failure as Error).message) });
        }
      }
      throw failure;
    }
    const outcomes: TagOutcome[] = [];
    const pushed: RegistryPushedTag[] = [];
    let refused: RegistryAuthError | undefined;
    // The tags' manifests, `tagsAtOnce` at a time (a registry that throttles, such as ECR with its 10
    // PutImage calls a second, answers 429 and the request is retried with backoff): each is one small
    // request, and the blobs they name are all in the repository by now. After a cancellation no
    // manifest starts, and one already sent is awaited: its tag may land, and is reported as it did.
    await mapWithConcurrency([...this.uris], this.options.tagsAtOnce ?? TAGS_AT_ONCE, async ([tag, uri]) => {
      if (this.signal.aborted) return;
      // Each attempt at the tag's manifest: the registry client sends it again after a transient failure.
      let attempts = 1;
      const onRetry: RegistryRequest['onRetry'] = ({ attempt, delayMs, reason }) => {
        attempts = attempt;
        // `attempt` in the event is the one that failed, as the Docker engine's tag pusher tells it.
        this.emit({ type: 'tag-retrying', tag, uri, attempt: attempt - 1, delayMs, reason: redact(reason) });
      };
      try {
        const digest = await this.putManifest(tag, manifests.root, onRetry);
        pushed.push({ tag, uri, digest, size: manifests.root.bytes.length });
        const size = manifests.root.bytes.length;
        outcomes.push({ tag, uri, status: 'pushed', digest, size, attempts, imageId: manifests.imageId });
        this.emit({
          type: 'tag-done',
          tag,
          uri,
          digest,
          size: manifests.root.bytes.length,
          durationMs: Date.now() - started,
        });
      } catch (error) {
        // Stopped by the cancellation before the registry stored it: skipped, like those not started.
        if (this.cancelled && error === this.signal.reason) return;
        if (error instanceof RegistryAuthError) refused ??= error;
        const message = redact(((this.timeLimitError(error) ?? error) as Error).message);
        outcomes.push({ tag, uri, status: 'failed', error: message, attempts });
        this.emit({ type: 'tag-failed', tag, uri, error: message });
      }
    });
    // The bound ran out: each tag whose manifest was not sent fails with it.
    const limit = this.timeLimitError(this.signal.reason);
    if (limit) {
      for (const [tag, uri] of this.uris) {
        if (outcomes.some((o) => o.tag === tag)) continue;
        outcomes.push({ tag, uri, status: 'failed', error: limit.message, attempts: 1 });
        this.emit({ type: 'tag-failed', tag, uri, error: limit.message });
      }
    }
    const order = [...this.uris.keys()];
    outcomes.sort((a, b) => order.indexOf(a.tag) - order.indexOf(b.tag));
    // Cancelled: the manifests sent ended as they did (pushed, or failed: it may have landed);
    // the others never started.
    if (this.signal.aborted) {
      if (outcomes.length > 0) throw new PushFailedError(outcomes, { cause: limit ?? this.signal.reason });
      this.signal.throwIfAborted();
    }
    // Credentials refused (after the session had its chance to renew them) fail the push as they
    // would on any other request, unless some tags were written: then each tag's outcome tells.
    if (refused && pushed.length === 0) throw refused;
    if (outcomes.some((o) => o.status !== 'pushed')) throw new PushFailedError(outcomes);
    pushed.sort((a, b) => order.indexOf(a.tag) - order.indexOf(b.tag));
    return { engine: 'registry', imageId: manifests.imageId, mediaType: manifests.root.mediaType, pushed };
  }

  /** PUT of a manifest; the digest is the one the registry reports serving. */
  private async putManifest(
    reference: string,
    manifest: { mediaType: string; digest: string; bytes: Buffer },
    onRetry?: RegistryRequest['onRetry'],
  ): Promise<string> {
    const response = await this.client.request({
      ...(onRetry ? { onRetry } : {}),
      method: 'PUT',
      target: `/v2/${this.path}/manifests/${reference}`,
      headers: { 'Content-Type': manifest.mediaType },
      body: manifest.bytes,
      ok: [200, 201, 202, 403],
      what: `manifest ${reference}`,
      finishOnCancel: true,
    });
    if (response.status === 403) {
      // Denied this tag (an immutable tag, a policy): the tag fails, the credentials were accepted.
      throw this.client.errorFor(
        'PUT',
        `/v2/${this.path}/manifests/${reference}`,
        response,
        `manifest ${reference} (access denied; check that you may push this tag to this repository)`,
      );
    }
    const served = response.headers['docker-content-digest'];
    const digest = typeof served === 'string' && served ? served : manifest.digest;
    if (digest !== manifest.digest) {
      // Reported as the registry says (it serves the tag under that digest), and told.
      this.emit({
        type: 'notice',
        message: `${this.registry} reports ${digest} for the manifest of ${reference}, which dockpush sent as ${manifest.digest}: the registry changed it, or does not say what it stores`,
      });
    }
    return digest;
  }

  /**
   * Reuses a blob the repository has, or mounts it from a repository the cache names. Resolves to
   * the blob's size in the repository, or undefined when it has to be uploaded. When the cache
   * knows the blob only in other repositories (a push to a new repository), the mount is tried
   * first: a mount of a blob the repository already has succeeds too, and the HEAD that checks
   * each mount doubles as the check for the blob.
   */
  private async reuse(digest: string, size?: number): Promise<number | undefined> {
    const fits = (have: number | undefined) => have !== undefined && (size === undefined || have === size);
    const elsewhere = this.cache.repositoriesHolding(this.registry, digest, this.path).slice(0, 3);
    const headFirst = elsewhere.length === 0 || this.cache.holds(this.registry, this.path, digest);
    if (headFirst) {
      const have = await this.blobs.exists(digest);
      if (fits(have)) {
        this.cache.recordLocation(this.registry, this.path, digest);
        return have;
      }
    }
    for (const from of elsewhere) {
      const mount = await this.blobs.mount(digest, from).catch((error: unknown) => {
        debug('mount of %s from %s failed: %s', digest, from, (error as Error).message);
        return undefined;
      });
      if (mount?.mounted) {
        const mounted = await this.blobs.exists(digest);
        if (fits(mounted)) {
          this.cache.recordLocation(this.registry, this.path, digest);
          return mounted;
        }
      }
      await (mount && !mount.mounted ? mount.upload?.cancel() : undefined);
      this.cache.forgetLocation(this.registry, from, digest);
    }
    if (!headFirst) {
      // No mount worked: the repository may still have the blob, pushed by someone else.
      const have = await this.blobs.exists(digest);
      if (fits(have)) {
        this.cache.recordLocation(this.registry, this.path, digest);
        return have;
      }
    }
    return undefined;
  }

  // ---- images the source holds uncompressed: compress, upload, build the manifest ----

  private async pushUncompressed(
    image: UncompressedImage,
  ): Promise<{ imageId: string; root: { mediaType: string; digest: string; bytes: Buffer } }> {
    const layers = new Map<string, BuiltLayer>();
    const wanted = new Set<string>();
    const unique = [...new Set(image.diffIds)];
    // The config too may be mounted: then an image whose layers are all known needs no export.
    // Checked beside the layers, not after them.
    const configReused = this.reuse(image.configDigest);
    configReused.catch(() => undefined);
    await mapWithConcurrency(unique, Math.max(this.concurrency, 4), async (diffId) => {
      const id = short(diffId);
      this.layerEvent(id, 'preparing');
      const known = this.cache.compressed(diffId, this.compressionKey);
      if (known && (await this.reuse(known.digest, known.size)) !== undefined) {
        layers.set(diffId, { digest: known.digest, size: known.size, compression: this.compression });
        this.layerEvent(id, 'exists');
        return;
      }
      wanted.add(diffId);
      this.layerEvent(id, 'waiting');
    });

    let configSize = await configReused;
    let config = image.config;
    // A config the source gave up front (the engine's store, an archive) goes up beside the layers.
    const configUpload =
      configSize === undefined && config !== undefined ? this.uploadConfig(image, config) : undefined;
    configUpload?.catch(() => undefined);
    if (wanted.size > 0 || (configSize === undefined && config === undefined)) {
      try {
        config = await this.readLayers(image, wanted, layers);
      } catch (error) {
        // The config's upload is not left running behind a failed push.
        await configUpload?.catch(() => undefined);
        throw error;
      }
    }
    configSize ??= await (configUpload ?? this.uploadConfig(image, config as Buffer));
    const built = buildImageManifest(
      { digest: image.configDigest, size: configSize },
      image.diffIds.map((d) => layers.get(d) as BuiltLayer),
    );
    return { imageId: image.configDigest, root: built };
  }

  /** Uploads the image's config, which must hash to the image ID; resolves to its size. */
  private async uploadConfig(image: UncompressedImage, bytes: Buffer): Promise<number> {
    if (sha256Digest(bytes) !== image.configDigest) {
      throw new ImageSourceError(image.location, `its config does not hash to the image ID ${image.configDigest}`);
    }
    const session = await this.blobs.startUpload();
    await session.finish(image.configDigest, bytes, 'upload of the image config');
    this.cache.recordLocation(this.registry, this.path, image.configDigest);
    return bytes.length;
  }

  /** Has the source hand over the wanted layers; a stream may need a second pass for a layer it could not tell apart. */
  private async readLayers(
    image: UncompressedImage,
    wanted: Set<string>,
    layers: Map<string, BuiltLayer>,
  ): Promise<Buffer> {
    // Sizes of layers the registry already has, to let a stream that cannot name its layers skip
    // them unread. A wanted layer of the same size is then skipped too: the second pass reads it.
    const presentSizes = new Map<number, number>();
    for (const diffId of new Set(image.diffIds)) {
      const size = wanted.has(diffId)
        ? undefined
        : this.cache.compressed(diffId, this.compressionKey)?.uncompressedSize;
      if (size !== undefined) presentSizes.set(size, (presentSizes.get(size) ?? 0) + 1);
    }
    // Sizes of the unnamed layers uploaded, and of those passed over or dropped: a later pass
    // passes over a layer whose size only uploaded ones have (it is one of them).
    const uploadedSizes = new Set<number>();
    const leftSizes = new Set<number>();
    let remaining = new Set(wanted);
    for (let pass = 1; ; pass++) {
      const droppedBefore = this.droppedOnce.size;
      const config = await image.readLayers(
        remaining,
        async (layer) => {
          if (layer.expectedDiffId === undefined) {
            const uploaded =
              pass === 1 ? presentSizes.has(layer.size) : uploadedSizes.has(layer.size) && !leftSizes.has(layer.size);
            if (uploaded) {
              leftSizes.add(layer.size);
              return undefined;
            }
          }
          const diffId = await this.uploadLayer(image, layer, layers);
          if (layer.expectedDiffId === undefined) (diffId ? uploadedSizes : leftSizes).add(layer.size);
          return diffId;
        },
        this.concurrency,
      );
      remaining = new Set([...wanted].filter((d) => !layers.has(d)));
      if (remaining.size === 0) return config;
      // A second pass reads what the first passed over; another only for uploads dropped in it.
      if (pass >= 2 && this.droppedOnce.size === droppedBefore) break;
      debug('pass %d left %d layers, reading the source again', pass, remaining.size);
    }
    throw new ImageSourceError(image.location, `it did not yield the layers ${[...remaining].join(', ')}`);
  }

  /**
   * Compresses and uploads a layer. Resolves to its diffID, or to undefined when the registry
   * dropped the upload midway for the first time: the layer is then read again from the source.
   */
  private async uploadLayer(
    image: UncompressedImage,
    layer: LayerReading,
    layers: Map<string, BuiltLayer>,
  ): Promise<string | undefined> {
    const expected = layer.expectedDiffId;
    const id = expected ? short(expected) : shortName(layer.name);
    const what = `upload of layer ${id}`;
    const { output, result, sent } = this.zstd
      ? zstdLayer(layer.stream, { level: this.level, compressor: this.zstd })
      : gzipLayer(layer.stream, { level: this.level, ...(layer.recycle ? { recycle: layer.recycle } : {}) });
    this.layerEvent(id, 'pushing', 0);
    try {
      const compressed = await this.uploadBlob(
        output,
        what,
        (bytes) => this.layerEvent(id, 'pushing', bytes),
        () => {
          const done = result();
          if (expected && done.diffId !== expected) {
            throw new LayerDigestMismatchError(image.location, expected, done.diffId);
          }
          return done;
        },
        sent,
      );
      layers.set(compressed.diffId, {
        digest: compressed.digest,
        size: compressed.size,
        compression: this.compression,
      });
      this.cache.recordCompressed(compressed.diffId, this.compressionKey, compressed);
      this.cache.recordLocation(this.registry, this.path, compressed.digest);
      this.layerEvent(id, 'pushed');
      return compressed.diffId;
    } catch (error) {
      if (!(error instanceof UploadLostError)) throw error;
      const key = expected ?? layer.name ?? id;
      if (this.droppedOnce.has(key)) throw droppedAgain(error);
      this.droppedOnce.add(key);
      debug('the registry dropped the upload of layer %s after %d bytes: it is read again', id, error.sentBytes);
      this.layerEvent(id, 'waiting');
      return undefined;
    }
  }

  /**
   * Uploads a blob from a stream: the upload opened (`POST`) while the stream's first bytes come,
   * then sent in chunks, or whole in the closing `PUT` when the stream ends within its first
   * chunk. `checked` runs once the stream has ended: it gives the blob's digest, or throws (bytes
   * that do not match what was expected). An upload that fails is abandoned.
   */
  private async uploadBlob<T extends { digest: string }>(
    stream: AsyncIterable<Buffer>,
    what: string,
    progress: (bytes: number) => void,
    checked: () => T | Promise<T>,
    sent: (part: Buffer) => void = () => undefined,
  ): Promise<T> {
    const session = this.openUpload();
    try {
      const whole = await this.sendChunks(session, stream, what, progress, sent);
      const blob = await checked();
      await (await session).finish(blob.digest, whole, what);
      if (whole) {
        // Sent in one request: its bytes are all there at once.
        progress(bodyLength(whole));
        whole.forEach(sent);
      }
      return blob;
    } catch (error) {
      cancel(session);
      throw error;
    }
  }

  /** Opens a blob upload (`POST`) without waiting for it; a failure surfaces where it is awaited. */
  private openUpload(): Promise<BlobUploadSession> {
    const session = this.blobs.startUpload();
    session.catch(() => undefined);
    return session;
  }

  /**
   * Groups a stream into chunks and sends them, one request in flight while the next chunk is
   * gathered. A chunk is the stream's own buffers (cut where a chunk ends), sent back to back: no
   * copy, so no fresh memory to fill. With one in flight, at most two chunks are held.
   *
   * Each of the stream's buffers goes to `sent` once the request that carried its last byte has
   * been answered.
   *
   * A blob that ends within its first chunk is not sent here: it resolves to its bytes (the
   * stream's buffers, whole), for the closing `PUT` to carry (a monolithic upload: one request
   * fewer, which is most of a small layer's time). Otherwise it resolves to undefined, all sent.
   */
  private async sendChunks(
    opened: Promise<BlobUploadSession>,
    stream: AsyncIterable<Buffer>,
    what: string,
    progress: (bytes: number) => void,
    sent: (part: Buffer) => void = () => undefined,
  ): Promise<Buffer[] | undefined> {
    const size = this.chunkSize;
    let inflight: Promise<void> | undefined;
    const send = async (chunk: Buffer[], ending: Buffer[]) => {
      await inflight;
      this.signal.throwIfAborted();
      const session = await opened;
      inflight = session.write(chunk, what).then(() => {
        progress(session.offset);
        ending.forEach(sent);
      });
      inflight.catch(() => undefined);
    };
    let chunk: Buffer[] = [];
    /** The stream's buffers whose last byte is in `chunk`. */
    let ending: Buffer[] = [];
    let at = 0;
    for await (const part of stream) {
      for (let from = 0; from < part.length;) {
        const n = Math.min(part.length - from, size - at);
        chunk.push(n === part.length ? part : part.subarray(from, from + n));
        from += n;
        at += n;
        if (from === part.length) ending.push(part);
        if (at === size) {
          await send(chunk, ending);
          chunk = [];
          ending = [];
          at = 0;
        }
      }
    }
    if (inflight === undefined) return chunk;
    if (at > 0) await send(chunk, ending);
    await inflight;
    return undefined;
  }

  // ---- images the source holds as blobs and manifests: pushed byte for byte ----

  private async pushStored(
    image: StoredImage,
  ): Promise<{ imageId: string; root: { mediaType: string; digest: string; bytes: Buffer } }> {
    const blobs = new Map<string, { descriptor: Descriptor; diffId?: string }>();
    for (const manifest of image.manifests) {
      const config = await readStream(image.openBlob(manifest.config.digest)).catch((cause: unknown) => {
        throw new ImageSourceError(image.location, `it lacks the config blob ${manifest.config.digest}`, { cause });
      });
      if (sha256Digest(config) !== manifest.config.digest) {
        throw new ImageSourceError(
          image.location,
          `its config blob ${manifest.config.digest} does not match its digest`,
        );
      }
      blobs.set(manifest.config.digest, { descriptor: manifest.config });
      // An artifact (an attestation, a signature: a config that is not an image's) has no
      // diffIDs: its blobs are pushed as they are, each checked against its digest.
      if (manifest.config.mediaType !== mediaTypes.ociConfig && manifest.config.mediaType !== mediaTypes.dockerConfig) {
        for (const layer of manifest.layers) blobs.set(layer.digest, { descriptor: layer });
        continue;
      }
      let diffIds: string[] = [];
      try {
        diffIds = parseImageConfig(config, `manifest ${manifest.digest}`).diffIds;
      } catch (cause) {
        throw new ImageSourceError(image.location, (cause as Error).message, { cause });
      }
      if (diffIds.length !== manifest.layers.length) {
        throw new ImageSourceError(
          image.location,
          `manifest ${manifest.digest} lists ${manifest.layers.length} layers but its config ${diffIds.length}`,
        );
      }
      manifest.layers.forEach((layer, i) => blobs.set(layer.digest, { descriptor: layer, diffId: diffIds[i] }));
    }
    await mapWithConcurrency([...blobs.values()], this.concurrency, async ({ descriptor, diffId }) => {
      const id = short(descriptor.digest);
      this.layerEvent(id, 'preparing');
      if ((await this.reuse(descriptor.digest, descriptor.size)) !== undefined) {
        this.layerEvent(id, 'exists');
        return;
      }
      await this.uploadStoredBlob(image, descriptor, diffId, id);
      this.layerEvent(id, 'pushed');
    });
    if (image.index) {
      for (const manifest of image.manifests) await this.putManifest(manifest.digest, manifest);
      return { imageId: image.index.digest, root: image.index };
    }
    const only = image.manifests[0] as StoredImage['manifests'][number];
    return { imageId: only.config.digest, root: only };
  }

  /** Uploads a stored blob; one the registry drops midway is opened and uploaded again, once. */
  private async uploadStoredBlob(
    image: StoredImage,
    descriptor: Descriptor,
    diffId: string | undefined,
    id: string,
  ): Promise<void> {
    try {
      await this.sendStoredBlob(image, descriptor, diffId, id);
    } catch (error) {
      if (!(error instanceof UploadLostError)) throw error;
      debug('the registry dropped the upload of blob %s after %d bytes: it is sent again', id, error.sentBytes);
      this.layerEvent(id, 'waiting');
      try {
        await this.sendStoredBlob(image, descriptor, diffId, id);
      } catch (again) {
        throw again instanceof UploadLostError ? droppedAgain(again) : again;
      }
    }
  }

  private async sendStoredBlob(
    image: StoredImage,
    descriptor: Descriptor,
    diffId: string | undefined,
    id: string,
  ): Promise<void> {
    const what = `upload of blob ${id}`;
    const source = hashing(image.openBlob(descriptor.digest));
    const uncompressed = diffId ? diffIdCheck(descriptor.mediaType) : undefined;
    const tee = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of source.output) {
        await uncompressed?.write(chunk);
        yield chunk;
      }
    };
    await this.uploadBlob(
      tee(),
      what,
      (sent) => this.layerEvent(id, 'pushing', sent, descriptor.size),
      async () => {
        if (source.digest() !== descriptor.digest || source.size() !== descriptor.size) {
          throw new ImageSourceError(
            image.location,
            `its blob ${descriptor.digest} does not match its digest or size: the layout is corrupt`,
          );
        }
        const actualDiffId = await uncompressed?.end();
        if (diffId && actualDiffId && actualDiffId !== diffId)
          throw new LayerDigestMismatchError(image.location, diffId, actualDiffId);
        return descriptor;
      },
    );
    this.cache.recordLocation(this.registry, this.path, descriptor.digest);
  }
}

/**
 * Abandons an upload, if it was opened at all, without waiting: the failure that called for it
 * is reported (and the push's other uploads stopped) at once, not after a registry that may be
 * the failure's cause answers a `DELETE`. The registry expires an upload left open anyway.
 */
function cancel(session: Promise<BlobUploadSession>): void {
  void session.then(
    (opened) => opened.cancel(),
    () => undefined,
  );
}

/** The error for a blob whose upload the registry dropped again after it was read once more. */
function droppedAgain(error: UploadLostError): UploadLostError {
  return new UploadLostError(error.registry, error.path, error.what, error.sentBytes, true, { cause: error });
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** A progress name for a layer known only by its archive member (`<id>/layer.tar`). */
function shortName(name: string | undefined): string {
  return (name ?? 'layer').split('/')[0]?.slice(0, 12) || 'layer';
}

async function readStream(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * The diffID of a stored layer, computed while it is uploaded: gunzipped for gzip layers, as is
 * for plain tar; undefined for other media types (zstd), which are checked by digest only.
 */
function diffIdCheck(
  mediaType: string,
): { write(chunk: Buffer): Promise<void>; end(): Promise<string | undefined> } | undefined {
  const hash = createHash('sha256');
  if (mediaType === mediaTypes.ociLayer || mediaType === 'application/vnd.docker.image.rootfs.diff.tar') {
    return { write: async (chunk) => void hash.update(chunk), end: async () => `sha256:${hash.digest('hex')}` };
  }
  if (!mediaType.endsWith('+gzip') && !mediaType.endsWith('.tar.gzip')) return undefined;
  const gunzip = zlib.createGunzip();
  let failed: Error | undefined;
  gunzip.on('data', (chunk: Buffer) => hash.update(chunk));
  gunzip.on('error', (error) => (failed = error));
  return {
    write: async (chunk) => {
      if (failed) return;
      if (!gunzip.write(chunk))
        await Promise.race([once(gunzip, 'drain'), once(gunzip, 'error')]).catch(() => undefined);
    },
    end: async () => {
      if (!failed) {
        gunzip.end();
        await Promise.race([once(gunzip, 'end'), once(gunzip, 'error')]).catch(() => undefined);
      }
      return failed ? `not gzip (${failed.message})` : `sha256:${hash.digest('hex')}`;
    },
  };
}
