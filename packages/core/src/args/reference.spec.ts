import {
  explainInvalidImageReference,
  explainInvalidRepository,
  isValidTag,
  parseReference,
  registryHostOf,
  splitRepoTag,
} from './reference';

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

describe('explainInvalidImageReference', () => {
  it.each([
    'app',
    'app:1.0',
    'localhost:5000/app:1',
    `app@sha256:${'a'.repeat(64)}`,
    `sha256:${'0123456789ab'.repeat(5)}0123`,
    '0123456789ab',
    'ghcr.io/org/app:v1',
  ])('accepts %j', (ref) => expect(explainInvalidImageReference(ref)).toBeUndefined());

  it.each([
    [
      '../../etc/passwd',
      /"\.\.\/\.\.\/etc\/passwd" is not a valid image reference: expected a local image as name\[:tag\]\[@digest\]/,
    ],
    ['../containers/json?all=1&x=', /is not a valid image reference/],
    ['MyApp:1', /repository names must be lowercase/],
    ['localhost:70000/app:1', /registry port 70000; a port is a number from 1 to 65535/],
    [
      'docker-archive:/tmp/app.tar',
      /docker-archive: transport, which dockpush does not read yet; give an image in the Docker engine/,
    ],
    ['oci:/tmp/layout:app', /oci: transport/],
    ['app\u001b[2J:1', /"app\\u001b\[2J:1" is not a valid image reference/],
    ['', /must not be empty/],
  ])('%j', (ref, expected) => expect(explainInvalidImageReference(ref)).toMatch(expected));

  it.each([
    'alice:Hunter2@ghcr.io/org/app',
    'alice@ghcr.io/org/app:1',
    'https://alice:Hunter2@ghcr.io/org/app',
    'alice:Hunter2@ghcr.io',
  ])('refuses credentials in %j without quoting them', (ref) => {
    const why = explainInvalidImageReference(ref) ?? '';
    expect(why).toMatch(/holds credentials .*auth .*--username and --password-stdin/);
    expect(why).not.toContain('alice');
    expect(why).not.toContain('Hunter2');
  });
});

describe('explainInvalidRepository: hostile forms', () => {
  it.each([
    ['localhost:65536/app', /registry port 65536/],
    ['localhost:0/app', /registry port 0/],
    ['localhost:65535/app', undefined],
    ['app\nrepo', /"app\\nrepo" is not a valid repository/],
  ])('%j', (repo, expected) => {
    const why = explainInvalidRepository(repo);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });

  it.each(['alice:Hunter2@ghcr.io/org/app', 'alice@localhost:5000/app', 'alice:Hunter2@ghcr.io'])(
    'refuses credentials in %j',
    (repo) => {
      const why = explainInvalidRepository(repo) ?? '';
      expect(why).toMatch(/holds credentials .*auth/);
      expect(why).not.toContain('Hunter2');
      expect(why).not.toContain('alice');
    },
  );
});
