import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractPushArgs, findUnresolvedLookups, loadPushConfig, resolveEnvLookups } from './config-file';
import { UsageError } from './usage-error';

const dir = mkdtempSync(join(tmpdir(), 'dockpush-config-spec-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function usageMessage(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

const runwayArgs = {
  ecr_repo: { repo_name: 'app', account_id: '123456789012', aws_region: 'us-east-1' },
  tags: ['latest'],
};

describe('loadPushConfig', () => {
  it('reads the camelCase model from JSON', async () => {
    const path = file('push.json', JSON.stringify({ repo: 'localhost:5000/app', tags: ['1.0.0'], retries: 1 }));
    expect(await loadPushConfig(path)).toEqual({
      file: path,
      location: '',
      args: { repo: 'localhost:5000/app', tags: ['1.0.0'], retries: 1 },
    });
  });

  it('reads a Runway args block from YAML verbatim', async () => {
    const path = file(
      'args.yml',
      'ecr_repo:\n  repo_name: app\n  account_id: "123456789012"\n  aws_region: us-east-1\ntags:\n  - latest\n',
    );
    expect((await loadPushConfig(path)).args).toEqual(runwayArgs);
  });

  it('finds the one docker.image.push hook of a CFNgin config', async () => {
    const path = file(
      'cfngin.yml',
      [
        'namespace: demo',
        'pre_deploy:',
        '  - path: runway.cfngin.hooks.aws_lambda.upload',
        '    args: { bucket: x }',
        'post_deploy:',
        '  - path: runway.cfngin.hooks.docker.image.build',
        '    args: { repo: r/app }',
        '  - path: runway.cfngin.hooks.docker.image.push',
        '    args:',
        '      repo: localhost:5000/app',
        '      tags: [latest, "${env DOCKPUSH_SPEC_VERSION}"]',
        'stacks: []',
      ].join('\n'),
    );
    expect(await loadPushConfig(path, { DOCKPUSH_SPEC_VERSION: '1.2.3' })).toEqual({
      file: path,
      location: 'post_deploy[1].args',
      args: { repo: 'localhost:5000/app', tags: ['latest', '1.2.3'] },
    });
  });

  it.each([
    ['missing.yml', null, /^--config: cannot read ".*missing\.yml": no such file$/],
    ['bad.json', '{ "repo": ', /bad\.json: not valid JSON: /],
    ['bad.yaml', 'repo: [unclosed', /bad\.yaml: not valid YAML: /],
    ['empty.yml', '', /empty\.yml: is empty/],
  ])('explains an unusable file: %s', async (name, text, expected) => {
    const path = text === null ? join(dir, name) : file(name, text);
    expect(await usageMessage(loadPushConfig(path))).toMatch(expected);
  });
});

describe('extractPushArgs', () => {
  it.each<[string, unknown, { location: string; args: Record<string, unknown> }]>([
    ['the model itself', { repo: 'r/app' }, { location: '', args: { repo: 'r/app' } }],
    ['a Runway args block', runwayArgs, { location: '', args: runwayArgs }],
    [
      'a whole hook entry',
      { path: 'runway.cfngin.hooks.docker.image.push', required: true, args: runwayArgs },
      { location: 'args', args: runwayArgs },
    ],
    ['an entry without path', { args: { repo: 'r/app' } }, { location: 'args', args: { repo: 'r/app' } }],
    [
      'a list of hook entries',
      [{ path: 'x.y' }, { path: 'runway.cfngin.hooks.docker.image.push', args: runwayArgs }],
      { location: '[1].args', args: runwayArgs },
    ],
    [
      'hooks keyed by name (older configs)',
      { pre_build: { push: { path: 'runway.cfngin.hooks.docker.image.push', args: { image: 'app:1' } } } },
      { location: 'pre_build.push.args', args: { image: 'app:1' } },
    ],
  ])('finds the arguments in %s', (_, doc, expected) => {
    expect(extractPushArgs(doc, 'f.yml')).toEqual(expected);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a hook of another kind',
      { path: 'runway.cfngin.hooks.docker.image.build', args: {} },
      /f\.yml: path: is "runway\.cfngin\.hooks\.docker\.image\.build", not runway\.cfngin\.hooks\.docker\.image\.push/,
    ],
    ['a hook entry without args', { path: 'runway.cfngin.hooks.docker.image.push' }, /f\.yml: args: missing/],
    [
      'no push hook in the lists',
      { pre_deploy: [{ path: 'a.b', args: {} }] },
      /f\.yml: has no runway\.cfngin\.hooks\.docker\.image\.push hook in pre_deploy/,
    ],
    [
      'two push hooks',
      {
        pre_deploy: [{ path: 'runway.cfngin.hooks.docker.image.push', args: {} }],
        post_deploy: [{ path: 'runway.cfngin.hooks.docker.image.push', args: {} }],
      },
      /has 2 runway\.cfngin\.hooks\.docker\.image\.push hooks \(pre_deploy\[0\], post_deploy\[0\]\)/,
    ],
    ['a scalar', 'repo', /expected a mapping of push arguments/],
  ])('refuses %s', (_, doc, expected) => {
    expect(() => extractPushArgs(doc, 'f.yml')).toThrow(expected);
  });
});

describe('Runway lookups', () => {
  it('resolves ${env NAME} where set, anywhere in a string', () => {
    expect(resolveEnvLookups({ tags: ['v${env V}-x', '${env UNSET}'], n: 3 }, { V: '2' })).toEqual({
      tags: ['v2-x', '${env UNSET}'],
      n: 3,
    });
  });

  it('names what is left unresolved, by path', () => {
    expect(
      findUnresolvedLookups({ ecr_repo: { repo_name: '${cfn stack.Repo}' }, tags: ['ok', '${env UNSET}'] }),
    ).toEqual([
      {
        path: 'ecr_repo.repo_name',
        lookup: '${cfn stack.Repo}',
        message: 'holds the Runway lookup ${cfn stack.Repo}, which dockpush cannot resolve; write its value instead',
      },
      { path: 'tags.1', lookup: '${env UNSET}', message: 'holds ${env UNSET}, but UNSET is not set' },
    ]);
  });
});
