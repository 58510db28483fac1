import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageSourceError } from './image-source-error';
import { sha256Digest } from './layer-digest';
import { mediaTypes } from './media-types';
import { OciLayoutSource } from './oci-layout-source';
import { descriptorOf } from '@dockpush/core/testing';

/** A layout of one image with one layer. */
function layout(): { dir: string; layer: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-oci-layout-'));
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layer = Buffer.from('not really a tar, but a blob');
  const config = Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: descriptorOf(mediaTypes.ociConfig, config),
      layers: [descriptorOf(mediaTypes.ociLayer, layer)],
    }),
  );
  for (const blob of [layer, config, manifest]) {
    writeFileSync(join(dir, 'blobs', 'sha256', sha256Digest(blob).slice('sha256:'.length)), blob);
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [descriptorOf(mediaTypes.ociManifest, manifest)] }),
  );
  return { dir, layer: sha256Digest(layer) };
}

describe('OciLayoutSource', () => {
  it('opens a layout whose manifest names blobs it holds', async () => {
    const { dir } = layout();
    try {
      const image = await new OciLayoutSource('oci', dir).open();
      expect(image.manifests[0]?.layers).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses, on opening, a layout that lacks a layer blob its manifest lists, naming both', async () => {
    const { dir, layer: missing } = layout();
    rmSync(join(dir, 'blobs', 'sha256', missing.slice('sha256:'.length)));
    try {
      const error = await new OciLayoutSource('oci', dir).open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageSourceError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `it lacks the blob ${missing} \\(${mediaTypes.ociLayer.replace(/\./g, '\\.')}\\) that manifest sha256:[a-f0-9]{64} lists`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
