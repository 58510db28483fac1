import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobInfoCache, defaultCacheDir } from './blob-info-cache';

const diffId = `sha256:${'d'.repeat(64)}`;
const digest = `sha256:${'e'.repeat(64)}`;

describe('BlobInfoCache', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('remembers compressions and locations across loads', async () => {
    const cache = await BlobInfoCache.load(dir);
    cache.recordCompressed(diffId, 'gzip-1', { digest, size: 10, uncompressedSize: 20 });
    cache.recordLocation('reg:5000', 'team/app', digest);
    await cache.save();

    const again = await BlobInfoCache.load(dir);
    expect(again.compressed(diffId, 'gzip-1')).toEqual({ digest, size: 10, uncompressedSize: 20 });
    expect(again.compressed(diffId, 'gzip-6')).toBeUndefined();
    expect(again.repositoriesHolding('reg:5000', digest, 'other/app')).toEqual(['team/app']);
    expect(again.repositoriesHolding('reg:5000', digest, 'team/app')).toEqual([]);
  });

  it('keeps gzip and zstd results of one layer apart, across loads', async () => {
    const zstdDigest = `sha256:${'f'.repeat(64)}`;
    const cache = await BlobInfoCache.load(dir);
    cache.recordCompressed(diffId, 'gzip-3', { digest, size: 10, uncompressedSize: 20 });
    cache.recordCompressed(diffId, 'zstd-3', { digest: zstdDigest, size: 8, uncompressedSize: 20 });
    await cache.save();

    const again = await BlobInfoCache.load(dir);
    expect(again.compressed(diffId, 'gzip-3')).toEqual({ digest, size: 10, uncompressedSize: 20 });
    expect(again.compressed(diffId, 'zstd-3')).toEqual({ digest: zstdDigest, size: 8, uncompressedSize: 20 });
    expect(again.compressed(diffId, 'zstd-1')).toBeUndefined();
  });

  it.each([
    ['garbage', 'not json at all {'],
    ['truncated', () => readFileSync(path.join(dir, 'blob-info-v1.json'), 'utf8').slice(0, 40)],
    [
      'edited without its checksum',
      () => readFileSync(path.join(dir, 'blob-info-v1.json'), 'utf8').replace('e'.repeat(64), 'f'.repeat(64)),
    ],
    ['a wrong version', JSON.stringify({ version: 7, checksum: 'x', body: '{}' })],
  ])('ignores a %s file and then overwrites it', async (_what, content) => {
    const cache = await BlobInfoCache.load(dir);
    cache.recordCompressed(diffId, 'gzip-1', { digest, size: 10, uncompressedSize: 20 });
    await cache.save();
    const text = typeof content === 'function' ? content() : content;
    writeFileSync(path.join(dir, 'blob-info-v1.json'), text);

    const corrupt = await BlobInfoCache.load(dir);
    expect(corrupt.compressed(diffId, 'gzip-1')).toBeUndefined();
    corrupt.recordLocation('reg', 'a/b', digest);
    await corrupt.save();
    expect((await BlobInfoCache.load(dir)).repositoriesHolding('reg', digest, '')).toEqual(['a/b']);
  });

  it('drops entries that are not digests even under a valid checksum', async () => {
    const body = JSON.stringify({
      compressed: { [`${diffId}|gzip-1`]: { digest: 'md5:abc', size: 1, uncompressedSize: 1 } },
      locations: { reg: { [digest]: ['ok/repo', 'Bad Repo', 42] } },
    });
    const { createHash } = await import('node:crypto');
    const sum = createHash('sha256').update(body).digest('hex');
    writeFileSync(path.join(dir, 'blob-info-v1.json'), JSON.stringify({ version: 1, checksum: sum, body }));
    const cache = await BlobInfoCache.load(dir);
    expect(cache.compressed(diffId, 'gzip-1')).toBeUndefined();
    expect(cache.repositoriesHolding('reg', digest, '')).toEqual(['ok/repo']);
  });

  it('never fails a push when it cannot save', async () => {
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const cache = await BlobInfoCache.load(path.join(file, 'sub'));
    cache.recordLocation('reg', 'a/b', digest);
    await expect(cache.save()).resolves.toBeUndefined();
  });

  it('lives under XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/dockpush');
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'dockpush'));
  });
});
