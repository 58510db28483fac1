import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { resolvePushPlan } from '../push-client';
import { SdkEcrTokenProvider, SdkRegionProvider, StsAccountIdProvider } from './aws-clients';

/**
 * The real SDK clients, in an environment with no AWS settings at all: AWS_* variables
 * cleared, the shared config and credentials files empty (or as a test writes them), and
 * instance metadata off. No request leaves the process: the SDK gives up before sending.
 */
const saved = { ...process.env };

function isolateAws(files: { config?: string; credentials?: string } = {}, env: Record<string, string> = {}): void {
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-aws-'));
  writeFileSync(join(dir, 'config'), files.config ?? '');
  writeFileSync(join(dir, 'credentials'), files.credentials ?? '');
  Object.assign(process.env, {
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  });
}

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

const PROFILES =
  '[default]\nregion = sa-east-1\n[profile ci]\nregion = ca-central-1\n[profile other]\nregion = us-west-1\n';

describe('SdkRegionProvider: the SDK region chain', () => {
  it.each([
    ['AWS_REGION', {}, { AWS_REGION: 'eu-west-3' }, 'eu-west-3'],
    ['AWS_DEFAULT_REGION', {}, { AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    [
      'AWS_REGION before AWS_DEFAULT_REGION',
      {},
      { AWS_REGION: 'eu-north-1', AWS_DEFAULT_REGION: 'us-west-1' },
      'eu-north-1',
    ],
    ['the default profile', { config: '[default]\nregion = sa-east-1\n' }, {}, 'sa-east-1'],
    [
      'the AWS_PROFILE profile',
      { config: '[default]\nregion = sa-east-1\n[profile ci]\nregion = ca-central-1\n' },
      { AWS_PROFILE: 'ci' },
      'ca-central-1',
    ],
    ['nothing', {}, {}, undefined],
  ])('%s', async (_from, files, env, expected) => {
    isolateAws(files, env);
    expect(await new SdkRegionProvider().getRegion()).toBe(expected);
  });

  it.each([
    ['AWS_REGION', { AWS_REGION: 'eu-west-3' }, 'eu-west-3'],
    ['AWS_DEFAULT_REGION', { AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    ['AWS_PROFILE', { AWS_PROFILE: 'ci' }, 'ca-central-1'],
  ])('reads %s from the env it is given, not from the process', async (_from, given, expected) => {
    // The process points at another profile: a provider reading process.env would answer us-west-1.
    isolateAws({ config: PROFILES }, { AWS_PROFILE: 'other' });
    const env = { ...process.env, AWS_PROFILE: undefined, ...given };
    expect(await new SdkRegionProvider(env).getRegion()).toBe(expected);
  });

  it('a private ECR repository with no region anywhere is an ArgumentsError that says how to set one', async () => {
    isolateAws();
    const error = await resolvePushPlan({ ecrRepo: { repoName: 'app', accountId: '123456789012' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as ArgumentsError).issues).toEqual([
      {
        path: 'ecrRepo.awsRegion',
        message: expect.stringMatching(
          /set ecrRepo\.awsRegion \(aws_region, --ecr-region\), or AWS_REGION \/ AWS_DEFAULT_REGION, or a region in your AWS profile/,
        ),
      },
    ]);
  });

  it('ECR Public needs no region', async () => {
    isolateAws();
    await expect(resolvePushPlan({ ecrRepo: { repoName: 'app', registryAlias: 'team' } })).resolves.toMatchObject({
      repo: 'public.ecr.aws/team/app',
      credentials: 'ecr-public',
    });
  });
});

describe('no AWS credentials anywhere', () => {
  it('account discovery fails with an ArgumentsError naming accountId and how to give credentials', async () => {
    isolateAws();
    const error = await new StsAccountIdProvider().getAccountId('eu-west-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentsError);
    const [issue] = (error as ArgumentsError).issues;
    expect(issue?.path).toBe('ecrRepo.accountId');
    expect(issue?.message).toMatch(/no AWS credentials were found to look it up with STS/);
    expect(issue?.message).toMatch(/set ecrRepo\.accountId \(account_id\)/);
    expect(issue?.message).toMatch(/AWS_PROFILE .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "aws sso login"/);
    expect((error as Error).cause).toMatchObject({ name: 'CredentialsProviderError' });
  });

  it('resolvePushPlan without accountId surfaces that error', async () => {
    isolateAws({}, { AWS_REGION: 'eu-west-1' });
    await expect(resolvePushPlan({ ecr_repo: { repo_name: 'app' } })).rejects.toThrow(
      /^ecrRepo\.accountId: not given, and no AWS credentials were found/,
    );
  });

  it.each([
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      { kind: 'private', accountId: '123456789012', region: 'eu-west-1' },
    ],
    ['public.ecr.aws', { kind: 'public' }],
  ] as const)(
    'a token for %s fails with a RegistryAuthError that says how to give credentials',
    async (host, registry) => {
      isolateAws();
      const error = await new SdkEcrTokenProvider().getToken({ host, ...registry }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as RegistryAuthError).registry).toBe(host);
      expect((error as Error).message).toMatch(/no AWS credentials were found to get an ECR authorization token/);
      expect((error as Error).message).toMatch(/AWS_PROFILE/);
    },
  );

  it('the account is looked up again after a failure (a failure is not cached)', async () => {
    isolateAws();
    const provider = new StsAccountIdProvider();
    await expect(provider.getAccountId('eu-west-1')).rejects.toBeInstanceOf(ArgumentsError);
    // Credentials and an STS that answers now: a cached failure would still reject.
    const sts = await stsStandIn('answers');
    Object.assign(process.env, STATIC_CREDENTIALS, { AWS_ENDPOINT_URL_STS: sts.url });
    await expect(provider.getAccountId('eu-west-1')).resolves.toBe('123456789012');
  });

  it('the account is kept per region and per provider, not for the whole process', async () => {
    const sts = await stsStandIn('answers');
    isolateAws({}, { ...STATIC_CREDENTIALS, AWS_ENDPOINT_URL_STS: sts.url });
    const provider = new StsAccountIdProvider();
    await provider.getAccountId('eu-west-1');
    await provider.getAccountId('eu-west-1');
    expect(sts.requests()).toBe(1);
    await provider.getAccountId('us-east-1');
    expect(sts.requests()).toBe(2);
    await new StsAccountIdProvider().getAccountId('eu-west-1');
    expect(sts.requests()).toBe(3);
  });
});

const STATIC_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-example-key' };

const standIns: Server[] = [];
afterEach(async () => {
  await Promise.all(
    standIns.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    }),
  );
});

/** A loopback stand-in for an AWS endpoint: one that answers GetCallerIdentity, or one that accepts and never answers. */
async function stsStandIn(behaviour: 'answers' | 'hangs'): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (behaviour === 'hangs') return;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/xml');
      res.end(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
          '<Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDEXAMPLE</UserId><Account>123456789012</Account>' +
          '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      );
    });
  });
  standIns.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

