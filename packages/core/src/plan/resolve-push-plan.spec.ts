import type { EnginePort } from '../engine/engine-port';
import { parsePushArgs } from '../args/push-args';
import type { AccountIdProvider, RegionProvider } from '../ecr/aws-clients';
import { ArgumentsError } from '../errors';
import { resolvePush } from './resolve-push-plan';

class Accounts implements AccountIdProvider {
  calls = 0;
  async getAccountId() {
    this.calls++;
    return '999999999999';
  }
}
const region = (r: string | undefined): RegionProvider => ({ getRegion: async () => r });
const noDocker = async (): Promise<EnginePort> => {
  throw new Error('the engine must not be needed here');
};
const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent' };

async function plan(input: unknown, regionName: string | null = 'eu-west-1', accounts = new Accounts()) {
  return (
    await resolvePush(
      parsePushArgs(input),
      { accountIds: accounts, regions: region(regionName ?? undefined), env },
      noDocker,
    )
  ).plan;
}

describe('resolvePush: repository, default tags, ECR URIs, account and region', () => {
  it.each([
    [{ repo: 'localhost:5000/app' }, 'localhost:5000/app', 'localhost:5000', ['latest'], 'anonymous'],
    [{ repo: 'ghcr.io/org/app', tags: ['1', '2'] }, 'ghcr.io/org/app', 'ghcr.io', ['1', '2'], 'anonymous'],
    [{ repo: 'library/x' }, 'library/x', 'docker.io', ['latest'], 'anonymous'],
    [
      { ecrRepo: { repoName: 'team/app', accountId: '123456789012', awsRegion: 'us-east-1' } },
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      ['latest'],
      'ecr',
    ],
    [
      { ecr_repo: { repo_name: 'app', account_id: '123456789012', aws_region: 'cn-north-1' } },
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app',
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      ['latest'],
      'ecr',
    ],
    [
      { ecrRepo: { repoName: 'app' } },
      '999999999999.dkr.ecr.eu-west-1.amazonaws.com/app',
      '999999999999.dkr.ecr.eu-west-1.amazonaws.com',
      ['latest'],
      'ecr',
    ],
    [
      { ecrRepo: { repoName: 'app', registryAlias: 'myorg' }, tags: ['v1'] },
      'public.ecr.aws/myorg/app',
      'public.ecr.aws',
      ['v1'],
      'ecr-public',
    ],
    [
      { repo: 'localhost:5000/app', auth: { username: 'u', password: 'p-secret' } },
      'localhost:5000/app',
      'localhost:5000',
      ['latest'],
      'explicit',
    ],
    [
      { image: { repo: 'localhost:5000/own', tags: ['a', 'b'] } },
      'localhost:5000/own',
      'localhost:5000',
      ['a', 'b'],
      'anonymous',
    ],
    [
      { image: { repo: 'localhost:5000/own', tags: ['a', 'b'] }, tags: ['c'] },
      'localhost:5000/own',
      'localhost:5000',
      ['c'],
      'anonymous',
    ],
  ])('%j', async (input, repo, registry, tags, credentials) => {
    const p = await plan(input);
    expect(p).toEqual({
      repo,
      registry,
      tags,
      uri: Object.fromEntries(tags.map((t) => [t, `${repo}:${t}`])),
      source: null,
      credentials,
      engine: 'docker',
    });
  });

  it('asks for the account only when it is not given', async () => {
    const accounts = new Accounts();
    await plan(
      { ecrRepo: { repoName: 'a', accountId: '123456789012', awsRegion: 'us-east-1' } },
      'eu-west-1',
      accounts,
    );
    expect(accounts.calls).toBe(0);
    await plan({ ecrRepo: { repoName: 'a' } }, 'eu-west-1', accounts);
    expect(accounts.calls).toBe(1);
  });

  it('needs neither account nor region for ECR Public', async () => {
    const accounts = new Accounts();
    await plan({ ecrRepo: { repoName: 'a', registryAlias: 'xy' } }, null, accounts);
    expect(accounts.calls).toBe(0);
  });

  it('says how to set a region when there is none', async () => {
    const pending = plan({ ecrRepo: { repoName: 'app' } }, null);
    await expect(pending).rejects.toBeInstanceOf(ArgumentsError);
    await expect(pending).rejects.toThrow(
      /ecrRepo\.awsRegion: no AWS region: set ecrRepo\.awsRegion \(aws_region, --ecr-region\), or AWS_REGION/,
    );
  });

  it.each([
    [
      { ecrRepo: { repoName: 'App', accountId: '123456789012', awsRegion: 'us-east-1' } },
      /ecrRepo\.repoName: .*lowercase/,
    ],
    [
      { repo: 'localhost:5000/app', createRepository: true },
      /createRepository: applies only to private ECR repositories, and localhost:5000 is not one/,
    ],
    [
      { ecrRepo: { repoName: 'a', registryAlias: 'xy' }, createRepository: true },
      /createRepository: applies only to private ECR/,
    ],
  ])('rejects %j', async (input, message) => {
    await expect(plan(input)).rejects.toThrow(message);
  });

  it('accepts createRepository for a private ECR repo given as a URI', async () => {
    expect(
      (await plan({ repo: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app', createRepository: true })).credentials,
    ).toBe('ecr');
  });
});

describe('resolvePush: the repository name inside its registry', () => {
  it.each([
    ['myorg/my-service', 'docker.io', 'myorg/my-service'],
    ['docker.io/library/x', 'docker.io', 'library/x'],
    ['x', 'docker.io', 'library/x'],
    ['localhost:5000/team/app', 'localhost:5000', 'team/app'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/service/api',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'team/service/api',
    ],
  ])('%s is %s / %s', async (repo, registry, repoName) => {
    const resolved = await resolvePush(
      parsePushArgs({ repo }),
      { accountIds: new Accounts(), regions: region('eu-west-1'), env },
      noDocker,
    );
    expect(resolved.plan.registry).toBe(registry);
    expect(resolved.repository.path).toBe(repoName);
  });
});
