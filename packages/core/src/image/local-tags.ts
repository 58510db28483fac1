import { debugLog } from '../debug-log';
import type { RepositoryReference } from '../args/repository-reference';
import type { WaitLimits } from '../deadline';
import type { EnginePort } from '../engine/engine-port';
import { ImageNotFoundError } from '../errors';

const debug = debugLog('dockpush:local-tags');

/** How long removing one local tag may take before it is given up (the engine may hang). */
const UNTAG_TIMEOUT_MS = 10_000;

/**
 * The `<repo>:<tag>` tags dockpush made for `source`, so that they can be removed after the
 * push, whatever its outcome. Tags that existed before are the user's and are never recorded.
 */
export class LocalTags {
  private readonly created: string[] = [];
  private imageId: string | undefined;

  /** `limits` put each engine call under the push's deadline and cancellation. */
  constructor(
    private readonly engine: EnginePort,
    private readonly limits: WaitLimits = {},
  ) {}

  /** Tags `imageId` as `<repository>:<tag>`, recording the tag when it did not exist before. */
  async tag(imageId: string, repository: RepositoryReference, tag: string): Promise<void> {
    const reference = repository.withTag(tag);
    const existed = await this.engine.inspect(reference, this.limits).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ImageNotFoundError) return false;
        throw error;
      },
    );
    this.imageId = imageId;
    await this.engine.tag(imageId, String(repository), tag, this.limits);
    if (!existed) this.created.push(reference);
  }

  /** The tags made so far. */
  get references(): readonly string[] {
    return this.created;
  }

  /**
   * Removes the tags made, keeping the image itself: when they are its only tags (a source
   * given by the ID of an untagged image), the last one is kept, since removing an image's
   * last tag deletes the image. Failures are logged, not thrown: the push's outcome stands.
   * Each call has its own short deadline and ignores the cancellation: this is the clean-up.
   */
  async removeAll(): Promise<void> {
    if (this.created.length === 0 || this.imageId === undefined) return;
    const limits: WaitLimits = { timeoutMs: UNTAG_TIMEOUT_MS };
    const others = await this.otherTagsOf(this.imageId, limits).catch(() => 0);
    const removable = others > 0 ? this.created : this.created.slice(0, -1);
    for (const reference of removable) {
      try {
        await this.engine.untag(reference, limits);
        debug('removed the local tag %s', reference);
      } catch (error) {
        debug('could not remove the local tag %s: %s', reference, (error as Error).message);
      }
    }
    this.created.splice(0);
  }

  /** How many tags the image has besides those dockpush made. */
  private async otherTagsOf(imageId: string, limits: WaitLimits): Promise<number> {
    const info = await this.engine.inspect(imageId, limits);
    return (info.RepoTags ?? []).filter((rt) => rt !== '<none>:<none>' && !this.created.includes(rt)).length;
  }
}
