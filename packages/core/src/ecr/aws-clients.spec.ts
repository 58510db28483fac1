import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError, RegistryAuthError } from '../errors';
import { resolvePushPlan } from '../push-image';
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

/**
 * A local stand-in for STS that answers GetCallerIdentity with `account`, in the
 * protocol the SDK asked in (JSON or the query protocol's XML).
 */
async function startFakeSts(account: string) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => {
      if (String(req.headers['content-type']).includes('json')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Account: account, Arn: `arn:aws:iam::${account}:user/test`, UserId: 'AIDATEST' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>arn:aws:iam::${account}:user/test</Arn><UserId>AIDATEST</UserId><Account>${account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeEach(() => StsAccountIdProvider.reset());

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

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

    // Credentials appear, and STS (a local stand-in) answers: the next lookup must ask again.
    const sts = await startFakeSts('210987654321');
    try {
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret-for-a-local-stand-in',
        AWS_ENDPOINT_URL_STS: sts.url,
      });
      await expect(provider.getAccountId('eu-west-1')).resolves.toBe('210987654321');
      expect(sts.requests()).toBe(1);
    } finally {
      await sts.close();
    }
  });
});
