import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashSync } from 'bcryptjs';
import Dockerode from 'dockerode';
import {
  ALL_ADAPTERS,
  type Adapter,
  type AdapterRun,
  allAdaptersProject,
  cleanUserEnv,
  runAdapter,
  writeProjectFile,
} from '../support/all-adapters-project';
import { EcrE2eEnvironment, ecrE2eEnabled } from '../support/ecr-environment';
import { e2eContainerName, e2eTmpDir, loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { startTestRegistry, type TestRegistry } from '../support/registries';
import { listTags } from '../support/registry-api';
import { recordReliability } from '../support/reliability-record';
import { leakedForms } from '../support/secret-forms';

/**
 * A corpus of known secrets goes through every adapter with DEBUG='*' (dockpush's own
 * namespaces and every library's), in runs that push and runs that fail on each error
 * path that handles a secret: a broken Docker config, a broken --config file, credentials
 * the registry refuses. All output, the result file and (for the API) the whole error
 * object are scanned for each secret as written, JSON-escaped, URL-encoded and in base64
 * at any alignment. The runs go in parallel (Nx's one after another: they share the
 * project.json) in `beforeAll`; each test checks one run.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const source = `dockpush-e2e-secrets:${unique}`;
const DEBUG = '*';

interface Secret {
  secret: string;
  user?: string;
}

const wrongPassword = `known-wrong-password-${unique}`;
const identityToken = `known-identity-token-${unique}`;
/** Holds `${`, and a lookup that would resolve if dockpush read it as one. */
const dollarPassword = `Dollar\${env HOME}-\${x-${unique}`;
/** Holds `%`, `:` and `@`, which URL-encoding and `user:password` splitting trip on. */
const percentPassword = `p%25c:t@${unique}%`;
/** Looks like base64, so that its own base64 forms are easy to confuse with it. */
const base64Token = `${randomBytes(24).toString('base64')}${Buffer.from(unique).toString('base64')}`;
const corpusUsers = { dollar: dollarPassword, percent: percentPassword, token: base64Token };

const b64 = (s: string) => Buffer.from(s).toString('base64');
let corpus: TestRegistry | undefined;
const corpusHost = () => corpus?.host ?? 'no-corpus-registry';

function dockerConfigDir(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-secret-config-'));
  writeFileSync(path.join(dir, 'config.json'), text);
  return dir;
}
/**
 * A credential helper that fails the way a broken keychain might: it prints the secret
 * on stdout and on stderr, then exits 1.
 */
function leakyHelperPath(secret: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-secret-helper-'));
  const script = path.join(dir, 'docker-credential-dockpushleaky');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      'cat >/dev/null',
      `echo '{"Username":"token","Secret":"${secret}"}'`,
      `echo 'keychain error: cannot unlock token ${secret}' >&2`,
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return `${dir}:${process.env.PATH ?? ''}`;
}

const configEnv = (config: object | string) =>
  cleanUserEnv({ DOCKER_CONFIG: dockerConfigDir(typeof config === 'string' ? config : JSON.stringify(config)), DEBUG });

interface Scenario {
  name: string;
  adapters: readonly Adapter[];
  /** Secrets that must not leak. */
  secrets: () => Secret[];
  /** The registry pushed to. */
  host: () => string;
  /** What the run must do: push, or fail with a message matching this. */
  expect: 'pushed' | RegExp;
  env: () => NodeJS.ProcessEnv;
  /** Arguments beyond repo/source/outputFile, for the non-CLI adapters. */
  extra?: () => Record<string, unknown>;
  /** CLI words beyond --repo/--source/--output-file, and its stdin. */
  cliExtra?: () => string[];
  stdin?: () => string;
  /** The CLI's words before --repo and the rest: a --config file. */
  cliOnlyConfig?: () => string[];
  /** Fails before dockpush logs anything (reading a file), so no debug line is expected. */
  failsBeforeLogging?: boolean;
}

const refused = /Cannot authenticate to|unauthorized|authentication required/;
const scenarios: Scenario[] = [
  {
    name: 'the right password, from the Docker config',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: env.auth.password, user: env.auth.username }],
    host: () => env.auth.host,
    expect: 'pushed',
    env: () => configEnv({ auths: { [env.auth.host]: { auth: b64(`${env.auth.username}:${env.auth.password}`) } } }),
  },
  {
    name: 'a wrong password, given explicitly, refused by the registry',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: wrongPassword, user: env.auth.username }],
    host: () => env.auth.host,
    expect: refused,
    env: () => cleanUserEnv({ DEBUG }),
    extra: () => ({ auth: { username: env.auth.username, password: wrongPassword } }),
    cliExtra: () => ['--username', env.auth.username, '--password-stdin'],
    stdin: () => `${wrongPassword}\n`,
  },
  {
    name: 'an identity token, from DOCKER_AUTH_CONFIG, refused by the registry',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: identityToken }],
    host: () => env.auth.host,
    expect: refused,
    env: () => ({
      ...cleanUserEnv({ DEBUG }),
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [env.auth.host]: { identitytoken: identityToken } } }),
    }),
  },
  {
    name: 'a password holding ${, given explicitly (CLI: --password-stdin)',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: dollarPassword, user: 'dollar' }],
    host: corpusHost,
    expect: 'pushed',
    env: () => cleanUserEnv({ DEBUG }),
    extra: () => ({ auth: { username: 'dollar', password: dollarPassword } }),
    cliExtra: () => ['--username', 'dollar', '--password-stdin'],
    stdin: () => `${dollarPassword}\n`,
  },
  {
    name: 'a password holding ${, from ${env NAME} in a --config file',
    adapters: ['cli'],
    secrets: () => [{ secret: dollarPassword, user: 'dollar' }],
    host: corpusHost,
    expect: 'pushed',
    env: () => cleanUserEnv({ DEBUG, DOCKPUSH_E2E_PASSWORD: dollarPassword }),
    cliOnlyConfig: () => [
      '--config',
      writeProjectFile(
        `secrets-${unique}/env-password.json`,
        JSON.stringify({ auth: { username: 'dollar', password: '${env DOCKPUSH_E2E_PASSWORD}' } }),
      ),
    ],
  },
  {
    name: 'a password holding %, : and @, from the Docker config',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: percentPassword, user: 'percent' }],
    host: corpusHost,
    expect: 'pushed',
    env: () => configEnv({ auths: { [corpusHost()]: { auth: b64(`percent:${percentPassword}`) } } }),
  },
  {
    name: 'a base64-looking token, from DOCKER_AUTH_CONFIG',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: base64Token, user: 'token' }],
    host: corpusHost,
    expect: 'pushed',
    env: () => ({
      ...cleanUserEnv({ DEBUG }),
      DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [corpusHost()]: { username: 'token', password: base64Token } } }),
    }),
  },
  {
    name: 'a broken Docker config holding passwords',
    adapters: ALL_ADAPTERS,
    secrets: () => [
      { secret: percentPassword, user: 'percent' },
      { secret: dollarPassword, user: 'dollar' },
    ],
    host: corpusHost,
    expect: /not valid JSON.*line \d+, column \d+/,
    failsBeforeLogging: true,
    env: () =>
      configEnv(
        `{"auths": {"${corpusHost()}": {"username": "percent", "password": "${percentPassword}"},\n` +
          `  "other.example": {"password":${dollarPassword}}}}`,
      ),
  },
  {
    name: 'a broken --config JSON file holding a password',
    adapters: ['cli'],
    secrets: () => [{ secret: dollarPassword, user: 'dollar' }],
    host: corpusHost,
    expect: /not valid JSON.*line 2, column \d+/,
    failsBeforeLogging: true,
    env: () => cleanUserEnv({ DEBUG }),
    cliOnlyConfig: () => [
      '--config',
      writeProjectFile(
        `secrets-${unique}/broken.json`,
        `{"repo": "${corpusHost()}/x",\n "auth": {"username": "dollar", "password":${dollarPassword}}}`,
      ),
    ],
  },
  {
    name: 'a failing credential helper that prints the secret on stdout and stderr',
    adapters: ALL_ADAPTERS,
    secrets: () => [{ secret: base64Token, user: 'token' }],
    host: corpusHost,
    expect: /docker-credential-dockpushleaky/,
    env: () => ({
      ...configEnv({ credHelpers: { [corpusHost()]: 'dockpushleaky' } }),
      PATH: leakyHelperPath(base64Token),
    }),
  },
];

