import type { Readable } from 'node:stream';

/** A content descriptor, as in OCI manifests and indexes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Record<string, unknown>;
  urls?: string[];
}

interface LayerReadingBase {
  /** The layer's name in the source (an archive member), for progress before its digest is known. */
  name?: string;
  stream: AsyncIterable<Buffer>;
  /**
   * Takes back a chunk of `stream`, exactly as the stream gave it, once the reader has done with
   * it (nothing reads it any more): the source may fill it again. Fresh memory costs its page
   * faults on first touch, and a layer's chunks add up to the whole layer.
   */
  recycle?: (chunk: Buffer) => void;
}

/**
 * One uncompressed layer as a source hands it over: either named by the diffID it must have
 * (the source knows which layer it is before reading it), or with its size, by which the pusher
 * tells apart layers it cannot name.
 */
export type LayerReading =
  | (LayerReadingBase & { expectedDiffId: string; /** Uncompressed size in bytes, if known. */ size?: number })
  | (LayerReadingBase & { expectedDiffId?: undefined; /** Uncompressed size in bytes. */ size: number });

/**
 * Reads layers for the pusher. It returns the sha256 (`sha256:<hex>`) of the bytes it read, which
 * the source checks against the image's diffIDs, so that a layer that does not match its config
 * is never part of a push. It may instead return undefined, having left the stream unread or
 * stopped partway: the layer was not pushed, and is not checked. For a layer the source cannot name
 * (no `expectedDiffId`), that is one the registry is known to have; for any layer, one whose upload
 * the registry dropped, which the pusher asks for again in another `readLayers`.
 */
export type LayerVisitor = (layer: LayerReading) => Promise<string | undefined>;

/**
 * An image whose layers the source holds uncompressed (`docker save` archives, the Docker
 * engine's export): the pusher compresses them and builds the manifest.
 */
export interface UncompressedImage {
  kind: 'uncompressed';
  /** What the user named, for messages. */
  location: string;
  /** sha256 of the config: the image ID. */
  configDigest: string;
  /** The config's `rootfs.diff_ids`, bottom layer first. */
  diffIds: string[];
  /** The config's bytes, when the source can give them without reading the layers. */
  config?: Buffer;
  /**
   * Hands over layers to `visit`: those in `wanted` at least (by diffID), more when the source
   * cannot tell which is which before reading. A source that can open layers on their own calls
   * `visit` for several at once (up to `concurrency`); a stream visits them one after the other.
   * Resolves to the config's bytes once every layer read has been checked against its diffID;
   * a stream may stop once every wanted layer and the config have been read.
   */
  readLayers(wanted: ReadonlySet<string>, visit: LayerVisitor, concurrency: number): Promise<Buffer>;
}

/** A manifest stored in the source, pushed byte for byte. */
export interface StoredManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
}

/**
 * An image the source holds as blobs and manifests (OCI layouts): pushed as it is, so its
 * digests stay those of the layout. `index` is set for a multi-platform image.
 */
export interface StoredImage {
  kind: 'stored';
  location: string;
  manifests: StoredManifest[];
  index?: { mediaType: string; digest: string; bytes: Buffer };
  openBlob(digest: string): Readable;
}

export type ImageContent = UncompressedImage | StoredImage;

/** Where an image comes from: `docker-archive:PATH`, `oci:PATH[:REF]`, `oci-archive:PATH[:REF]`, or a local image. */
export interface ImageSource {
  /** The source as the user wrote it. */
  readonly name: string;
  open(signal?: AbortSignal): Promise<ImageContent>;
}
