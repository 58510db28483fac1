import type { EnginePort } from '../engine/engine-port';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePushArgs } from '../args/push-args';
import { ArgumentsError } from '../errors';
import type { PushOptions } from '../push-options';
import { resolvePush } from './resolve-push-plan';

const noDocker = async (): Promise<EnginePort> => {
  throw new Error('the engine must not be needed here');
};
const SHA = '0123456789abcdef0123456789abcdef01234567';
const github = (ref: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  HOME: '/nonexistent',
  DOCKER_CONFIG: '/nonexistent',
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: ref.startsWith('refs/tags/') ? 'push' : ref.startsWith('refs/pull/') ? 'pull_request' : 'push',
  GITHUB_REF: ref,
  GITHUB_SHA: SHA,
  // No git outside a repository: the context comes from the variables alone.
  GIT_CEILING_DIRECTORIES: tmpdir(),
  PATH: process.env.PATH ?? '',
  ...extra,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dockpush-tags-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '2.0.1' }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function plan(input: Record<string, unknown>, env: NodeJS.ProcessEnv, options: Partial<PushOptions> = {}) {
  return (
    await resolvePush(parsePushArgs({ repo: 'localhost:5000/app', ...input }), { env, cwd: dir, ...options }, noDocker)
  ).plan;
}

const RULES = [
  'type=sha',
  'type=ref,event=branch',
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
];

describe('resolvePush: tag rules and placeholders', () => {
  it('renders the rules on a release tag, in priority order, with latest, and says which rule made each tag', async () => {
    const result = await plan({ tagRules: RULES }, github('refs/tags/v1.2.3'));
    expect(result.tags).toEqual(['1.2.3', '1.2', 'sha-0123456', 'latest']);
    expect(result.uri['1.2']).toBe('localhost:5000/app:1.2');
    expect(result.tagSources).toEqual({
      '1.2.3': 'type=semver,pattern={{version}}',
      '1.2': 'type=semver,pattern={{major}}.{{minor}}',
      'sha-0123456': 'type=sha',
      latest: expect.stringContaining('latest'),
    });
  });

  it('renders the branch rule on a branch, and only the rules that apply', async () => {
    const result = await plan({ tagRules: RULES }, github('refs/heads/feature/x'));
    expect(result.tags).toEqual(['feature-x', 'sha-0123456']);
  });

  it('fills placeholders of plain tags, puts them first and drops duplicates of rule tags', async () => {
    const result = await plan(
      { tags: ['{version}', 'sha-{shortSha}', 'b-{branch}', 'fixed'], tagRules: ['type=sha'] },
      github('refs/heads/main'),
    );
    expect(result.tags).toEqual(['2.0.1', 'sha-0123456', 'b-main', 'fixed']);
    expect(result.tagSources).toEqual({
      '2.0.1': '{version}',
      'sha-0123456': 'sha-{shortSha}',
      'b-main': 'b-{branch}',
      fixed: 'fixed',
    });
  });

  it('takes version and projectName from the adapter', async () => {
    const result = await plan({ tags: ['{projectName}-{version}'] }, github('refs/heads/main'), {
      tagValues: { projectName: 'api', version: '9.9.9' },
    });
    expect(result.tags).toEqual(['api-9.9.9']);
  });

  it("renders semver rules from the adapter's semver value, with no git tag at HEAD", async () => {
    const result = await plan({ tagRules: RULES }, github('refs/heads/main'), { tagValues: { semver: '1.2.0' } });
    expect(result.tags).toEqual(['1.2.0', '1.2', 'main', 'sha-0123456', 'latest']);
  });

  it('keeps plans without rules or placeholders as they were', async () => {
    const result = await plan({ tags: ['1.0'] }, github('refs/heads/main'));
    expect(result.tags).toEqual(['1.0']);
    expect(result).not.toHaveProperty('tagSources');
  });

  it('fails naming the rules that rendered nothing, and why, when no tag results', async () => {
    const error = await plan(
      { tagRules: ['type=ref,event=tag', 'type=semver,pattern={{version}}'] },
      github('refs/heads/main'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentsError);
    const issues = (error as ArgumentsError).issues;
    expect(issues.map((i) => i.path).sort()).toEqual(['tagRules[0]', 'tagRules[1]']);
    expect(issues[0]?.message).toMatch(/rendered no tag: .+nothing to push/);
  });

  it('fails naming the plain tag whose placeholder has no value', async () => {
    await expect(plan({ tags: ['{branch}'] }, github('refs/tags/v1.0.0'))).rejects.toMatchObject({
      issues: [{ path: 'tags[0]', message: expect.stringContaining('{branch} has no value') }],
    });
  });
});