/**
 * A known ECR token (the stand-in's), where the ECR end-to-end set-up may run (CI): the
 * real SDK fetches it from the loopback stand-in, and the engine logs in with it.
 */
const ECR_ACCOUNT = '777788889999';
const ecrHost = `${ECR_ACCOUNT}.dkr.ecr.eu-west-3.amazonaws.com`;
let ecr: EcrE2eEnvironment | undefined;
let ecrAwsEnv: NodeJS.ProcessEnv = {};
const ecrScenario: Scenario | undefined = ecrE2eEnabled()
  ? {
      name: 'an ECR token from the AWS SDK',
      adapters: ALL_ADAPTERS,
      secrets: () => (ecr ? [{ secret: ecr.registryAuth.password, user: 'AWS' }] : []),
      host: () => ecrHost,
      expect: 'pushed',
      env: () => cleanUserEnv({ DEBUG, ...ecrAwsEnv }),
      cliExtra: () => ['--ecr-account-id', ECR_ACCOUNT, '--ecr-region', 'eu-west-3'],
    }
  : undefined;
if (ecrScenario) scenarios.push(ecrScenario);

interface Row {
  adapter: Adapter;
  scenario: Scenario;
  label: string;
  name: string;
  outputFile: string;
}

const rows: Row[] = scenarios.flatMap((scenario, i) =>
  scenario.adapters.map((adapter) => ({
    adapter,
    scenario,
    label: scenario.name,
    name: `secrets-${adapter}-${i}-${unique}`,
    outputFile: path.join(e2eTmpDir, `secrets-${unique}`, `${adapter}-${i}.json`),
  })),
);
const runs = new Map<Row, AdapterRun & { seconds: number }>();