describe('AWS endpoints that never answer', () => {
  it('a dry run ends at the deadline with a message naming STS, its endpoint and the fix', async () => {
    const sts = await stsStandIn('hangs');
    isolateAws({}, { ...STATIC_CREDENTIALS, AWS_ENDPOINT_URL_STS: sts.url });
    const started = Date.now();
    const error = (await resolvePushPlan({
      ecrRepo: { repoName: 'app', awsRegion: 'eu-west-1' },
      dryRun: true,
      timeout: 0.5,
    }).catch((e: unknown) => e)) as Error;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toContain(
      `AWS STS GetCallerIdentity at ${sts.url} did not answer within 500 ms. Check the network and AWS_ENDPOINT_URL_STS`,
    );
    expect(error.message).toMatch(/allow it longer with timeout \(--timeout\), or set ecrRepo\.accountId/);
  });

  it('an ECR token request ends at the deadline, naming ECR and its endpoint', async () => {
    const ecr = await stsStandIn('hangs');
    isolateAws({}, { ...STATIC_CREDENTIALS, AWS_ENDPOINT_URL_ECR: ecr.url });
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const error = (await new SdkEcrTokenProvider()
      .getToken({ host, kind: 'private', accountId: '123456789012', region: 'eu-west-1' }, { timeoutMs: 300 })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toContain(`AWS ECR GetAuthorizationToken at ${ecr.url} did not answer within 300 ms`);
  });

  it('a cancellation ends the wait at once', async () => {
    const sts = await stsStandIn('hangs');
    isolateAws({}, { ...STATIC_CREDENTIALS, AWS_ENDPOINT_URL_STS: sts.url });
    const controller = new AbortController();
    const pending = new StsAccountIdProvider().getAccountId('eu-west-1', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by SIGINT')), 200);
    await expect(pending).rejects.toThrow('cancelled by SIGINT');
  });
});

describe('the SDK on Node < 22', () => {
  it('prints no NodeVersionSupportWarning, and dockpush leaves the environment alone', () => {
    const core = join(__dirname, '..', '..', 'dist', 'ecr', 'aws-clients.js');
    const script = `const { SdkRegionProvider } = require(${JSON.stringify(core)});
      new SdkRegionProvider().getRegion().then(() =>
        console.log(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'unset'));`;
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
    const result = spawnSync(process.execPath, ['-e', script], {
      env: { ...env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
      encoding: 'utf8',
    });
    expect(result.stdout.trim()).toBe('unset');
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
