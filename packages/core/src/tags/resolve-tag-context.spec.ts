import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitRunner, readGitTagContext, type GitRunner } from './git-tag-context';
import { DEFAULT_FLAVOR } from './flavor';
import { renderTagRules } from './render-tag-rules';
import { resolveTagContext } from './resolve-tag-context';
import { parseTagRules } from './tag-rule';

const NOW = new Date('2026-01-02T03:04:05Z');
const SHA = 'c'.repeat(40);

/** A git that answers from a table keyed by its arguments; anything else fails, as outside a repository. */
function fakeGit(answers: Record<string, string>): GitRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = async (args: string[]): Promise<string | undefined> => {
    calls.push(args.join(' '));
    return answers[args.join(' ')];
  };
  return Object.assign(run, { calls });
}

const HEAD = 'rev-parse --verify -q HEAD';
const TAGS = 'tag --points-at HEAD --sort=-version:refname';
const BRANCH = 'symbolic-ref --short -q HEAD';
const ORIGIN_HEAD = 'symbolic-ref --short -q refs/remotes/origin/HEAD';
const INIT_DEFAULT = 'config --get init.defaultBranch';
const COMMIT_DATE = 'log -1 --format=%cI HEAD';

describe('readGitTagContext', () => {
  it.each([
    [
      'a branch',
      { [HEAD]: SHA, [BRANCH]: 'feature/x', [ORIGIN_HEAD]: 'origin/main' },
      { event: 'branch', branch: 'feature/x', defaultBranch: 'main' },
    ],
    [
      'a tagged commit (the highest version wins)',
      { [HEAD]: SHA, [TAGS]: 'v1.10.0\nv1.9.0', [BRANCH]: 'main' },
      { event: 'tag', tag: 'v1.10.0' },
    ],
    ['a detached HEAD', { [HEAD]: SHA, [INIT_DEFAULT]: 'trunk' }, { event: 'detached', defaultBranch: 'trunk' }],
  ])('on %s', async (_name, answers, expected) => {
    expect(await readGitTagContext('/repo', fakeGit(answers), NOW)).toMatchObject({
      sha: SHA,
      date: NOW,
      source: 'git',
      ...expected,
    });
  });

  it('reads the commit date', async () => {
    const context = await readGitTagContext(
      '/repo',
      fakeGit({ [HEAD]: SHA, [COMMIT_DATE]: '2025-12-31T23:00:00+01:00' }),
      NOW,
    );
    expect(context?.commitDate).toEqual(new Date('2025-12-31T22:00:00Z'));
  });

  it('is undefined outside a repository', async () => {
    expect(await readGitTagContext('/nowhere', fakeGit({}), NOW)).toBeUndefined();
  });
});

describe('resolveTagContext', () => {
  it('uses CI variables first and fills what they lack from git', async () => {
    const git = fakeGit({ [HEAD]: SHA, [BRANCH]: 'main', [ORIGIN_HEAD]: 'origin/main' });
    const context = await resolveTagContext({
      env: { GITHUB_ACTIONS: 'true', GITHUB_REF: 'refs/tags/v3.0.0', GITHUB_EVENT_NAME: 'push' },
      cwd: '/repo',
      git,
      readFile: () => undefined,
      now: NOW,
    });
    expect(context).toMatchObject({
      event: 'tag',
      tag: 'v3.0.0',
      sha: SHA,
      defaultBranch: 'main',
      source: 'GitHub Actions',
    });
    expect(context.branch).toBeUndefined();
  });

  it('keeps the CI SHA over the local one', async () => {
    const context = await resolveTagContext({
      env: { GITLAB_CI: 'true', CI_COMMIT_BRANCH: 'dev', CI_COMMIT_SHA: 'd'.repeat(40) },
      cwd: '/repo',
      git: fakeGit({ [HEAD]: SHA }),
      now: NOW,
    });
    expect(context).toMatchObject({ event: 'branch', branch: 'dev', sha: 'd'.repeat(40), source: 'GitLab CI' });
  });

  it('uses git alone when no CI is recognised', async () => {
    const context = await resolveTagContext({
      env: {},
      cwd: '/repo',
      git: fakeGit({ [HEAD]: SHA, [BRANCH]: 'main' }),
      now: NOW,
    });
    expect(context).toMatchObject({ event: 'branch', branch: 'main', sha: SHA, source: 'git' });
  });

  it('is detached with no SHA outside a repository and CI', async () => {
    const context = await resolveTagContext({ env: {}, cwd: '/nowhere', git: fakeGit({}), now: NOW });
    expect(context).toEqual({ event: 'detached', date: NOW, source: 'none (no CI variables, not a git repository)' });
  });
});

describe('createGitRunner with the real git', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-tags-spec-'));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
  };
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env }).toString().trim();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a branch, then a tag, from a repository', async () => {
    git('init', '-q', '-b', 'release/2.x');
    writeFileSync(join(dir, 'f'), 'x');
    git('add', 'f');
    git('commit', '-q', '-m', 'one');
    const runner = createGitRunner(env);
    expect(await readGitTagContext(dir, runner, NOW)).toMatchObject({
      event: 'branch',
      branch: 'release/2.x',
      sha: git('rev-parse', 'HEAD'),
    });
    git('tag', 'v2.1.0');
    expect(await readGitTagContext(dir, runner, NOW)).toMatchObject({ event: 'tag', tag: 'v2.1.0' });
  });

  it('gives up on a git that does not answer within its deadline', async () => {
    const runner = createGitRunner(env, 200);
    const started = Date.now();
    expect(await runner(['-c', 'alias.hang=!sleep 5', 'hang'], dir)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('from CI variables to tags', () => {
  const rules = parseTagRules([
    'type=ref,event=branch',
    'type=ref,event=pr',
    'type=semver,pattern={{version}}',
    'type=semver,pattern={{major}}.{{minor}}',
    'type=semver,pattern={{major}}',
    'type=sha',
  ]);
  const gitlab = { GITLAB_CI: 'true', CI_COMMIT_SHA: SHA, CI_DEFAULT_BRANCH: 'main' };
  const github = { GITHUB_ACTIONS: 'true', GITHUB_SHA: SHA };
  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['GitLab branch pipeline', { ...gitlab, CI_COMMIT_BRANCH: 'feature/login' }, ['feature-login', 'sha-ccccccc']],
    ['GitLab tag pipeline', { ...gitlab, CI_COMMIT_TAG: 'v1.2.3' }, ['1.2.3', '1.2', '1', 'sha-ccccccc', 'latest']],
    ['GitLab merge request', { ...gitlab, CI_MERGE_REQUEST_IID: '17' }, ['pr-17', 'sha-ccccccc']],
    ['GitHub push', { ...github, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' }, ['main', 'sha-ccccccc']],
    [
      'GitHub tag',
      { ...github, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' },
      ['1.2.3', '1.2', '1', 'sha-ccccccc', 'latest'],
    ],
    ['GitHub pre-release tag', { ...github, GITHUB_REF: 'refs/tags/v2.0.0-rc.1' }, ['2.0.0-rc.1', 'sha-ccccccc']],
    [
      'GitHub pull request',
      { ...github, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/8/merge' },
      ['pr-8', 'sha-ccccccc'],
    ],
  ])('%s', async (_name, env, expected) => {
    const context = await resolveTagContext({
      env,
      cwd: '/nowhere',
      git: fakeGit({}),
      readFile: () => undefined,
      now: NOW,
    });
    expect(renderTagRules(rules, DEFAULT_FLAVOR, context).tags.map((t) => t.tag)).toEqual(expected);
  });
});
