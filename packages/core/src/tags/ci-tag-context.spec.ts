import { ArgumentsError } from '../errors';
import { environmentTagContext, gitHubActionsTagContext, gitLabCiTagContext } from './ci-tag-context';
import type { TagContext } from './tag-context';

const NOW = new Date('2026-01-02T03:04:05Z');
const SHA = 'a'.repeat(40);
const noFile = (): undefined => undefined;

describe('gitHubActionsTagContext', () => {
  const base = { GITHUB_ACTIONS: 'true', GITHUB_SHA: SHA };
  it.each<[string, NodeJS.ProcessEnv, Partial<TagContext>]>([
    [
      'push to a branch',
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' },
      { event: 'branch', branch: 'main' },
    ],
    ['push of a tag', { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' }, { event: 'tag', tag: 'v1.2.3' }],
    [
      'pull request',
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/42/merge',
        GITHUB_HEAD_REF: 'feat/x',
        GITHUB_BASE_REF: 'main',
      },
      { event: 'pr', pr: 42, headBranch: 'feat/x', baseBranch: 'main' },
    ],
    [
      'schedule',
      { GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main' },
      { event: 'schedule', branch: 'main' },
    ],
    [
      'workflow_dispatch',
      { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REF: 'refs/heads/dev' },
      { event: 'branch', branch: 'dev' },
    ],
  ])('%s', (_name, env, expected) => {
    expect(gitHubActionsTagContext({ ...base, ...env }, noFile, NOW)).toEqual({
      sha: SHA,
      date: NOW,
      source: 'GitHub Actions',
      ...expected,
    });
  });

  it('reads the default branch, the commit date and a pull_request_target number from the event payload', () => {
    const payload = {
      number: 9,
      repository: { default_branch: 'trunk' },
      head_commit: { id: SHA, timestamp: '2026-01-01T00:00:00Z' },
    };
    const readFile = (path: string): string | undefined =>
      path === '/event.json' ? JSON.stringify(payload) : undefined;
    const env = {
      ...base,
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_REF: 'refs/heads/trunk',
      GITHUB_EVENT_PATH: '/event.json',
    };
    expect(gitHubActionsTagContext(env, readFile, NOW)).toMatchObject({
      event: 'pr',
      pr: 9,
      defaultBranch: 'trunk',
      commitDate: new Date('2026-01-01T00:00:00Z'),
    });
  });

  it('ignores an unreadable or malformed payload', () => {
    const env = { ...base, GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: '/event.json' };
    expect(gitHubActionsTagContext(env, () => '{not json', NOW)).toMatchObject({ event: 'branch', branch: 'main' });
    expect(gitHubActionsTagContext(env, () => '{not json', NOW)?.defaultBranch).toBeUndefined();
  });

  it('does not apply outside GitHub Actions', () => {
    expect(gitHubActionsTagContext({ GITHUB_REF: 'refs/heads/main' }, noFile, NOW)).toBeUndefined();
  });
});

describe('gitLabCiTagContext', () => {
  const base = {
    GITLAB_CI: 'true',
    CI_COMMIT_SHA: SHA,
    CI_DEFAULT_BRANCH: 'main',
    CI_COMMIT_TIMESTAMP: '2026-01-01T10:00:00+01:00',
  };
  const common = {
    sha: SHA,
    defaultBranch: 'main',
    commitDate: new Date('2026-01-01T09:00:00Z'),
    date: NOW,
    source: 'GitLab CI',
  };
  it.each<[string, NodeJS.ProcessEnv, Partial<TagContext>]>([
    [
      'branch pipeline',
      { CI_COMMIT_BRANCH: 'feature/a', CI_PIPELINE_SOURCE: 'push' },
      { event: 'branch', branch: 'feature/a' },
    ],
    ['tag pipeline', { CI_COMMIT_TAG: 'v2.0.0', CI_PIPELINE_SOURCE: 'push' }, { event: 'tag', tag: 'v2.0.0' }],
    [
      'merge request pipeline',
      {
        CI_MERGE_REQUEST_IID: '17',
        CI_PIPELINE_SOURCE: 'merge_request_event',
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'fix/b',
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
      },
      { event: 'pr', pr: 17, headBranch: 'fix/b', baseBranch: 'main' },
    ],
    [
      'scheduled pipeline',
      { CI_COMMIT_BRANCH: 'main', CI_PIPELINE_SOURCE: 'schedule' },
      { event: 'schedule', branch: 'main' },
    ],
    ['no ref variables', {}, { event: 'detached' }],
  ])('%s', (_name, env, expected) => {
    expect(gitLabCiTagContext({ ...base, ...env }, noFile, NOW)).toEqual({ ...common, ...expected });
  });

  it('takes the source branch SHA of a merged-results pipeline', () => {
    const env = { ...base, CI_MERGE_REQUEST_IID: '3', CI_MERGE_REQUEST_SOURCE_BRANCH_SHA: 'b'.repeat(40) };
    expect(gitLabCiTagContext(env, noFile, NOW)?.sha).toBe('b'.repeat(40));
  });

  it('does not apply outside GitLab CI', () => {
    expect(gitLabCiTagContext({ CI_COMMIT_BRANCH: 'main' }, noFile, NOW)).toBeUndefined();
  });
});

describe('environmentTagContext (DOCKPUSH_GIT_REF)', () => {
  it.each<[string, Partial<TagContext>]>([
    ['refs/heads/main', { event: 'branch', branch: 'main' }],
    ['refs/tags/v1.0.0', { event: 'tag', tag: 'v1.0.0' }],
    ['refs/pull/12/merge', { event: 'pr', pr: 12 }],
    ['refs/merge-requests/5/head', { event: 'pr', pr: 5 }],
  ])('%s', (ref, expected) => {
    expect(environmentTagContext({ DOCKPUSH_GIT_REF: ref }, noFile, NOW)).toEqual({
      date: NOW,
      source: 'DOCKPUSH_GIT_REF',
      ...expected,
    });
  });

  it('does not apply when unset', () => {
    expect(environmentTagContext({}, noFile, NOW)).toBeUndefined();
  });

  it('refuses a short ref, naming the variable and the fix', () => {
    expect(() => environmentTagContext({ DOCKPUSH_GIT_REF: 'main' }, noFile, NOW)).toThrow(ArgumentsError);
    expect(() => environmentTagContext({ DOCKPUSH_GIT_REF: 'main' }, noFile, NOW)).toThrow(
      'DOCKPUSH_GIT_REF: "main" is not a full git ref; set it to refs/heads/<branch>, refs/tags/<tag> or refs/pull/<number>/merge',
    );
  });
});
