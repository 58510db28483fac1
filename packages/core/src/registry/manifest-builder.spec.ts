import { buildImageManifest } from './manifest-builder';
import { sha256Digest } from '../image-source/layer-digest';

const config = { digest: `sha256:${'c'.repeat(64)}`, size: 1234 };
const layer = (n: string, compression: 'gzip' | 'zstd' = 'gzip') => ({
  digest: `sha256:${n.repeat(64)}`,
  size: 10,
  compression,
});

describe('buildImageManifest', () => {
  it('writes Docker v2 schema 2 for gzip layers, as docker push does', () => {
    const built = buildImageManifest(config, [layer('a'), layer('b')]);
    const manifest = JSON.parse(built.bytes.toString());
    expect(built.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1234, digest: config.digest },
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 10, digest: layer('a').digest },
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 10, digest: layer('b').digest },
      ],
    });
    expect(built.digest).toBe(sha256Digest(built.bytes));
  });

  it('switches to the OCI format when a layer is zstd, keeping the config digest', () => {
    const built = buildImageManifest(config, [layer('a', 'zstd'), layer('b')]);
    const manifest = JSON.parse(built.bytes.toString());
    expect(built.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      size: 1234,
      digest: config.digest,
    });
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+zstd',
      'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
  });
});
