import { createHash } from 'node:crypto';

/** `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A digest as the image formats write it; anything else is refused. */
export function isSha256Digest(value: unknown): value is string {
  return typeof value === 'string' && /^sha256:[a-f0-9]{64}$/.test(value);
}

/** The parts of an image config the pusher needs. */
export function parseImageConfig(bytes: Buffer, where: string): { diffIds: string[] } {
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new Error(`${where}: the image config is not JSON`, { cause });
  }
  const diffIds = (config as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every(isSha256Digest)) {
    throw new Error(`${where}: the image config has no valid rootfs.diff_ids`);
  }
  return { diffIds };
}
