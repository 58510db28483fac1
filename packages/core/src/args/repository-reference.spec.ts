import { RepositoryReference } from './repository-reference';

describe('RepositoryReference', () => {
  it.each([
    ['myorg/my-service', 'docker.io', 'myorg/my-service'],
    ['x', 'docker.io', 'library/x'],
    ['docker.io/library/x', 'docker.io', 'library/x'],
    ['index.docker.io/myorg/app', 'docker.io', 'myorg/app'],
    ['localhost:5000/team/app', 'localhost:5000', 'team/app'],
    ['registry.example.com:8443/app', 'registry.example.com:8443', 'app'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/service/api',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'team/service/api',
    ],
  ])('%s lives in %s as %s', (written, registry, path) => {
    const reference = RepositoryReference.parse(written);
    expect(reference?.registry).toBe(registry);
    expect(reference?.path).toBe(path);
    expect(String(reference)).toBe(written);
    expect(reference?.withTag('1.0')).toBe(`${written}:1.0`);
  });

  it.each(['app:1.0', `app@sha256:${'a'.repeat(64)}`, 'UPPER/app', ''])('%j is not a repository', (written) => {
    expect(RepositoryReference.parse(written)).toBeUndefined();
  });
});
