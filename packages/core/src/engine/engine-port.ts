import type { Readable } from 'node:stream';
import type { WaitLimits } from '../deadline';
import type { EngineAuthConfig } from '../auth/registry-auth';
import type { EngineStoreLocation } from '../image-source/engine-store';

/** What the engine tells about a local image, as far as a push needs it. */
export interface EngineImageInfo {
  Id: string;
  RepoTags?: string[] | null;
  /** The image's layers (diffIDs), bottom first. */
  RootFS?: { Layers?: string[] };
  /** The graph driver that holds its layers (`vfs`, `overlay2`…). */
  GraphDriver?: { Name?: string };
}

/**
 * The few operations a push needs of a container engine. Implementations map the engine's
 * failures onto dockpush's errors in one place: an image the engine does not have is
 * `ImageNotFoundError`, no answer (refused connection, silence past the deadline) is
 * `DockerUnavailableError`; an engine's other answers keep their HTTP status (`statusCode`).
 */
export interface EnginePort {
  /** Fails with `DockerUnavailableError` unless the engine answers a ping. */
  ping(limits: WaitLimits): Promise<void>;
  /** The image, by reference or ID; `ImageNotFoundError` (with `hint`) when the engine has none. */
  inspect(reference: string, limits: WaitLimits, hint?: string): Promise<EngineImageInfo>;
  /** Tags the image `imageId` as `<repository>:<tag>`. */
  tag(imageId: string, repository: string, tag: string, limits: WaitLimits): Promise<void>;
  /** Removes the tag `reference` (`repo:tag`), never the image's layers. */
  untag(reference: string, limits: WaitLimits): Promise<void>;
  /**
   * Starts the engine's push of `<repository>:<tag>` and resolves to its JSON progress stream.
   * The push has no cancellation: the engine finishes a push after its client has gone.
   */
  push(repository: string, tag: string, authconfig: EngineAuthConfig, limits: WaitLimits): Promise<Readable>;
  /** The image as a `docker save` tar stream, read as it comes (never held whole). */
  export(reference: string, limits: WaitLimits): Promise<NodeJS.ReadableStream>;
  /**
   * Where the engine keeps its images, when it runs on this host (a unix socket): its root folder
   * and graph driver. Undefined for a remote engine or when it does not say. Given the `driver` of
   * an image, it may answer without asking the engine (whose `GET /info` is slow): the default
   * root, when a store for that driver is there. That is a guess, which the caller checks (the
   * image's config must be there and hash to its ID) and, wrong, asks again without a driver.
   */
  localStore(limits: WaitLimits, driver?: string): Promise<EngineStoreLocation | undefined>;
}
