import type Dockerode from 'dockerode';
import createDebug from 'debug';
import type { RepositoryReference } from '../args/repository-reference';

const debug = createDebug('dockpush:local-tags');

/** Runs one engine call, named for messages, under a deadline. */
export type EngineCallRunner = <T>(what: string, call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** How long removing one local tag may take before it is given up (the engine may hang). */
const UNTAG_TIMEOUT_MS = 10_000;

/**
 * The `<repo>:<tag>` tags dockpush made for `source`, so that they can be removed after the
 * push, whatever its outcome. Tags that existed before are the user's and are never recorded.
 */
export class LocalTags {
  private readonly created: string[] = [];
  private imageId: string | undefined;

  /**
   * `run` puts each engine call under the push's deadline and cancellation; by default a
   * call runs as it is.
   */
  constructor(
    private readonly docker: Dockerode,
    private readonly run: EngineCallRunner = (_what, call) => call(new AbortController().signal),
  ) {}

  /** Tags `imageId` as `<repository>:<tag>`, recording the tag when it did not exist before. */
  async tag(imageId: string, repository: RepositoryReference, tag: string): Promise<void> {
    const reference = repository.withTag(tag);
    const existed = await this.run(`looking up ${reference}`, () => this.docker.getImage(reference).inspect()).then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
    this.imageId = imageId;
    await this.run(`tagging ${reference}`, (abortSignal) =>
      this.docker.getImage(imageId).tag({ repo: String(repository), tag, abortSignal }),
    );
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
   */
  async removeAll(): Promise<void> {
    if (this.created.length === 0 || this.imageId === undefined) return;
    const others = await withDeadline(this.otherTagsOf(this.imageId)).catch(() => 0);
    const removable = others > 0 ? this.created : this.created.slice(0, -1);
    for (const reference of removable) {
      try {
        await withDeadline(this.docker.getImage(reference).remove({ noprune: true }));
        debug('removed the local tag %s', reference);
      } catch (error) {
        debug('could not remove the local tag %s: %s', reference, (error as Error).message);
      }
    }
    this.created.splice(0);
  }

  /** How many tags the image has besides those dockpush made. */
  private async otherTagsOf(imageId: string): Promise<number> {
    const info = await this.docker.getImage(imageId).inspect();
    return (info.RepoTags ?? []).filter((rt) => rt !== '<none>:<none>' && !this.created.includes(rt)).length;
  }
}

/** `work`, or a rejection once the engine has not answered for `UNTAG_TIMEOUT_MS`. */
async function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${UNTAG_TIMEOUT_MS / 1000} s`)), UNTAG_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
