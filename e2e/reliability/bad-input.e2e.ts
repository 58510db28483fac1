import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import {
  type Adapter,
  allAdaptersProject,
  cleanUserEnv,
  runAdapter,
  writeProjectFile,
} from '../support/all-adapters-project';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';
import { recordReliability } from '../support/reliability-record';

/**
 * Bad input across every way in: the CLI, the Node API, the Nx executor, Gulp and
 * Grunt, each run as a user runs it. Every case must exit non-zero with a message
 * that names the problem and says what to do, and without a stack trace.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const source = `dockpush-e2e-bad-input:${unique}`;
const repo = `${env.plain.host}/bad-input-${unique}`;
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** A Docker config folder holding `config` (text), and an env pointing at it. */
function dockerConfigEnv(config: string, extraPath?: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-bad-config-'));
  writeFileSync(path.join(dir, 'config.json'), config);
  const e = cleanUserEnv({ DOCKER_CONFIG: dir });
  if (extraPath) e.PATH = `${extraPath}:${e.PATH ?? ''}`;
  return e;
}

function failingHelperDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-helper-'));
  const file = path.join(dir, 'docker-credential-broken');
  writeFileSync(file, '#!/bin/sh\necho "the keychain is locked" >&2\nexit 4\n');
  chmodSync(file, 0o755);
  return dir;
}

type Case = [
  adapter: Adapter,
  what: string,
  args: () => Record<string, unknown> | string[],
  expected: RegExp,
  env?: () => NodeJS.ProcessEnv,
];

const noEngine = () => cleanUserEnv({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
const noRegion = () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'dockpush-noaws-'));
  return cleanUserEnv({
    AWS_CONFIG_FILE: path.join(empty, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(empty, 'credentials'),
  });
};
const badConfig = () => dockerConfigEnv('{"auths": {');
const missingHelper = () => dockerConfigEnv(JSON.stringify({ credHelpers: { [env.plain.host]: 'nosuchhelper' } }));
const brokenHelper = () =>
  dockerConfigEnv(JSON.stringify({ credHelpers: { [env.plain.host]: 'broken' } }), failingHelperDir());

