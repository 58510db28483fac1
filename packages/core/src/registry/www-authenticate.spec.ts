import { parseChallenges, repositoryScope } from './www-authenticate';

describe('parseChallenges', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull,push"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/x:pull,push',
          },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Basic realm="a", Bearer realm="https://t/token", service=reg',
      [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg' } },
      ],
    ],
    ['BEARER Realm="x\\"y"', [{ scheme: 'bearer', params: { realm: 'x"y' } }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it('reads several headers', () => {
    expect(parseChallenges(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual(['basic', 'bearer']);
  });
});

describe('repositoryScope', () => {
  it('joins actions with commas', () => {
    expect(repositoryScope('org/app', ['pull', 'push'])).toBe('repository:org/app:pull,push');
  });
});