async function timedRun(row: Row): Promise<AdapterRun & { seconds: number }> {
  const started = Date.now();
  const run = await runRow(row);
  return { ...run, seconds: (Date.now() - started) / 1000 };
}

function runRow(row: Row): Promise<AdapterRun> {
  const { adapter, scenario, name, outputFile } = row;
  const isEcr = scenario === ecrScenario;
  if (isEcr) ecr?.standIn.addRepository(ecrHost, name);
  const repo = `${scenario.host()}/${name}`;
  if (adapter === 'cli') {
    const target = isEcr ? ['--ecr-repo-name', name] : ['--repo', repo];
    const words = scenario.cliOnlyConfig
      ? ['push', ...scenario.cliOnlyConfig(), ...target, '--source', source, '--output-file', outputFile]
      : ['push', ...target, '--source', source, '--output-file', outputFile, ...(scenario.cliExtra?.() ?? [])];
    return runAdapter('cli', words, scenario.env(), scenario.stdin?.() ?? '');
  }
  const target = isEcr ? { ecrRepo: { repoName: name, accountId: ECR_ACCOUNT, awsRegion: 'eu-west-3' } } : { repo };
  return runAdapter(adapter, { ...target, source, outputFile, ...scenario.extra?.() }, scenario.env());
}

/** Runs every row: up to three at once, Nx's one after another (they share project.json). */
async function runAll(): Promise<void> {
  const nx = rows.filter((r) => r.adapter === 'nx');
  const others = rows.filter((r) => r.adapter !== 'nx');
  const nxChain = (async () => {
    for (const row of nx) runs.set(row, await timedRun(row));
  })();
  const workers = Array.from({ length: 2 }, async () => {
    for (let row = others.shift(); row; row = others.shift()) runs.set(row, await timedRun(row));
  });
  await Promise.all([nxChain, ...workers]);
}

