import { statSync } from 'node:fs';
import { ArgumentsError } from '../errors';
import { EngineImageSource, type ImageExporter } from './engine-image-source';
import type { ImageSource } from './image-source';

/** `PATH[:REF]` after a transport prefix; the path holds no colon (skopeo's rule). */
function splitPathAndReference(rest: string): { path: string; reference?: string } {
  const colon = rest.indexOf(':');
  if (colon === -1) return { path: rest };
  const reference = rest.slice(colon + 1);
  return reference ? { path: rest.slice(0, colon), reference } : { path: rest.slice(0, colon) };
}

/**
 * The image source a user named: `docker-archive:PATH[:REF]`, `oci:PATH[:REF]`,
 * `oci-archive:PATH[:REF]` (skopeo's spelling), `docker-daemon:REF`, or a plain reference to a
 * local image in the Docker engine. `exporter` is only asked for when the engine is the source.
 */
export function openImageSource(spec: string, exporter: () => ImageExporter, field = 'source'): ImageSource {
  const transport = /^(docker-archive|oci|oci-archive|docker-daemon):(.*)$/s.exec(spec);
  if (!transport) {
    if (!spec.trim())
      throw new ArgumentsError([{ path: field, message: 'is empty: name a local image or an archive' }]);
    return new EngineImageSource(spec, exporter());
  }
  const [, kind, rest = ''] = transport;
  if (kind === 'docker-daemon') {
    if (!rest) throw new ArgumentsError([{ path: field, message: 'docker-daemon: needs an image reference after it' }]);
    return new EngineImageSource(rest, exporter());
  }
  const { path, reference } = splitPathAndReference(rest);
  if (!path) {
    throw new ArgumentsError([
      {
        path: field,
        message: `"${spec}" names no path: write ${kind}:PATH${kind === 'docker-archive' ? '' : '[:REF]'}`,
      },
    ]);
  }
  // Each reader is loaded only when its transport is used.
  if (kind === 'docker-archive') {
    const { DockerArchiveSource } = require('./docker-archive-source') as typeof import('./docker-archive-source');
    return new DockerArchiveSource(path, reference);
  }
  const { OciLayoutSource } = require('./oci-layout-source') as typeof import('./oci-layout-source');
  return new OciLayoutSource(kind as 'oci' | 'oci-archive', path, reference);
}

/**
 * For an archive or layout source: the archive is a file and the layout a folder, checked with
 * the arguments, before anything is pushed or tagged. Other sources pass.
 */
export function checkImageSourcePath(spec: string, field = 'source'): void {
  const transport = /^(docker-archive|oci|oci-archive):(.*)$/s.exec(spec);
  if (!transport) return;
  const [, kind = '', rest = ''] = transport;
  const { path } = splitPathAndReference(rest);
  if (!path) return;
  const stat = statSync(path, { throwIfNoEntry: false });
  const folder = kind === 'oci';
  const made =
    kind === 'docker-archive' ? 'docker save -o' : folder ? 'an OCI image layout folder' : 'an OCI layout tar';
  const fix = kind === 'docker-archive' ? `give a file made by \`${made}\`` : `give ${made}`;
  if (!stat) {
    throw new ArgumentsError([{ path: field, message: `"${spec}": ${path} does not exist; ${fix}` }]);
  }
  if (folder ? !stat.isDirectory() : !stat.isFile()) {
    throw new ArgumentsError([
      { path: field, message: `"${spec}": ${path} is ${folder ? 'not a folder' : 'not a file'}; ${fix}` },
    ]);
  }
}
