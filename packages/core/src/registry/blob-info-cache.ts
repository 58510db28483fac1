import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { debugLog } from '../debug-log';

const debug = debugLog('dockpush:registry:cache');

/** What compressing one layer gave, so that a re-push need not compress it again. */
export interface CompressedBlobInfo {
  digest: string;
  size: number;
  uncompressedSize: number;
}

interface CacheData {
  /** `<diffID>|<compression>-<level>` (`gzip-1`, `zstd-3`) → the compressed blob. */
  compressed: Record<string, CompressedBlobInfo>;
  /** registry → blob digest → repositories known to hold it (most recent first). */
  locations: Record<string, Record<string, string[]>>;
}

const FILE = 'blob-info-v1.json';
const MAX_COMPRESSED = 20_000;
const MAX_REPOSITORIES_PER_BLOB = 8;

/** `$XDG_CACHE_HOME/dockpush`, else `~/.cache/dockpush`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'dockpush');
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;

function isInfo(value: unknown): value is CompressedBlobInfo {
  const v = value as CompressedBlobInfo;
  return (
    !!v &&
    typeof v.digest === 'string' &&
    digestPattern.test(v.digest) &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    Number.isSafeInteger(v.uncompressedSize) &&
    v.uncompressedSize >= 0
  );
}

/**
 * A local record of layer compressions and of which repositories hold which blobs, like
 * containers/image's blob info cache. Hints only: every answer is checked against the registry
 * (HEAD, mount) before it is used, and a file that is corrupt or tampered with (its checksum
 * does not match) is ignored, so a bad cache costs time, never a wrong push.
 */
export class BlobInfoCache {
  private constructor(
    private readonly file: string | undefined,
    private data: CacheData,
  ) {}

  /** A cache that remembers nothing (caching turned off). */
  static disabled(): BlobInfoCache {
    return new BlobInfoCache(undefined, { compressed: {}, locations: {} });
  }

  static async load(dir: string): Promise<BlobInfoCache> {
    const file = path.join(dir, FILE);
    return new BlobInfoCache(file, await readCacheFile(file));
  }

  compressed(diffId: string, compression: string): CompressedBlobInfo | undefined {
    return this.data.compressed[`${diffId}|${compression}`];
  }

  recordCompressed(diffId: string, compression: string, info: CompressedBlobInfo): void {
    const key = `${diffId}|${compression}`;
    delete this.data.compressed[key];
    this.data.compressed[key] = { digest: info.digest, size: info.size, uncompressedSize: info.uncompressedSize };
  }

  /** Repositories of `registry` other than `except` that held `digest` when last seen. */
  repositoriesHolding(registry: string, digest: string, except: string): string[] {
    return (this.data.locations[registry]?.[digest] ?? []).filter((r) => r !== except);
  }

  /** Whether `repository` of `registry` held `digest` when last seen. */
  holds(registry: string, repository: string, digest: string): boolean {
    return this.data.locations[registry]?.[digest]?.includes(repository) ?? false;
  }

  recordLocation(registry: string, repository: string, digest: string): void {
    const byDigest = (this.data.locations[registry] ??= {});
    byDigest[digest] = [repository, ...(byDigest[digest] ?? []).filter((r) => r !== repository)].slice(
      0,
      MAX_REPOSITORIES_PER_BLOB,
    );
  }

  /** The blob is not where the cache said: forget that. */
  forgetLocation(registry: string, repository: string, digest: string): void {
    const byDigest = this.data.locations[registry];
    if (byDigest?.[digest]) byDigest[digest] = byDigest[digest].filter((r) => r !== repository);
  }

  /** Merges with what other processes wrote meanwhile and replaces the file atomically. Never throws. */
  async save(): Promise<void> {
    if (!this.file) return;
    try {
      const onDisk = await readCacheFile(this.file);
      const compressed = { ...onDisk.compressed, ...this.data.compressed };
      const keys = Object.keys(compressed);
      for (const key of keys.slice(0, Math.max(0, keys.length - MAX_COMPRESSED))) delete compressed[key];
      const locations = onDisk.locations;
      for (const [registry, byDigest] of Object.entries(this.data.locations)) {
        locations[registry] = { ...locations[registry], ...byDigest };
      }
      this.data = { compressed, locations };
      const body = JSON.stringify(this.data);
      await mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${randomUUID()}.tmp`;
      await writeFile(temp, JSON.stringify({ version: 1, checksum: checksum(body), body }), { mode: 0o600 });
      await rename(temp, this.file);
    } catch (error) {
      debug('could not save the cache %s: %s', this.file, (error as Error).message);
    }
  }
}

function checksum(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

async function readCacheFile(file: string): Promise<CacheData> {
  const empty = (): CacheData => ({ compressed: {}, locations: {} });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return empty();
  }
  try {
    const outer = JSON.parse(text) as { version?: number; checksum?: string; body?: string };
    if (outer.version !== 1 || typeof outer.body !== 'string' || outer.checksum !== checksum(outer.body)) {
      debug('ignoring %s: wrong version or checksum', file);
      return empty();
    }
    const data = JSON.parse(outer.body) as Partial<CacheData>;
    const out = empty();
    for (const [key, info] of Object.entries(data.compressed ?? {})) {
      if (/^sha256:[a-f0-9]{64}\|[a-z0-9-]+$/.test(key) && isInfo(info)) out.compressed[key] = info;
    }
    for (const [registry, byDigest] of Object.entries(data.locations ?? {})) {
      for (const [digest, repositories] of Object.entries(byDigest ?? {})) {
        if (!digestPattern.test(digest) || !Array.isArray(repositories)) continue;
        const valid = repositories.filter((r): r is string => typeof r === 'string' && /^[a-z0-9._/-]+$/.test(r));
        if (valid.length) (out.locations[registry] ??= {})[digest] = valid;
      }
    }
    return out;
  } catch {
    debug('ignoring %s: not JSON', file);
    return empty();
  }
}
