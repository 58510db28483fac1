import { DirectoryFileTree, TarFileTree, type FileTree } from './file-tree';
import { ImageSourceError } from './image-source-error';
import type { Descriptor, ImageSource, StoredImage, StoredManifest } from './image-source';
import { isSha256Digest, sha256Digest } from './layer-digest';
import { mediaTypes } from './media-types';

const refAnnotation = 'org.opencontainers.image.ref.name';
const isIndexType = (t: string) => t === mediaTypes.ociIndex || t === mediaTypes.dockerManifestList;
const isManifestType = (t: string) => t === mediaTypes.ociManifest || t === mediaTypes.dockerManifest;

/**
 * `oci:DIR[:REF]` and `oci-archive:FILE[:REF]`: an OCI image layout. REF picks a manifest by its
 * `org.opencontainers.image.ref.name`; without it the layout must hold one image (or an index
 * whose entries are all platforms of one image). Blobs and manifests are pushed as they are.
 */
export class OciLayoutSource implements ImageSource {
  constructor(
    private readonly transport: 'oci' | 'oci-archive',
    private readonly location: string,
    private readonly reference?: string,
  ) {}

  get name(): string {
    return `${this.transport}:${this.location}${this.reference ? `:${this.reference}` : ''}`;
  }

  async open(): Promise<StoredImage> {
    let tree: FileTree;
    try {
      tree = this.transport === 'oci' ? new DirectoryFileTree(this.location) : await TarFileTree.open(this.location);
    } catch (cause) {
      throw new ImageSourceError(this.name, (cause as Error).message, { cause });
    }
    return openOciLayout(tree, this.name, this.reference);
  }
}

function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return `blobs/${algorithm}/${hex}`;
}

function parseJson(bytes: Buffer, what: string, fail: (d: string) => never): Record<string, unknown> {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return fail(`${what} is not a JSON object`);
}

function descriptors(value: unknown, what: string, fail: (d: string) => never): Descriptor[] {
  if (!Array.isArray(value)) return fail(`${what} is not a list of descriptors`);
  return value.map((d: Partial<Descriptor>, i) => {
    if (!d || typeof d.mediaType !== 'string' || !isSha256Digest(d.digest) || typeof d.size !== 'number') {
      return fail(`${what}[${i}] is not a descriptor with mediaType, a sha256 digest and size`);
    }
    return d as Descriptor;
  });
}

/** Reads index.json, picks the image, and reads every manifest it needs (verified by digest). */
export async function openOciLayout(tree: FileTree, name: string, reference?: string): Promise<StoredImage> {
  const fail = (detail: string): never => {
    throw new ImageSourceError(name, detail);
  };
  if (!(await tree.has('index.json'))) fail('it has no index.json, so it is not an OCI image layout');
  const layoutIndex = parseJson(await tree.read('index.json'), 'index.json', fail);
  const entries = descriptors(layoutIndex.manifests, 'index.json manifests', fail);

  const readBlob = async (descriptor: Descriptor): Promise<Buffer> => {
    const path = blobPath(descriptor.digest);
    if (!(await tree.has(path))) fail(`it lacks the blob ${descriptor.digest} (${descriptor.mediaType})`);
    const bytes = await tree.read(path);
    if (sha256Digest(bytes) !== descriptor.digest || bytes.length !== descriptor.size) {
      fail(`its blob ${descriptor.digest} does not match its digest or size: the layout is corrupt`);
    }
    return bytes;
  };
  const readManifest = async (descriptor: Descriptor): Promise<StoredManifest> => {
    const bytes = await readBlob(descriptor);
    const manifest = parseJson(bytes, `manifest ${descriptor.digest}`, fail);
    const mediaType = typeof manifest.mediaType === 'string' ? manifest.mediaType : descriptor.mediaType;
    if (!isManifestType(mediaType)) fail(`${descriptor.digest} is a ${mediaType}, not an image manifest`);
    const [config] = descriptors([manifest.config], `manifest ${descriptor.digest} config`, fail);
    const layers = descriptors(manifest.layers, `manifest ${descriptor.digest} layers`, fail);
    // Every blob it names is there, before anything is pushed (their bytes are checked as they are read).
    for (const blob of [config as Descriptor, ...layers]) {
      if (!(await tree.has(blobPath(blob.digest)))) {
        fail(`it lacks the blob ${blob.digest} (${blob.mediaType}) that manifest ${descriptor.digest} lists`);
      }
    }
    return { mediaType, digest: descriptor.digest, bytes, config: config as Descriptor, layers };
  };

  let chosen: Descriptor | undefined;
  if (reference) {
    chosen = entries.find((e) => e.annotations?.[refAnnotation] === reference);
    if (!chosen) {
      const refs = entries.map((e) => e.annotations?.[refAnnotation]).filter(Boolean);
      fail(`it holds no image named "${reference}" (names in index.json: ${refs.join(', ') || 'none'})`);
    }
  } else if (entries.length === 1) {
    chosen = entries[0];
  } else if (entries.length === 0) {
    fail('its index.json lists no image');
  }

  const openBlob = (digest: string) => tree.open(blobPath(digest));
  if (chosen === undefined) {
    // Several entries and no name: index.json itself is the multi-platform index, if every entry is a platform.
    if (!entries.every((e) => e.platform && isManifestType(e.mediaType))) {
      fail('it holds several images: name one as oci:PATH:REF (REF is its org.opencontainers.image.ref.name)');
    }
    const bytes = await tree.read('index.json');
    return {
      kind: 'stored',
      location: name,
      index: { mediaType: mediaTypes.ociIndex, digest: sha256Digest(bytes), bytes },
      manifests: await Promise.all(entries.map(readManifest)),
      openBlob,
    };
  }
  if (isIndexType(chosen.mediaType)) {
    const bytes = await readBlob(chosen);
    const index = parseJson(bytes, `index ${chosen.digest}`, fail);
    const children = descriptors(index.manifests, `index ${chosen.digest} manifests`, fail);
    const nested = children.find((c) => !isManifestType(c.mediaType));
    if (nested)
      fail(`its index ${chosen.digest} lists an index (${nested.mediaType}): nested indexes are not supported`);
    return {
      kind: 'stored',
      location: name,
      index: {
        mediaType: typeof index.mediaType === 'string' ? index.mediaType : chosen.mediaType,
        digest: chosen.digest,
        bytes,
      },
      manifests: await Promise.all(children.map(readManifest)),
      openBlob,
    };
  }
  return { kind: 'stored', location: name, manifests: [await readManifest(chosen)], openBlob };
}