beforeAll(async () => {
  allAdaptersProject();
  writeProjectFile(`secrets-${unique}/.keep`, '');
  const htpasswd = path.join(mkdtempSync(path.join(tmpdir(), 'dockpush-secret-htpasswd-')), 'htpasswd');
  writeFileSync(
    htpasswd,
    Object.entries(corpusUsers)
      .map(([user, password]) => `${user}:${hashSync(password, 6)}\n`)
      .join(''),
  );
  const [registry] = await Promise.all([
    startTestRegistry(e2eContainerName('secrets'), { htpasswd }),
    createTestImage(docker, source, { layers: 1, bytesPerLayer: 8192 }),
  ]);
  corpus = registry;
  if (ecrScenario) {
    ecr = await EcrE2eEnvironment.start({ accountId: ECR_ACCOUNT, hosts: [ecrHost], docker });
    const awsDir = mkdtempSync(path.join(tmpdir(), 'dockpush-secret-aws-'));
    writeFileSync(path.join(awsDir, 'config'), '');
    writeFileSync(path.join(awsDir, 'credentials'), '');
    ecrAwsEnv = {
      AWS_ACCESS_KEY_ID: 'AKIADOCKPUSHSECRETS',
      AWS_SECRET_ACCESS_KEY: 'dockpush-e2e-not-a-secret',
      AWS_CONFIG_FILE: path.join(awsDir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...ecr.standIn.endpointEnv(),
    };
  }
  await runAll();
}, 600_000);
afterAll(async () => {
  await removeImage(docker, source);
  corpus?.remove();
  await ecr?.stop();
});

it.each(rows)('$adapter: $label', async (row: Row) => {
  const { adapter, scenario, name, outputFile } = row;
  const run = runs.get(row);
  if (!run) throw new Error(`no run of ${adapter}: ${scenario.name}; see beforeAll`);
  const written = existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : '';
  const everything = `${run.output}\n${written}`;
  const secrets = scenario.secrets();
  const leaked = secrets.flatMap(({ secret, user }) => leakedForms(everything, secret, user));
  recordReliability({
    kind: 'secret',
    adapter,
    case: scenario.name,
    outcome:
      leaked.length === 0
        ? `no secret in ${everything.length} bytes of output and files`
        : `LEAKED ${leaked.length} form(s)`,
    detail: `exit ${run.status} in ${run.seconds.toFixed(1)} s; DEBUG=${DEBUG}; ${written ? 'result file checked' : 'no result file'}`,
  });
  expect(secrets.length).toBeGreaterThan(0);
  // The run really went through dockpush with every debug namespace on.
  if (!scenario.failsBeforeLogging) expect(run.output).toMatch(/dockpush:\w+/);
  expect(leaked).toEqual([]);
  if (scenario.expect === 'pushed') {
    expect({ status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({ status: 0, output: '' });
    expect(written).toContain('sha256:');
    if (scenario === ecrScenario && ecr) {
      expect(await listTags(ecr.registry, name, ecr.registryAuth)).toEqual(['latest']);
    } else {
      const [secret] = secrets;
      const auth =
        scenario.host() === env.auth.host ? env.auth : { username: secret?.user ?? '', password: secret?.secret ?? '' };
      expect(await listTags(scenario.host(), name, auth)).toEqual(['latest']);
    }
  } else {
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(scenario.expect);
  }
});

/**
 * A caller that passes its own dockerode client (`pushImage(args, { docker })`) from its own
 * install: a copy of dockerode, docker-modem and `debug` that is not dockpush's. docker-modem
 * logs every request it sends with its headers, the engine push's `X-Registry-Auth` among them;
 * with DEBUG='*' that copy's lines must be redacted too.
 */
it("api: a dockerode client from the caller's own install, DEBUG='*'", async () => {
  const project = allAdaptersProject();
  const caller = mkdtempSync(path.join(project, 'caller-'));
  // dockpush's dependencies as installed, copied: the caller's copies resolve their own
  // dependencies from the project, as a second install of them would.
  for (const name of ['dockerode', 'docker-modem', 'debug', 'ms']) {
    cpSync(path.join(project, 'node_modules', name), path.join(caller, 'node_modules', name), {
      recursive: true,
      dereference: true,
    });
  }
  writeFileSync(
    path.join(caller, 'push.js'),
    `const path = require('node:path');
const Dockerode = require('dockerode');
const { pushImage } = require('dockpush');
const modem = path.dirname(require.resolve('docker-modem'));
console.log('modem debug: ' + require.resolve('debug', { paths: [modem] }));
pushImage(JSON.parse(process.env.DOCKPUSH_ARGS), { docker: new Dockerode() }).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(require('node:util').inspect(error, { depth: 8 }));
    process.exitCode = 1;
  },
);
`,
  );
  const name = `secrets-caller-dockerode-${unique}`;
  const { username, password } = env.auth;
  const args = { repo: `${env.auth.host}/${name}`, source, tags: ['latest'], auth: { username, password } };
  const run = spawnSync(process.execPath, ['push.js'], {
    cwd: caller,
    env: { ...cleanUserEnv({ DEBUG }), DOCKPUSH_ARGS: JSON.stringify(args) },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  const leaked = leakedForms(output, password, username);
  recordReliability({
    kind: 'secret',
    adapter: 'api',
    case: "a dockerode client from the caller's own install",
    outcome: leaked.length === 0 ? `no secret in ${output.length} bytes of output` : `LEAKED ${leaked.length} form(s)`,
    detail: `exit ${run.status}; DEBUG=${DEBUG}; docker-modem and debug copied into the caller's node_modules`,
  });
  // The caller's copies did the logging: docker-modem's debug is the caller's, and it logged
  // the push request with its auth header.
  expect(output).toContain(`modem debug: ${path.join(caller, 'node_modules', 'debug')}`);
  expect(output).toMatch(/modem Sending: [\s\S]*X-Registry-Auth/);
  expect(leaked).toEqual([]);
  expect({ status: run.status, output: run.status === 0 ? '' : output }).toEqual({ status: 0, output: '' });
  expect(await listTags(env.auth.host, name, env.auth)).toEqual(['latest']);
});
