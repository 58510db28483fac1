import { mkdtempSync, writeFileSync } from 'node:fs';
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
    await expect(provider.getAccountId('eu-west-1')).rejects.toBeInstanceOf(ArgumentsError);
  });
});
