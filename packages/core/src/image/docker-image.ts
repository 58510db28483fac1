import { splitRepoTag } from '../args/reference';

/** What `GET /images/{name}/json` tells about an image, as far as dockpush needs it. */
export interface ImageInspectInfo {
  Id: string;
  RepoTags?: string[] | null;
}

/**
 * A local image: its ID, the repository it is pushed under, its tags there, and the
 * URI of each tag. Runway's `DockerImage` counterpart.
 */
export class DockerImage {
  constructor(
    readonly id: string,
    readonly repo: string,
    readonly tags: string[],
  ) {}

  /** Each tag mapped to `repo:tag`. */
  get uri(): Record<string, string> {
    return Object.fromEntries(this.tags.map((tag) => [tag, `${this.repo}:${tag}`]));
  }

  /**
   * From an image inspect: `repo` is the first `RepoTags` entry without its tag; `tags`
   * are the tags of the entries with that same repo. `undefined` when the image has no
   * `RepoTags` (an untagged image needs an explicit `repo`).
   *
   * When the image was looked up by a `repo:tag` reference that is one of its
   * `RepoTags`, that repo is the one meant, whatever order the engine lists them in.
   */
  static fromInspect(info: ImageInspectInfo, lookedUpAs?: string): DockerImage | undefined {
    const repoTags = (info.RepoTags ?? []).filter((rt) => rt !== '<none>:<none>');
    const named =
      lookedUpAs === undefined
        ? undefined
        : repoTags.find((rt) => rt === lookedUpAs || splitRepoTag(rt).repo === lookedUpAs);
    const first = named ?? repoTags[0];
    if (!first) return undefined;
    const { repo } = splitRepoTag(first);
    const tags = repoTags
      .map(splitRepoTag)
      .filter((rt) => rt.repo === repo && rt.tag !== undefined)
      .map((rt) => rt.tag as string);
    return new DockerImage(info.Id, repo, [...new Set(tags)]);
  }

  toJSON(): { id: string; repo: string; tags: string[]; uri: Record<string, string> } {
    return { id: this.id, repo: this.repo, tags: [...this.tags], uri: this.uri };
  }
}
