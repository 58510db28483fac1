import { explainInvalidRepository, isValidTag, parseReference, registryHostOf, splitRepoTag } from './reference';

describe('parseReference', () => {
  it.each([
    ['app', 'docker.io', 'library/app', undefined],
    ['org/app', 'docker.io', 'org/app', undefined],
    ['docker.io/library/x', 'docker.io', 'library/x', undefined],
    ['localhost:5000/app', 'localhost:5000', 'app', undefined],
    ['localhost/app:1.0', 'localhost', 'app', '1.0'],
    ['ghcr.io/org/app', 'ghcr.io', 'org/app', undefined],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'team/app',
      'v1',
    ],
    ['127.0.0.1:5000/a__b/c-d/e.f', '127.0.0.1:5000', 'a__b/c-d/e.f', undefined],
    ['[::1]:5000/app', '[::1]:5000', 'app', undefined],
  ])('%s → registry %s, path %s, tag %s', (ref, registry, path, tag) => {
    const parsed = parseReference(ref);
    expect(parsed).toBeDefined();
    expect(parsed?.registry).toBe(registry);
    expect(parsed?.path).toBe(path);
    expect(parsed?.tag).toBe(tag);
  });

  it.each(['', 'App', 'localhost:5000/App', 'a//b', '-app', 'app-', 'a:b:c', 'app@sha256:xyz', 'a/b/'])(
    'rejects %j',
    (ref) => expect(parseReference(ref)).toBeUndefined(),
  );
});

describe('explainInvalidRepository', () => {
  it.each([
    ['localhost:5000/app', undefined],
    ['ghcr.io/org/app', undefined],
    ['localhost:5000/app:1', /includes a tag \(":1"\)/],
    ['localhost:5000/app@sha256:' + 'a'.repeat(64), /includes a digest/],
    ['localhost:5000/App', /lowercase/],
    ['not a repo', /not a valid repository/],
    ['', /must not be empty/],
    ['a'.repeat(300), /at most 255/],
  ])('%j', (repo, expected) => {
    const why = explainInvalidRepository(repo);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});

describe('tags and helpers', () => {
  it.each([
    ['latest', true],
    ['1.2.0', true],
    ['_x', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.x', false],
    ['-x', false],
    ['a/b', false],
    ['', false],
  ])('isValidTag(%j) = %s', (tag, ok) => expect(isValidTag(tag)).toBe(ok));

  it.each([
    ['localhost:5000/app:1', 'localhost:5000/app', '1'],
    ['localhost:5000/app', 'localhost:5000/app', undefined],
    ['app:latest', 'app', 'latest'],
  ])('splitRepoTag(%j)', (input, repo, tag) => expect(splitRepoTag(input)).toEqual({ repo, tag }));

  it('registryHostOf defaults to docker.io', () => {
    expect(registryHostOf('library/x')).toBe('docker.io');
    expect(registryHostOf('localhost:5000/x')).toBe('localhost:5000');
  });
});
