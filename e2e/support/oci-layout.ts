import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

/** A one-file tar archive (ustar), as a layer holds. */
function tarOf(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'ascii');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write('00000000000\0', 136, 12, 'ascii');
  header.write(' '.repeat(8), 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512), Buffer.alloc(1024)]);
}

export interface PlatformImage {
  architecture: string;
  manifest: Descriptor;
  configDigest: string;
  diffIds: string[];
}

export interface TestOciLayout {
  dir: string;
  /** The index the layout's `ref` names. */
  index: Descriptor;
  platforms: PlatformImage[];
}

/**
 * Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) holding one image for
 * two platforms: an index named `ref`, two manifests, each with its config and one gzip layer.
 * `corruptLayerOf` writes that platform's layer with content that does not match its diffID.
 */
export function writeTwoPlatformLayout(ref: string, options: { corruptLayerOf?: string } = {}): TestOciLayout {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-oci-'));
  mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer, mediaType: string): Descriptor => {
    const digest = sha256(bytes);
    writeFileSync(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const platforms = ['amd64', 'arm64'].map((architecture): PlatformImage => {
    const layerTar = tarOf(
      `hello-${architecture}.txt`,
      Buffer.concat([Buffer.from(`${architecture}\n`), randomBytes(40_000)]),
    );
    const diffId = sha256(layerTar);
    const stored = options.corruptLayerOf === architecture ? tarOf('other.txt', randomBytes(1000)) : layerTar;
    const layer = put(gzipSync(stored), 'application/vnd.oci.image.layer.v1.tar+gzip');
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture,
        os: 'linux',
        config: { Cmd: ['/hello'] },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created_by: 'dockpush e2e' }],
      }),
    );
    const config = put(configBytes, 'application/vnd.oci.image.config.v1+json');
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layer],
      }),
    );
    const manifest = {
      ...put(manifestBytes, 'application/vnd.oci.image.manifest.v1+json'),
      platform: { architecture, os: 'linux' },
    };
    return { architecture, manifest, configDigest: config.digest, diffIds: [diffId] };
  });
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: platforms.map((p) => p.manifest),
    }),
  );
  const index = put(indexBytes, 'application/vnd.oci.image.index.v1+json');
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': ref } }],
    }),
  );
  return { dir, index, platforms };
}
