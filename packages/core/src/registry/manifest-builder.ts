import { mediaTypes } from '../image-source/media-types';
import { sha256Digest } from '../image-source/layer-digest';

export type LayerCompression = 'gzip' | 'zstd';

export interface BuiltLayer {
  digest: string;
  size: number;
  compression: LayerCompression;
}

export interface BuiltManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

/**
 * The manifest of an image whose layers dockpush compressed. Docker v2 schema 2 (what `docker push`
 * writes) unless a layer is zstd, which only the OCI format can name; the config bytes stay
 * the same either way, so the image ID does not change.
 */
export function buildImageManifest(config: { digest: string; size: number }, layers: BuiltLayer[]): BuiltManifest {
  const oci = layers.some((l) => l.compression === 'zstd');
  const layerType = (l: BuiltLayer) =>
    l.compression === 'zstd' ? mediaTypes.ociLayerZstd : oci ? mediaTypes.ociLayerGzip : mediaTypes.dockerLayerGzip;
  const mediaType = oci ? mediaTypes.ociManifest : mediaTypes.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: oci ? mediaTypes.ociConfig : mediaTypes.dockerConfig,
      size: config.size,
      digest: config.digest,
    },
    layers: layers.map((l) => ({ mediaType: layerType(l), size: l.size, digest: l.digest })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  return { mediaType, digest: sha256Digest(bytes), bytes };
}
