import { ArgumentsError } from '../errors';
import { contextFromRef, type TagContext } from './tag-context';

/** Reads a file's text, `undefined` when it cannot; a seam for tests. */
export type TextFileReader = (path: string) => string | undefined;

/**
 * A source of CI facts: returns the context when its CI is the one running, `undefined` so the
 * next source is tried. Fields CI does not give (a SHA, the default branch) stay unset and are
 * filled from local git.
 */
export type CiTagContextSource = (
  env: NodeJS.ProcessEnv,
  readFile: TextFileReader,
  now: Date,
) => TagContext | undefined;

interface GitHubEventPayload {
  number?: number;
  repository?: { default_branch?: string };
  head_commit?: { id?: string; timestamp?: string };
}

/**
 * GitHub Actions: `GITHUB_REF` is `refs/heads/…`, `refs/tags/…` or `refs/pull/N/merge`;
 * `pull_request_target` runs on the base branch, so its ref is rebuilt from the event payload,
 * as metadata-action does. The default branch and commit date come from the payload too.
 */
export const gitHubActionsTagContext: CiTagContextSource = (env, readFile, now) => {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  const payload = readGitHubPayload(env.GITHUB_EVENT_PATH, readFile);
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  let ref = env.GITHUB_REF ?? '';
  if (eventName === 'pull_request_target' && payload?.number !== undefined) ref = `refs/pull/${payload.number}/merge`;
  const refFields = contextFromRef(ref) ?? { event: 'detached' as const };
  const sha = env.GITHUB_SHA || undefined;
  const timestamp = payload?.head_commit?.id === sha ? payload?.head_commit?.timestamp : undefined;
  return withoutUndefined({
    ...refFields,
    event: eventName === 'schedule' ? 'schedule' : refFields.event,
    headBranch: refFields.pr !== undefined ? env.GITHUB_HEAD_REF || undefined : undefined,
    baseBranch: refFields.pr !== undefined ? env.GITHUB_BASE_REF || undefined : undefined,
    sha,
    defaultBranch: payload?.repository?.default_branch,
    commitDate: timestamp ? new Date(timestamp) : undefined,
    date: now,
    source: 'GitHub Actions',
  });
};

/**
 * GitLab CI: a tag pipeline has `CI_COMMIT_TAG`, a merge request pipeline
 * `CI_MERGE_REQUEST_IID` (no `CI_COMMIT_BRANCH`), a branch pipeline `CI_COMMIT_BRANCH`;
 * `CI_PIPELINE_SOURCE=schedule` marks a scheduled one.
 */
export const gitLabCiTagContext: CiTagContextSource = (env, _readFile, now) => {
  if (env.GITLAB_CI !== 'true') return undefined;
  const common = {
    sha: env.CI_COMMIT_SHA || undefined,
    defaultBranch: env.CI_DEFAULT_BRANCH || undefined,
    commitDate: env.CI_COMMIT_TIMESTAMP ? new Date(env.CI_COMMIT_TIMESTAMP) : undefined,
    date: now,
    source: 'GitLab CI',
  };
  if (env.CI_COMMIT_TAG) return withoutUndefined({ ...common, event: 'tag', tag: env.CI_COMMIT_TAG });
  if (env.CI_MERGE_REQUEST_IID && /^\d+$/.test(env.CI_MERGE_REQUEST_IID)) {
    return withoutUndefined({
      ...common,
      sha: env.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA || common.sha,
      event: 'pr',
      pr: Number(env.CI_MERGE_REQUEST_IID),
      headBranch: env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || undefined,
      baseBranch: env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME || undefined,
    });
  }
  if (env.CI_COMMIT_BRANCH) {
    return withoutUndefined({
      ...common,
      event: env.CI_PIPELINE_SOURCE === 'schedule' ? 'schedule' : 'branch',
      branch: env.CI_COMMIT_BRANCH,
    });
  }
  return withoutUndefined({ ...common, event: 'detached' });
};

/**
 * Any other CI: `DOCKPUSH_GIT_REF` names the ref being built in git's full spelling
 * (`refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/12/merge`), for checkouts whose HEAD is
 * detached; the rest comes from local git.
 */
export const environmentTagContext: CiTagContextSource = (env, _readFile, now) => {
  const ref = env.DOCKPUSH_GIT_REF?.trim();
  if (!ref) return undefined;
  const refFields = contextFromRef(ref);
  if (!refFields) {
    throw new ArgumentsError([
      {
        path: 'DOCKPUSH_GIT_REF',
        message: `"${ref}" is not a full git ref; set it to refs/heads/<branch>, refs/tags/<tag> or refs/pull/<number>/merge`,
      },
    ]);
  }
  return { ...refFields, date: now, source: 'DOCKPUSH_GIT_REF' };
};

/** Tried in this order; the first that applies wins. */
export const CI_TAG_CONTEXT_SOURCES: readonly CiTagContextSource[] = [
  gitHubActionsTagContext,
  gitLabCiTagContext,
  environmentTagContext,
];

function readGitHubPayload(path: string | undefined, readFile: TextFileReader): GitHubEventPayload | undefined {
  if (!path) return undefined;
  const text = readFile(path);
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as GitHubEventPayload) : undefined;
  } catch {
    return undefined;
  }
}

function withoutUndefined(context: TagContext): TagContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined)) as unknown as TagContext;
}
