import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '@dockpush/core';
import { extractPushArgs, loadPushConfig, resolveLookups } from './config-file';
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
      unresolved: [],
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
      unresolved: [],
    });
  });

  it.each([
    ['missing.yml', null, /^--config: cannot read ".*missing\.yml": no such file$/],
    [
      'bad.json',
      '{ "repo": ',
      /bad\.json: not valid JSON: the text ends where a value was expected at line 1, column 11$/,
    ],
    ['bad.yaml', 'repo: [unclosed', /bad\.yaml: not valid YAML at line 1, column 16: /],
    [
      'duplicate.json',
      '{"args": {"repo": "a",\n "repo": "b"}}',
      /duplicate\.json: args: gives the key "repo" twice \(line 2, column 2\); keep only one$/,
    ],
    ['empty.yml', '', /empty\.yml: is empty/],
    [
      'duplicate.yml',
      'args:\n  repo: a\n  tags: [x]\n  repo: b\n',
      /duplicate\.yml: not valid YAML at line 4, column 3: the key "repo" is given twice in the same mapping; keep only one$/,
    ],
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

describe('a config file holding a secret', () => {
  const secret = 'Sup3r${S3cret}:%@';
  it.each([
    ['JSON', 'leak.json', `{"repo": "localhost:5000/app",\n "auth": {"username": "u", "password":Sup3rS3cre}}`],
    ['JSON', 'leak2.json', `{"auth": {"username": "u", "password": "Sup3rS3cre\n"}}`],
    ['YAML', 'leak.yml', 'auth:\n  username: u\n  password: "Sup3rS3cre\n  other: [x'],
    ['YAML', 'leak2.yml', 'auth:\n  username: u\n  password: "Sup3r\\qS3cre"\n'],
    ['YAML', 'leak3.yml', 'auth: {username: u, password: Sup3rS3cre}}\n'],
  ])('is never quoted when its %s is broken (%s)', async (_, name, text) => {
    const message = await usageMessage(loadPushConfig(file(name, text)));
    expect(message).toMatch(/not valid (JSON|YAML).* at line \d+, column \d+/);
    expect(message).not.toMatch(/Sup3r|S3cre/);
  });

  it('reads a JSON file that starts with a byte-order mark, as YAML files are', async () => {
    const path = file('bom.json', '\uFEFF{"repo": "localhost:5000/app"}');
    expect((await loadPushConfig(path)).args).toEqual({ repo: 'localhost:5000/app' });
  });

  it('takes a password holding ${ from an ${env NAME} lookup, opaque, and registers it for redaction', async () => {
    const path = file(
      'env-auth.yml',
      'repo: localhost:5000/app\nauth:\n  username: u\n  password: ${env DOCKPUSH_SPEC_PW}\n',
    );
    const config = await loadPushConfig(path, { DOCKPUSH_SPEC_PW: secret });
    expect(config.args.auth).toEqual({ username: 'u', password: secret });
    expect(config.unresolved).toEqual([]);
    expect(redact(`x ${secret} ${Buffer.from(secret).toString('base64')}`)).toBe('x *** ***');
  });

  it('refuses an unresolvable lookup in auth without quoting it', async () => {
    const path = file(
      'ssm-auth.yml',
      'repo: localhost:5000/app\nauth:\n  username: u\n  password: "pa${ssm /prod/pw}x"\n',
    );
    const { unresolved } = await loadPushConfig(path, {});
    expect(unresolved).toEqual([{ path: 'auth.password', message: expect.stringContaining('--password-stdin') }]);
    expect(unresolved[0]?.message).not.toMatch(/ssm|prod|pa\$/);
  });
});

describe('Runway lookups', () => {
  it('resolves ${env NAME} where set, anywhere in a string', () => {
    expect(resolveLookups({ tags: ['v${env V}-x', '${env UNSET}'], n: 3 }, { V: '2' }).value).toEqual({
      tags: ['v2-x', '${env UNSET}'],
      n: 3,
    });
  });

  it('names what is left unresolved, by path', () => {
    expect(
      resolveLookups({ ecr_repo: { repo_name: '${cfn stack.Repo}' }, tags: ['ok', '${env UNSET}'] }, {}).unresolved,
    ).toEqual([
      {
        path: 'ecr_repo.repo_name',
        message: 'holds the Runway lookup ${cfn stack.Repo}, which dockpush cannot resolve; write its value instead',
      },
      { path: 'tags.1', message: 'holds ${env UNSET}, but UNSET is not set' },
    ]);
  });

  it('resolves once: a value that came from a variable is not read for lookups', () => {
    const { value, unresolved } = resolveLookups(
      { tags: ['${env A}'], auth: { username: 'u', password: '${env PW}' } },
      { A: '${env B}', B: 'no', PW: 'x${cfn y}${env A}' },
    );
    expect(value).toEqual({ tags: ['${env B}'], auth: { username: 'u', password: 'x${cfn y}${env A}' } });
    expect(unresolved).toEqual([]);
  });
});
