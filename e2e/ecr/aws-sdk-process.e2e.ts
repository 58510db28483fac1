import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { EcrStandIn } from '../support/ecr-standin';
import { loadE2eEnv, repoRoot } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';

/**
 * How the built `@dockpush/core` behaves toward the AWS SDK in a fresh Node process, as a user's
 * build sees it: which modules get loaded, what reaches stderr, how often STS is asked. Each case
 * spawns `node`, so module caches and the SDK's once-a-process warnings start empty. Touches
 * nothing on the machine (the AWS stand-in is on a loopback port), so it always runs.
 */
const coreDist = join(repoRoot, 'packages', 'core', 'dist');
const corePath = join(coreDist, 'index.js');
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` in `node -e` with `core` bound to the built core and an environment holding
 * nothing of the developer's AWS, Docker or DEBUG settings, plus `extraEnv`. The script's last
 * expression is awaited and printed as JSON on stdout. Asynchronous, so that the stand-in in
 * this process can answer the child.
 */
function runNode(script: string, extraEnv: Record<string, string>): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-sdk-'));
  writeFileSync(join(dir, 'config'), '');
  writeFileSync(join(dir, 'credentials'), '');
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'DEBUG' && k !== 'NODE_OPTIONS'),
  );
  const program = `
    const core = require(${JSON.stringify(corePath)});
    const sdkModules = () => Object.keys(require.cache).filter((k) => k.includes('@aws-sdk'));
    (async () => { ${script} })().then(
      (value) => process.stdout.write(JSON.stringify(value)),
      (error) => { process.stdout.write(JSON.stringify({ error: error.name + ': ' + error.message })); process.exitCode = 3; },
    );`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', program], {
      cwd: dir,
      env: {
        ...base,
        HOME: dir,
        DOCKER_CONFIG: dir,
        AWS_CONFIG_FILE: join(dir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function parsed<T>(result: ChildResult): T {
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout) as T;
}

describe('the AWS SDK is loaded only for ECR', () => {
  const sourceRef = `dockpush-e2e-sdk-source:${unique}`;
  const repo = `${env.plain.host}/ecr-sdk-none-${unique}`;

  beforeAll(async () => {
    await createTestImage(docker, sourceRef, { layers: 1, bytesPerLayer: 4096 });
  });

  afterAll(async () => {
    await removeImage(docker, `${repo}:latest`);
    await removeImage(docker, sourceRef);
  });

  it('a plan and a real push to a non-ECR registry leave no @aws-sdk module in require.cache', async () => {
    const out = parsed<{ plan: { credentials: string }; digest: string; sdk: string[] }>(
      await runNode(
        `const plan = await core.resolvePushPlan({ repo: 'localhost:5000/app', tags: ['1'] });
         const result = await core.pushImage({ repo: ${JSON.stringify(repo)}, source: ${JSON.stringify(sourceRef)} });
         return { plan, digest: result.pushed[0].digest, sdk: sdkModules() };`,
        {},
      ),
    );
    expect(out.plan.credentials).toBe('anonymous');
    expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await listTags(env.plain.host, `ecr-sdk-none-${unique}`)).toEqual(['latest']);
    expect(out.sdk).toEqual([]);
  });

  it.each([
    [
      'an ECR plan with accountId and awsRegion given (a plan fetches no token)',
      { accountId: '123456789012', awsRegion: 'eu-west-1' },
      false,
    ],
    [
      'an ECR plan that needs the region chain (control: the check sees loaded modules)',
      { accountId: '123456789012' },
      true,
    ],
  ])('%s', async (_what, ecrRepo, loaded) => {
    const out = parsed<{ result: unknown; sdk: string[] }>(
      await runNode(
        `const result = await core.resolvePushPlan({ ecrRepo: { repoName: 'app', ...${JSON.stringify(ecrRepo)} } })
           .catch((e) => e.name);
         return { result, sdk: sdkModules() };`,
        {},
      ),
    );
    if (loaded) {
      // No region anywhere: the SDK's profile chain was consulted, then the ArgumentsError.
      expect(out.result).toBe('ArgumentsError');
      expect(out.sdk.some((k) => k.includes('@aws-sdk/client-sts'))).toBe(true);
    } else {
      expect(out.result).toMatchObject({ credentials: 'ecr' });
      expect(out.sdk).toEqual([]);
    }
  });
});

describe('the AWS SDK in a user process, against the AWS stand-in', () => {
  let standIn: EcrStandIn;
  const password = `sdk-process-${unique}`;
  /** AWS_PROFILE and static keys both set: the SDK's "Multiple credential sources" warning case. */
  let noisyEnv: Record<string, string>;

  beforeAll(async () => {
    standIn = await EcrStandIn.start({ accountId: '555566667777', password });
    const dir = mkdtempSync(join(tmpdir(), 'dockpush-sdk-profile-'));
    writeFileSync(
      join(dir, 'credentials'),
      '[e2e]\naws_access_key_id = AKIAPROFILEE2E\naws_secret_access_key = profile-secret-e2e\n',
    );
    writeFileSync(join(dir, 'config'), '[profile e2e]\nregion = eu-west-1\n');
    noisyEnv = {
      ...standIn.endpointEnv(),
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_PROFILE: 'e2e',
      AWS_ACCESS_KEY_ID: 'AKIAENVE2E',
      AWS_SECRET_ACCESS_KEY: 'env-secret-e2e',
    };
  });

  afterAll(() => standIn.close());
  beforeEach(() => standIn.reset());

  it('control: the bare SDK is noisy in this set-up (so the next test can tell)', async () => {
    const result = await runNode(
      `const { STSClient, GetCallerIdentityCommand } = require(require.resolve('@aws-sdk/client-sts', { paths: [${JSON.stringify(
        join(repoRoot, 'packages', 'core'),
      )}] }));
       return (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Account;`,
      noisyEnv,
    );
    expect(parsed<string>(result)).toBe('555566667777');
    expect(result.stderr).toContain('Multiple credential sources detected');
    if (Number(process.versions.node.split('.')[0]) < 22) expect(result.stderr).toContain('NodeVersionSupportWarning');
  });

  it('dockpush keeps SDK warnings off stderr, asks STS once for three plans, and gets both kinds of token', async () => {
    const result = await runNode(
      `const first = await Promise.all([
         core.resolvePushPlan({ ecrRepo: { repoName: 'a' } }),
         core.resolvePushPlan({ ecr_repo: { repo_name: 'b' } }),
       ]);
       const third = await core.resolvePushPlan({ ecrRepo: { repoName: 'c', awsRegion: 'eu-west-1' } });
       // The token provider is core's own (not exported): loaded from the built file by path.
       const { SdkEcrTokenProvider } = require(${JSON.stringify(join(coreDist, 'ecr', 'aws-clients.js'))});
       const { parseEcrRegistry } = require(${JSON.stringify(join(coreDist, 'ecr', 'ecr-registry.js'))});
       const tokens = new SdkEcrTokenProvider();
       const priv = await tokens.getToken(parseEcrRegistry(third.registry));
       const pub = await tokens.getToken(parseEcrRegistry('public.ecr.aws'));
       return {
         repos: [...first, third].map((p) => p.repo),
         tokens: [priv, pub].map((t) => ({ username: t.username, matches: t.password === ${JSON.stringify(password)} })),
       };`,
      noisyEnv,
    );
    expect(result.stderr).toBe('');
    expect(parsed(result)).toEqual({
      repos: [
        '555566667777.dkr.ecr.eu-west-1.amazonaws.com/a',
        '555566667777.dkr.ecr.eu-west-1.amazonaws.com/b',
        '555566667777.dkr.ecr.eu-west-1.amazonaws.com/c',
      ],
      tokens: [
        { username: 'AWS', matches: true },
        { username: 'AWS', matches: true },
      ],
    });
    expect(result.stdout).not.toContain(password);
    // The region came from the profile; the credentials too (the SDK prefers AWS_PROFILE).
    expect(standIn.calls.map((c) => [c.service, c.action, c.region, c.accessKeyId])).toEqual([
      ['sts', 'GetCallerIdentity', 'eu-west-1', 'AKIAPROFILEE2E'],
      ['ecr', 'GetAuthorizationToken', 'eu-west-1', 'AKIAPROFILEE2E'],
      ['ecr-public', 'GetAuthorizationToken', 'us-east-1', 'AKIAPROFILEE2E'],
    ]);
  });
});
