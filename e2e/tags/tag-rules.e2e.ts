import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { PushPlan } from '@dockpush/core';
import { runCommand, userEnv } from '../adapters/run-command';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { createScratchProject } from '../support/packages';
import { listTags } from '../support/registry-api';

/**
 * `dockpush push --tag-rule …` from the packed package, in a scratch git repository: the tags
 * rendered from local git on a release tag and on a branch, from GitHub's variables on a pull
 * request, and one rendered tag pushed for real to registry:2.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-tags:${unique}`;
const repoName = `tags-${unique}`;
const repo = `${env.plain.host}/${repoName}`;
const RULES = [
  '--tag-rule',
  'type=semver,pattern={{version}}',
  '--tag-rule',
  'type=semver,pattern={{major}}.{{minor}}',
  '--tag-rule',
  'type=ref,event=branch',
  '--tag-rule',
  'type=sha',
];

let bin: string;
let gitDir: string;
let sha: string;

/** The user's environment without any CI variables: the context comes from local git. */
function localEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = userEnv(extra);
  for (const key of Object.keys(base)) {
    if (/^(GITHUB_|GITLAB_|CI_|DOCKPUSH_GIT_)/.test(key) && !(key in extra)) delete base[key];
  }
  return base;
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: gitDir, encoding: 'utf8' }).trim();

async function plan(extraArgs: string[], extraEnv: Record<string, string> = {}): Promise<PushPlan> {
  const run = await runCommand(bin, ['push', '--repo', repo, ...RULES, ...extraArgs, '--dry-run', '--json'], {
    cwd: gitDir,
    env: localEnv(extraEnv),
  });
  expect(run.stderr).toContain('dry run: nothing pushed');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as PushPlan;
}

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 1, bytesPerLayer: 16 * 1024 });
  const project = createScratchProject('tags', { packages: ['dockpush'] });
  bin = path.join(project, 'node_modules', '.bin', 'dockpush');
  gitDir = mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-tags-git-'));
  writeFileSync(path.join(gitDir, 'package.json'), JSON.stringify({ name: 'app', version: '3.4.5' }));
  git('init', '-q', '-b', 'main');
  git('add', 'package.json');
  git('-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-q', '-m', 'first');
  sha = git('rev-parse', 'HEAD');
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
  await removeImage(docker, `${repo}:sha-${sha.slice(0, 7)}`);
});

describe('dockpush push --tag-rule', () => {
  it('on a branch: the branch and the SHA, and plain tags with placeholders first', async () => {
    git('checkout', '-q', '-b', 'feature/login');
    const result = await plan(['--tag', 'v{version}']);
    expect(result.tags).toEqual(['v3.4.5', 'feature-login', `sha-${sha.slice(0, 7)}`]);
    expect(result.tagSources).toEqual({
      'v3.4.5': 'v{version}',
      'feature-login': 'type=ref,event=branch',
      [`sha-${sha.slice(0, 7)}`]: 'type=sha',
    });
    git('checkout', '-q', 'main');
  });

  it('on a release tag: the versions, the SHA and latest', async () => {
    git('tag', 'v1.2.3');
    try {
      const result = await plan([]);
      expect(result.tags).toEqual(['1.2.3', '1.2', `sha-${sha.slice(0, 7)}`, 'latest']);
      expect(result.uri['1.2']).toBe(`${repo}:1.2`);
    } finally {
      git('tag', '-d', 'v1.2.3');
    }
  });

  it('on a GitHub pull request: only the SHA (no branch, no version)', async () => {
    const result = await plan([], {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/7/merge',
      GITHUB_SHA: sha,
      GITHUB_HEAD_REF: 'feature/login',
      GITHUB_BASE_REF: 'main',
    });
    expect(result.tags).toEqual([`sha-${sha.slice(0, 7)}`]);
  });

  it('pushes a rendered tag to the registry', async () => {
    const run = await runCommand(bin, ['push', '--repo', repo, '--source', sourceRef, '--tag-rule', 'type=sha'], {
      cwd: gitDir,
      env: localEnv(),
    });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^${repo.replace(/[.]/g, '\\.')}:sha-${sha.slice(0, 7)}@sha256:[0-9a-f]{64}\\n$`),
    );
    expect(await listTags(env.plain.host, repoName)).toEqual([`sha-${sha.slice(0, 7)}`]);
  });
});
