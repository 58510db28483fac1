import { parseEcrRegistry, privateEcrHost, publicEcrRepository } from './ecr-registry';

describe('parseEcrRegistry', () => {
  it.each([
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      { kind: 'private', accountId: '123456789012', region: 'us-east-1' },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      { kind: 'private', accountId: '123456789012', region: 'us-gov-west-1' },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { kind: 'private', accountId: '123456789012', region: 'cn-north-1' },
    ],
    ['123456789012.dkr-ecr.eu-west-1.on.aws', { kind: 'private', accountId: '123456789012', region: 'eu-west-1' }],
    ['123456789012.dkr-ecr-fips.us-east-2.on.aws', { kind: 'private', accountId: '123456789012', region: 'us-east-2' }],
    [
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/',
      { kind: 'private', accountId: '123456789012', region: 'us-east-1' },
    ],
    ['public.ecr.aws', { kind: 'public' }],
  ])('%s', (host, expected) => {
    expect(parseEcrRegistry(host)).toMatchObject(expected);
  });

  it.each([
    'localhost:5000',
    'ghcr.io',
    'docker.io',
    '12345.dkr.ecr.us-east-1.amazonaws.com',
    'x.public.ecr.aws',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com',
  ])('is not ECR: %s', (host) => expect(parseEcrRegistry(host)).toBeUndefined());
});

describe('ECR URIs: private, China and Public', () => {
  it.each([
    ['123456789012', 'us-east-1', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['123456789012', 'cn-northwest-1', '123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn'],
    ['210987654321', 'eu-central-1', '210987654321.dkr.ecr.eu-central-1.amazonaws.com'],
  ])('private %s %s', (account, region, host) => expect(privateEcrHost(account, region)).toBe(host));

  it('public', () => expect(publicEcrRepository('myalias', 'team/app')).toBe('public.ecr.aws/myalias/team/app'));
});
