import type { PushResult } from '@dockpush/core';
import { listTags, manifestDigest } from './registry-api';

/**
 * Asserts that a push result reports `tags`, in that order, and that the registry at `host`
 * serves exactly those tags of `repoPath`, each with the digest the result reports.
 */
export async function expectRegistryServes(
  host: string,
  repoPath: string,
  result: PushResult,
  tags: string[],
): Promise<void> {
  expect(result.pushed.map((p) => p.tag)).toEqual(tags);
  expect((await listTags(host, repoPath)).sort()).toEqual([...tags].sort());
  for (const p of result.pushed) expect(await manifestDigest(host, repoPath, p.tag)).toBe(p.digest);
}