const cases: Case[] = [
  // The Node API
  ['api', 'a number as repo', () => ({ repo: 42 }), /repo: expected string, got number 42/],
  ['api', 'a string as tags', () => ({ repo, tags: 'latest' }), /tags: expected array/],
  ['api', 'an empty repo', () => ({ repo: '' }), /repo: must not be empty/],
  [
    'api',
    'an unknown option close to a real one',
    () => ({ repo, tag: ['1'] }),
    /tag: unknown option; did you mean "tags"\?/,
  ],
  [
    'api',
    'two targets at once',
    () => ({ repo, image: source }),
    /give exactly one of ecrRepo, image or repo; got image and repo/,
  ],
  ['api', 'no target at all', () => ({ tags: ['1'] }), /give exactly one of ecrRepo .*image .*or repo/],
  ['api', 'an uppercase repository', () => ({ repo: 'localhost:5000/MyApp' }), /repo: .*must be lowercase/],
  ['api', 'a tag that starts with a dash', () => ({ repo, source, tags: ['-x'] }), /tags\.0: "-x" is not a valid tag/],
  ['api', 'a negative retries', () => ({ repo, retries: -1 }), /retries: must be at least 0/],
  [
    'api',
    'a source that does not exist',
    () => ({ repo, source: 'no-such-image:1' }),
    /No local image "no-such-image:1".*Build it first/,
  ],
  [
    'api',
    'an unreachable engine',
    () => ({ repo, source }),
    /Cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock.*Start Docker, or set DOCKER_HOST/,
    noEngine,
  ],
  [
    'api',
    'an unreachable registry',
    () => ({ repo: '127.0.0.1:1/app', source, retries: 0 }),
    /connection refused.*Check that the registry 127\.0\.0\.1:1 is up and reachable from the Docker engine \(retries: 0/,
  ],
  [
    'api',
    'a malformed Docker config',
    () => ({ repo, source }),
    /The Docker config .*config\.json is not valid JSON.*fix or remove it/,
    badConfig,
  ],
  [
    'api',
    'a credential helper that is not installed',
    () => ({ repo, source }),
    /docker-credential-nosuchhelper is not on PATH\. Install it, or remove it/,
    missingHelper,
  ],
  [
    'api',
    'a credential helper that fails',
    () => ({ repo, source }),
    /docker-credential-broken get exited with code 4 \(its output is not shown, since it may hold a secret\)\. Run it by hand/,
    brokenHelper,
  ],
  [
    'api',
    'ECR with no region anywhere',
    () => ({ ecrRepo: { repoName: 'app', accountId: '123456789012' } }),
    /no AWS region: set ecrRepo\.awsRegion .*AWS_REGION/,
    noRegion,
  ],
  // The CLI
  ['cli', 'no target', () => ['push', '--tag', '1'], /--repo|--image|--ecr-repo-name/],
  ['cli', 'a repository with a tag in it', () => ['push', '--repo', `${repo}:1`], /includes a tag \(":1"\).*tags?/],
  ['cli', 'an invalid tag', () => ['push', '--repo', repo, '--tag', 'v1/beta'], /"v1\/beta" is not a valid tag/],
  [
    'cli',
    'an unknown flag close to a real one',
    () => ['push', '--repo', repo, '--tagg', '1'],
    /--tagg.*did you mean --tag\b/,
  ],
  [
    'cli',
    'two targets at once',
    () => ['push', '--repo', repo, '--image', source],
    /give one of --repo, --image or --ecr-repo-name, not --repo and --image/,
  ],
  ['cli', 'a flag without its value', () => ['push', '--repo', repo, '--tag', '--dry-run'], /--tag: needs a value/],
  ['cli', 'an empty --repo', () => ['push', '--repo', ''], /repo.*must not be empty|--repo/],
  ['cli', 'a --config file that does not exist', () => ['push', '--config', 'no-such-file.yaml'], /no-such-file\.yaml/],
  [
    'cli',
    'a --config file that is not JSON or YAML',
    () => ['push', '--config', writeProjectFile('bad.yaml', 'repo: [unclosed\n  - : :\n')],
    /bad\.yaml/,
  ],
  [
    'cli',
    'a --config file with an unknown key',
    () => ['push', '--config', writeProjectFile('typo.json', JSON.stringify({ repo, tagz: ['1'] }))],
    /tagz.*did you mean "tags"/,
  ],
  ['cli', 'a number flag that is not a number', () => ['push', '--repo', repo, '--retries', 'many'], /--retries/],
  [
    'cli',
    'a source that does not exist',
    () => ['push', '--repo', repo, '--source', 'no-such-image:1'],
    /No local image "no-such-image:1"/,
  ],
  [
    'cli',
    'an unreachable engine',
    () => ['push', '--repo', repo, '--source', source],
    /Cannot reach the Docker engine.*DOCKER_HOST/,
    noEngine,
  ],
  [
    'cli',
    'a malformed Docker config',
    () => ['push', '--repo', repo, '--source', source],
    /not valid JSON.*fix or remove it/,
    badConfig,
  ],
  [
    'cli',
    'ECR with no region anywhere',
    () => ['push', '--ecr-repo-name', 'app', '--ecr-account-id', '123456789012'],
    /no AWS region/,
    noRegion,
  ],
  // The Nx executor
  ['nx', 'an uppercase repository', () => ({ repo: 'localhost:5000/MyApp' }), /repo.*lowercase/],
  ['nx', 'an invalid tag', () => ({ repo, source, tags: ['-x'] }), /"-x" is not a valid tag/],
  ['nx', 'an unknown option', () => ({ repo, tagz: '1' }), /tagz/],
  ['nx', 'two targets at once', () => ({ repo, image: source }), /exactly one of/],
  [
    'nx',
    'a source that does not exist',
    () => ({ repo, source: 'no-such-image:1' }),
    /No local image "no-such-image:1"/,
  ],
  ['nx', 'an unreachable engine', () => ({ repo, source }), /Cannot reach the Docker engine/, noEngine],
  ['nx', 'retries out of range', () => ({ repo, source, retries: 99 }), /retries.*at most 10/],
  // Gulp
  ['gulp', 'an uppercase repository', () => ({ repo: 'localhost:5000/MyApp' }), /lowercase/],
  ['gulp', 'an unknown option', () => ({ repo, tagz: ['1'] }), /tagz.*did you mean "tags"/],
  ['gulp', 'two targets at once', () => ({ repo, image: source }), /exactly one of/],
  [
    'gulp',
    'a source that does not exist',
    () => ({ repo, source: 'no-such-image:1' }),
    /No local image "no-such-image:1"/,
  ],
  [
    'gulp',
    'a credential helper that fails',
    () => ({ repo, source }),
    /docker-credential-broken get exited with code 4/,
    brokenHelper,
  ],
  // Grunt
  ['grunt', 'an uppercase repository', () => ({ repo: 'localhost:5000/MyApp' }), /lowercase/],
  ['grunt', 'tags that are not a list', () => ({ repo, tags: 'latest' }), /tags: expected array/],
  ['grunt', 'no target at all', () => ({}), /exactly one of/],
  [
    'grunt',
    'a source that does not exist',
    () => ({ repo, source: 'no-such-image:1' }),
    /No local image "no-such-image:1"/,
  ],
  ['grunt', 'an unreachable registry', () => ({ repo: '127.0.0.1:1/app', source, retries: 0 }), /connection refused/],
];

beforeAll(async () => {
  allAdaptersProject();
  await createTestImage(docker, source, { layers: 1, bytesPerLayer: 4096 });
}, 600_000);

afterAll(async () => removeImage(docker, source));

it('tries at least 40 bad inputs across the five adapters', () => {
  expect(cases.length).toBeGreaterThanOrEqual(40);
  expect(new Set(cases.map((c) => c[0])).size).toBe(5);
});

/**
 * Hostile references and output files: refused before any side effect. Each row pushes to
 * its own repository, so "nothing pushed" and "no local tag left" are checked exactly.
 */
type HostileCase = [
  adapter: Adapter,
  what: string,
  args: (repo: string) => Record<string, unknown> | string[],
  expected: RegExp,
  secret?: string,
];

const aFile = () => writeProjectFile(`plain-${unique}.txt`, 'not a folder\n');
const aFolder = () => path.dirname(aFile());

const hostile: HostileCase[] = [
  [
    'cli',
    'a path-like --image',
    () => ['push', '--image', '../../etc/passwd'],
    /--image: "\.\.\/\.\.\/etc\/passwd" is not a valid image reference/,
  ],
  [
    'cli',
    'a URL-like --image',
    () => ['push', '--image', '../containers/json?all=1&x='],
    /--image: .*is not a valid image reference/,
  ],
  [
    'cli',
    'a path-like --source',
    (r) => ['push', '--repo', r, '--source', '../../etc/passwd'],
    /--source: .*is not a valid image reference/,
  ],
  [
    'cli',
    'an uppercase --image',
    () => ['push', '--image', 'MyApp:1'],
    /--image: .*repository names must be lowercase/,
  ],
  [
    'cli',
    'a registry port above 65535',
    () => ['push', '--repo', 'localhost:70000/app', '--source', source],
    /--repo: .*port 70000; a port is a number from 1 to 65535/,
  ],
  [
    'cli',
    'credentials inside --repo',
    () => ['push', '--repo', 'alice:Hunter2@ghcr.io/org/app', '--source', source],
    /--repo: holds credentials .*--username and --password-stdin/,
    'Hunter2',
  ],
  [
    'cli',
    'a docker-archive: source that does not exist',
    (r) => ['push', '--repo', r, '--source', 'docker-archive:app.tar'],
    /--source: .*app\.tar does not exist; give a file made by `docker save -o`/,
  ],
  [
    'cli',
    '--output-file pointing to a folder',
    (r) => ['push', '--repo', r, '--source', source, '-o', aFolder()],
    /--output-file: .* is a folder; give the path of a file in it/,
  ],
  [
    'cli',
    '--output-file pointing to /dev/full',
    (r) => ['push', '--repo', r, '--source', source, '-o', '/dev/full'],
    /--output-file: "\/dev\/full" is not a regular file/,
  ],
  [
    'cli',
    '--output-file under a file',
    (r) => ['push', '--repo', r, '--source', source, '-o', path.join(aFile(), 'result.json')],
    /--output-file: .* which is a file, not a folder/,
  ],
  [
    'cli',
    'an ECR Public alias with a space',
    () => ['push', '--ecr-repo-name', 'app', '--ecr-registry-alias', 'A B'],
    /--ecr-registry-alias: must be an ECR Public registry alias/,
  ],
  [
    'cli',
    'a YAML tag read as a number',
    (r) => [
      'push',
      '--config',
      writeProjectFile(`number-tag-${unique}.yaml`, `repo: ${r}\nsource: ${source}\ntags: [1.0]\n`),
    ],
    /tags\.0: a tag must be a string, got number 1; quote it in the config file/,
  ],
  [
    'api',
    'a path-like image',
    () => ({ image: '../../etc/passwd' }),
    /ArgumentsError: image: .*not a valid image reference/,
  ],
  [
    'api',
    'a URL-like source',
    (r) => ({ repo: r, source: '../containers/json?all=1&x=' }),
    /ArgumentsError: source: .*not a valid image reference/,
  ],
  [
    'api',
    'credentials inside repo',
    () => ({ repo: 'alice:Hunter2@ghcr.io/org/app', source }),
    /ArgumentsError: repo: holds credentials/,
    'Hunter2',
  ],
  [
    'api',
    'tags given as []',
    (r) => ({ repo: r, source, tags: [] }),
    /ArgumentsError: tags: is empty; leave it out for the default/,
  ],
  [
    'api',
    'outputFile pointing to a folder',
    (r) => ({ repo: r, source, outputFile: aFolder() }),
    /ArgumentsError: outputFile: .* is a folder/,
  ],
  [
    'nx',
    'outputFile pointing to /dev/full',
    (r) => ({ repo: r, source, outputFile: '/dev/full' }),
    /outputFile: "\/dev\/full" is not a regular file/,
  ],
  [
    'gulp',
    'a path-like source',
    (r) => ({ repo: r, source: '../../etc/passwd' }),
    /source: .*not a valid image reference/,
  ],
  ['grunt', 'an uppercase image', () => ({ image: 'MyApp:1' }), /image: .*repository names must be lowercase/],
];

const hostileRows = hostile.map(([adapter, what, args, expected, secret], i) => ({
  adapter,
  what,
  args,
  expected,
  secret,
  i,
}));

it.each(hostileRows)(
  '$adapter: $what is refused before anything is pushed or tagged',
  async ({ adapter, what, args, expected, secret, i }) => {
    const repoName = `bad-input-hostile-${i}-${unique}`;
    const target = `${env.plain.host}/${repoName}`;
    const started = Date.now();
    const run = await runAdapter(adapter, args(target), cleanUserEnv());
    const firstLine =
      run.output.split('\n').find((l) => expected.test(l)) ?? run.output.trim().split('\n').slice(-1)[0] ?? '';
    recordReliability({
      kind: 'bad-input',
      adapter,
      case: what,
      outcome: `exit ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      detail: firstLine.trim().slice(0, 220),
    });
    if (adapter === 'cli') expect(run.status).toBe(2);
    else expect(run.status).not.toBe(0);
    expect(run.output).toMatch(expected);
    expect(run.output).not.toMatch(STACK_LINE);
    if (secret) expect(run.output).not.toContain(secret);
    expect(await listTags(env.plain.host, repoName)).toEqual([]);
    const left = await docker.listImages({ filters: JSON.stringify({ reference: [`${target}:*`] }) });
    expect(left.flatMap((image) => image.RepoTags ?? [])).toEqual([]);
  },
);

const rows = cases.map(([adapter, what, args, expected, makeEnv]) => ({ adapter, what, args, expected, makeEnv }));

it.each(rows)('$adapter: $what', async ({ adapter, what, args, expected, makeEnv }) => {
  const run = await runAdapter(adapter, args(), makeEnv ? makeEnv() : cleanUserEnv());
  const firstLine =
    run.output.split('\n').find((l) => expected.test(l)) ?? run.output.trim().split('\n').slice(-1)[0] ?? '';
  recordReliability({
    kind: 'bad-input',
    adapter,
    case: what,
    outcome: `exit ${run.status}`,
    detail: firstLine.trim().slice(0, 220),
  });
  expect(run.status).not.toBe(0);
  expect(run.output).toMatch(expected);
  expect(run.output).not.toMatch(STACK_LINE);
});
