/** What triggered the build the tags are for. */
export type TagEvent = 'branch' | 'tag' | 'pr' | 'schedule' | 'detached';

/**
 * The git and CI facts tag rules render from, whatever CI (or none) supplied them. It mirrors
 * the refs metadata-action reads: a branch build has `branch` (`refs/heads/…`), a tag build
 * `tag` (`refs/tags/…`), a pull/merge request `pr` (`refs/pull/N/merge`); a scheduled run is on
 * a branch and also has `event: 'schedule'`.
 */
export interface TagContext {
  event: TagEvent;
  /** The branch being built (push or scheduled run), unsanitised; absent for tags and pull requests. */
  branch?: string;
  /** The git tag being built. */
  tag?: string;
  /** The pull (GitHub) or merge (GitLab) request number. */
  pr?: number;
  /** A pull request's source branch. */
  headBranch?: string;
  /** A pull request's target branch. */
  baseBranch?: string;
  /** The full commit SHA. */
  sha?: string;
  /** The repository's default branch, for `type=edge` and `{{is_default_branch}}`. */
  defaultBranch?: string;
  commitDate?: Date;
  /** Now, for `{{date}}` and `{date}`. */
  date: Date;
  /** Where the facts came from, for the plan: `GitHub Actions`, `GitLab CI`, `DOCKPUSH_GIT_REF`, `git`. */
  source: string;
}

/** The context's ref in metadata-action's spelling (`refs/heads/main`), for messages. */
export function describeRef(context: TagContext): string {
  if (context.tag !== undefined) return `tag ${context.tag}`;
  if (context.pr !== undefined) return `pull request #${context.pr}`;
  if (context.branch !== undefined) return `branch ${context.branch}`;
  return 'a detached HEAD (no branch or tag)';
}

/**
 * Reads a full git ref (`refs/heads/x`, `refs/tags/x`, `refs/pull/N/merge`,
 * `refs/merge-requests/N/head`) into the context's ref fields; `undefined` for anything else.
 */
export function contextFromRef(ref: string): Pick<TagContext, 'event' | 'branch' | 'tag' | 'pr'> | undefined {
  let m = /^refs\/heads\/(.+)$/.exec(ref);
  if (m) return { event: 'branch', branch: m[1] };
  m = /^refs\/tags\/(.+)$/.exec(ref);
  if (m) return { event: 'tag', tag: m[1] };
  m = /^refs\/(?:pull|merge-requests)\/(\d+)\/[^/]+$/.exec(ref);
  if (m) return { event: 'pr', pr: Number(m[1]) };
  return undefined;
}
