import { ArgumentsError } from '../errors';
import { DockerArchiveSource } from './docker-archive-source';
import { EngineImageSource, type ImageExporter } from './engine-image-source';
import { OciLayoutSource } from './oci-layout-source';
import { openImageSource } from './open-image-source';

const exporter: ImageExporter = {
  inspect: async () => ({ Id: '' }),
  export: async () => {
    throw new Error('unused');
  },
};

describe('openImageSource', () => {
  it.each([
    ['docker-archive:/tmp/app.tar', DockerArchiveSource, 'docker-archive:/tmp/app.tar'],
    ['docker-archive:/tmp/app.tar:app:1', DockerArchiveSource, 'docker-archive:/tmp/app.tar:app:1'],
    ['oci:/tmp/layout', OciLayoutSource, 'oci:/tmp/layout'],
    ['oci:/tmp/layout:v1', OciLayoutSource, 'oci:/tmp/layout:v1'],
    ['oci-archive:out.tar:latest', OciLayoutSource, 'oci-archive:out.tar:latest'],
    ['docker-daemon:app:1', EngineImageSource, 'app:1'],
    ['localhost:5000/app:1', EngineImageSource, 'localhost:5000/app:1'],
    ['app', EngineImageSource, 'app'],
  ])('%s', (spec, type, name) => {
    const source = openImageSource(spec, () => exporter);
    expect(source).toBeInstanceOf(type);
    expect(source.name).toBe(name);
  });

  it.each([
    ['oci:', 'source: "oci:" names no path: write oci:PATH[:REF]'],
    ['docker-archive:', 'source: "docker-archive:" names no path: write docker-archive:PATH'],
    ['docker-daemon:', 'source: docker-daemon: needs an image reference after it'],
    ['  ', 'source: is empty: name a local image or an archive'],
  ])('%p is an ArgumentsError naming the field', (spec, message) => {
    expect(() => openImageSource(spec, () => exporter)).toThrow(ArgumentsError);
    expect(() => openImageSource(spec, () => exporter)).toThrow(message);
  });

  it('does not reach for the engine for archives', () => {
    const never = () => {
      throw new Error('engine asked for');
    };
    expect(() => openImageSource('oci:/x', never)).not.toThrow();
  });
});
