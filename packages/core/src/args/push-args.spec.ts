import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLAVOR } from '../tags/flavor';
import { ArgumentsError } from '../errors';
import { parsePushArgs } from './push-args';

/** Sources on disk: an archive (a file) and a layout (a folder), as the transports want them. */
const onDisk = mkdtempSync(join(tmpdir(), 'dockpush-push-args-'));
const archive = join(onDisk, 'app.tar');
const layout = join(onDisk, 'layout');
writeFileSync(archive, '');
mkdirSync(layout);

function issuesOf(input: unknown): string[] {
  try {
    parsePushArgs(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentsError);
    return (error as ArgumentsError).issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  }
  throw new Error('expected an ArgumentsError');
}

describe('parsePushArgs: exactly one target', () => {
  it.each([
    [{ repo: 'localhost:5000/app' }, { kind: 'repo', repo: 'localhost:5000/app' }],
    [{ image: 'app:1' }, { kind: 'image', image: 'app:1' }],
    [{ ecrRepo: { repoName: 'app' } }, { kind: 'ecr', ecrRepo: { repoName: 'app' } }],
    [
      { ecr_repo: { repo_name: 'app', account_id: '123456789012', aws_region: 'us-east-1' } },
      { kind: 'ecr', ecrRepo: { repoName: 'app', accountId: '123456789012', awsRegion: 'us-east-1' } },
    ],
    [
      { ecr_repo: { repo_name: 'app', registry_alias: 'myalias' } },
      { kind: 'ecr', ecrRepo: { repoName: 'app', registryAlias: 'myalias' } },
    ],
  ])('%j', (input, target) => {
    expect(parsePushArgs(input).target).toEqual(target);
  });

  it.each([
    [{}, /give exactly one of ecrRepo \(an ECR repository\), image .* or repo/],
    [{ tags: ['1'] }, /give exactly one of/],
    [{ repo: 'localhost:5000/a', image: 'x' }, /got image and repo/],
    [{ repo: 'localhost:5000/a', ecr_repo: { repo_name: 'a' } }, /got ecrRepo and repo/],
    [{ repo: 'localhost:5000/a', image: 'x', ecrRepo: { repoName: 'a' } }, /got ecrRepo and image and repo/],
  ])('rejects %j', (input, message) => {
    expect(issuesOf(input).join('\n')).toMatch(message);
  });
});

describe('parsePushArgs: tags', () => {
  it.each([
    [undefined, []],
    [
      ['1.0', 'latest', '1.0'],
      ['1.0', 'latest'],
    ],
    [
      ['_a', 'A.b-c'],
      ['_a', 'A.b-c'],
    ],
  ])('tags %j → %j', (tags, expected) => {
    expect(parsePushArgs({ repo: 'localhost:5000/app', tags }).tags).toEqual(expected);
  });

  it.each([['.x'], ['-x'], ['a/b'], [''], ['a'.repeat(129)], ['has space']])(
    'rejects tag %j naming its index',
    (tag) => {
      expect(issuesOf({ repo: 'localhost:5000/app', tags: ['ok', tag] })).toEqual([
        expect.stringMatching(/^tags\.1: .* is not a valid tag/),
      ]);
    },
  );
});

describe('parsePushArgs: repositories', () => {
  it.each([
    ['localhost:5000/app:1', /repo: .*includes a tag \(":1"\).*put the tag in tags/],
    ['localhost:5000/App', /repo: .*lowercase/],
    ['not a repo', /repo: "not a repo" is not a valid repository/],
    ['', /repo: must not be empty/],
  ])('rejects repo %j', (repo, message) => {
    expect(issuesOf({ repo }).join('\n')).toMatch(message);
  });
});

describe('parsePushArgs: spellings and types', () => {
  it('rejects a field given in both spellings', () => {
    expect(issuesOf({ ecr_repo: { repoName: 'a' }, ecrRepo: { repoName: 'a' } })).toContain(
      'ecrRepo: given twice, as ecr_repo and as ecrRepo; keep one spelling',
    );
    expect(issuesOf({ ecrRepo: { repo_name: 'a', repoName: 'a' } })).toContain(
      'ecrRepo.repoName: given twice, as repo_name and as repoName; keep one spelling',
    );
  });

  it.each([
    [{ repo: 'localhost:5000/a', tag: ['1'] }, 'tag: unknown option; did you mean "tags"?'],
    [{ repo: 'localhost:5000/a', dryrun: true }, 'dryrun: unknown option; did you mean "dryRun"?'],
    [{ repo: 'localhost:5000/a', concurency: 2 }, 'concurency: unknown option; did you mean "concurrency"?'],
    [{ ecrRepo: { repoName: 'a', region: 'x' } }, 'ecrRepo.region: unknown option; did you mean "awsRegion"?'],
    [{ repo: 42 }, 'repo: expected string, got number 42'],
    [{ repo: 'localhost:5000/a', tags: 'latest' }, 'tags: expected array, got the string "latest"'],
    [{ repo: 'localhost:5000/a', retries: -1 }, 'retries: must be at least 0'],
    [{ repo: 'localhost:5000/a', retries: 1.5 }, 'retries: expected int, got number 1.5'],
    [{ repo: 'localhost:5000/a', concurrency: 0 }, 'concurrency: must be at least 1'],
    [{ repo: 'localhost:5000/a', dryRun: 'yes' }, 'dryRun: expected boolean, got the string "yes"'],
    [{ ecrRepo: { repoName: '' } }, 'ecrRepo.repoName: must not be empty'],
    [
      { ecrRepo: { repoName: 'a', accountId: '123' } },
      'ecrRepo.accountId: must be a 12-digit AWS account ID, e.g. "123456789012"',
    ],
    [{ ecrRepo: { repoName: 'a', awsRegion: 'mars' } }, 'ecrRepo.awsRegion: must be an AWS region such as "us-east-1"'],
    [
      { repo: 'localhost:5000/a', auth: { username: 'u' } },
      'auth: must be { username, password } or { identityToken }, each a non-empty string',
    ],
    [{ image: '' }, 'image: must not be empty'],
    [{ image: 42 }, 'image: must be a local image reference or ID (a non-empty string), or a DockerImage'],
    [
      { image: 'x', source: 'y' },
      'source: source goes with repo or ecrRepo (it retags a local image for them); with image, the image itself is pushed',
    ],
    [
      { image: 'x', createRepository: true },
      'createRepository: createRepository applies only to ECR repositories (ecrRepo or an ECR repo URI)',
    ],
  ])('%j → %s', (input, issue) => {
    expect(issuesOf(input)).toContain(issue);
  });

  it.each([[null], [undefined], ['localhost:5000/a'], [['a']], [3]])('rejects non-object %j', (input) => {
    expect(() => parsePushArgs(input)).toThrow(/must be an object such as \{ repo:/);
  });

  it('lists every problem at once in its message', () => {
    try {
      parsePushArgs({ repo: 'localhost:5000/A', tags: ['-x'], retries: 'x' });
      throw new Error('expected a throw');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid dockpush arguments:/);
      expect(message).toContain('✖ retries: expected number');
      expect(message).toContain('✖ repo:');
      expect(message).toContain('✖ tags.0:');
    }
  });

  it('applies defaults', () => {
    expect(parsePushArgs({ repo: 'localhost:5000/app' })).toEqual({
      target: { kind: 'repo', repo: 'localhost:5000/app' },
      tags: [],
      tagRules: [],
      flavor: DEFAULT_FLAVOR,
      dryRun: false,
      retries: 3,
      concurrency: 4,
      timeout: 60,
      createRepository: false,
      keepLocalTags: false,
      engine: 'docker',
      compression: 'gzip',
    });
  });

  it('parses tagRules (also tag_rules) and flavor into rules in priority order', () => {
    const args = parsePushArgs({
      repo: 'localhost:5000/app',
      tag_rules: ['type=sha', 'type=semver,pattern={{version}}'],
      flavor: ['latest=false', 'prefix=v'],
    });
    expect(args.tagRules.map((r) => r.text)).toEqual(['type=semver,pattern={{version}}', 'type=sha']);
    expect(args.flavor).toMatchObject({ latest: 'false', prefix: 'v' });
  });

  it('accepts placeholders in tags, and refuses unknown ones naming the tag', () => {
    expect(parsePushArgs({ repo: 'localhost:5000/app', tags: ['{version}', 'sha-{shortSha}'] }).tags).toEqual([
      '{version}',
      'sha-{shortSha}',
    ]);
    expect(() => parsePushArgs({ repo: 'localhost:5000/app', tags: ['x', '{verison}'] })).toThrow(
      expect.objectContaining({
        issues: [{ path: 'tags.1', message: expect.stringContaining('{verison} is not a known placeholder') }],
      }),
    );
  });

  it('refuses a malformed tag rule or flavor naming its index, with the other issues', () => {
    let error: unknown;
    try {
      parsePushArgs({ repo: 'localhost:5000/app', tagRules: ['type=sha', 'type=nope'], flavor: ['latest=maybe'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as ArgumentsError).issues.map((i) => i.path)).toEqual(['tagRules[1]', 'flavor[0]']);
    expect(() => parsePushArgs({ repo: 'localhost:5000/app', flavor: ['latest=maybe'] })).toThrow(
      /flavor\[0\].*latest=maybe/s,
    );
    expect(() => parsePushArgs({ repo: 'localhost:5000/app', tagRules: [] })).toThrow(/tagRules.*is empty/);
  });

  it('accepts the options beyond Runway', () => {
    const beyondRunway = {
      source: 'sha256:abc',
      auth: { identityToken: 'tok' },
      dryRun: true,
      retries: 0,
      concurrency: 8,
      outputFile: 'out/result.json',
    };
    expect(parsePushArgs({ repo: 'localhost:5000/app', ...beyondRunway })).toMatchObject(beyondRunway);
  });
});

describe('parsePushArgs: every reference checked before the engine sees it', () => {
  it.each([
    [{ image: '../../etc/passwd' }, /^image: "\.\.\/\.\.\/etc\/passwd" is not a valid image reference/],
    [{ image: '../containers/json?all=1&x=' }, /^image: .*not a valid image reference/],
    [{ image: 'MyApp:1' }, /^image: .*repository names must be lowercase/],
    [{ repo: 'localhost:5000/app', source: '../../etc/passwd' }, /^source: .*not a valid image reference/],
    [{ repo: 'localhost:70000/app' }, /^repo: .*port 70000; a port is a number from 1 to 65535/],
    [{ image: { repo: 'Bad/Repo', tags: ['1'] } }, /^image\.repo: .*lowercase/],
    [{ image: { repo: 'localhost:5000/app', tags: ['-x'] } }, /^image\.tags\.0: "-x" is not a valid tag/],
    [{ image: { id: '../x', repo: 'localhost:5000/app', tags: ['1'] } }, /^image\.id: .*not a valid image reference/],
  ])('%j', (input, expected) => {
    expect(issuesOf(input).join('\n')).toMatch(expected);
  });

  it.each([
    [{ repo: 'alice:Hunter2@ghcr.io/org/app' }, 'repo'],
    [{ image: 'alice:Hunter2@ghcr.io/org/app:1' }, 'image'],
    [{ repo: 'localhost:5000/app', source: 'alice:Hunter2@ghcr.io/org/app:1' }, 'source'],
  ])('refuses credentials in %j without quoting them', (input, field) => {
    const issues = issuesOf(input);
    expect(issues.join('\n')).toMatch(new RegExp(`^${field}: holds credentials .*auth .*--password-stdin`));
    expect(issues.join('\n')).not.toMatch(/Hunter2|alice/);
  });

  it('accepts image IDs', () => {
    expect(parsePushArgs({ image: `sha256:${'a'.repeat(64)}` }).target.kind).toBe('image');
    expect(parsePushArgs({ repo: 'localhost:5000/app', source: 'abcdef012345' }).source).toBe('abcdef012345');
  });
});

describe('parsePushArgs: hygiene', () => {
  it('refuses tags: [] instead of pushing latest silently', () => {
    expect(issuesOf({ repo: 'localhost:5000/app', tags: [] })).toEqual([
      'tags: is empty; leave it out for the default (the image\'s own tags, else "latest"), or give at least one tag',
    ]);
  });

  it('says to quote a tag YAML read as a number', () => {
    expect(issuesOf({ repo: 'localhost:5000/app', tags: [1] }).join('\n')).toMatch(
      /^tags\.0: a tag must be a string, got number 1; quote it in the config file \(e\.g\. "1\.0"/,
    );
  });

  it.each([['A B'], ['a'], ['-ab'], ['Ab'], ['a'.repeat(51)]])('names ecrRepo.registryAlias for alias %j', (alias) => {
    expect(issuesOf({ ecrRepo: { repoName: 'app', registryAlias: alias } }).join('\n')).toMatch(
      /^ecrRepo\.registryAlias: must be an ECR Public registry alias/,
    );
  });

  it.each([['myalias'], ['my-alias_2'], ['a1']])('accepts alias %j', (alias) => {
    expect(parsePushArgs({ ecrRepo: { repoName: 'app', registryAlias: alias } }).target.kind).toBe('ecr');
  });

  it('takes keepLocalTags in both spellings', () => {
    expect(parsePushArgs({ repo: 'localhost:5000/app', keepLocalTags: true }).keepLocalTags).toBe(true);
    expect(parsePushArgs({ repo: 'localhost:5000/app', keep_local_tags: true }).keepLocalTags).toBe(true);
  });
});

describe('parsePushArgs: engine, compression and source transports', () => {
  const REPO = 'localhost:5000/app';
  const issuesOf = (input: Record<string, unknown>) => {
    try {
      parsePushArgs({ repo: REPO, ...input });
    } catch (error) {
      if (error instanceof ArgumentsError) return error.issues;
      throw error;
    }
    return [];
  };

  it.each([
    [{}, 'docker'],
    [{ engine: 'registry' }, 'registry'],
    [{ engine: 'docker', source: 'app:dev' }, 'docker'],
    [{ source: `docker-archive:${archive}` }, 'registry'],
    [{ source: `oci:${layout}:1.0` }, 'registry'],
    [{ source: `oci-archive:${archive}` }, 'registry'],
  ])('%j pushes with the %s engine', (input, engine) => {
    expect(parsePushArgs({ repo: REPO, ...input }).engine).toBe(engine);
  });

  it('takes compression and compressionLevel (also compression_level) with the registry engine', () => {
    expect(parsePushArgs({ repo: REPO, engine: 'registry', compression: 'gzip', compressionLevel: 6 })).toMatchObject({
      compression: 'gzip',
      compressionLevel: 6,
    });
    expect(parsePushArgs({ repo: REPO, engine: 'registry', compression_level: 0 }).compressionLevel).toBe(0);
    expect(parsePushArgs({ repo: REPO, engine: 'registry', compression: 'zstd', compressionLevel: 19 })).toMatchObject({
      compression: 'zstd',
      compressionLevel: 19,
    });
  });

  it.each([
    [{ engine: 'podman' }, 'engine', /docker|registry/],
    [{ engine: 'registry', compression: 'brotli' }, 'compression', /gzip|zstd/],
    [{ engine: 'registry', compressionLevel: 10 }, 'compressionLevel', /not a gzip level: give 0 \(store\) to 9/],
    [{ engine: 'registry', compression: 'zstd', compressionLevel: 0 }, 'compressionLevel', /not a zstd level: give 1/],
    [{ engine: 'registry', compression: 'zstd', compressionLevel: 20 }, 'compressionLevel', /19/],
    [{ engine: 'registry', compressionLevel: 1.5 }, 'compressionLevel', /integer|int/i],
    [
      { engine: 'registry', compressionLevel: 42 },
      'compressionLevel',
      /^must be at most 19 \(zstd's highest level\); gzip levels go from 0 \(store\) to 9/,
    ],
    [{ compression: 'gzip' }, 'compression', /registry engine.*engine: "registry" \(--engine registry\)/],
    [{ engine: 'docker', compressionLevel: 3 }, 'compressionLevel', /registry engine/],
    [{ engine: 'docker', source: 'docker-archive:/tmp/app.tar' }, 'engine', /engine: "registry"/],
    [
      { source: `docker-archive:${onDisk}/none.tar` },
      'source',
      /none\.tar does not exist; give a file made by `docker save -o`/,
    ],
    [{ source: `docker-archive:${layout}` }, 'source', /layout is not a file/],
    [
      { source: `oci:${layout}:1.0`, keepLocalTags: true },
      'keepLocalTags',
      /is an archive or layout, not in the Docker engine; remove keepLocalTags \(--keep-local-tags\), or load the image \(docker load\)/,
    ],
    [
      { source: `oci:${layout}:1.0`, compression: 'zstd' },
      'compression',
      /does not apply to an OCI layout: its blobs are pushed as they are stored.*remove compression \(--compression\)/,
    ],
    [
      { source: `oci-archive:${archive}`, compressionLevel: 9 },
      'compressionLevel',
      /does not apply to an OCI layout.*remove compressionLevel \(--compression-level\)/,
    ],
    [{ source: `oci:${archive}:1.0` }, 'source', /app\.tar is not a folder; give an OCI image layout folder/],
    [{ source: `oci-archive:${onDisk}/none.tar` }, 'source', /does not exist; give an OCI layout tar/],
    [{ source: 'oci:' }, 'source', /names no path/],
    [{ source: 'docker-archive:' }, 'source', /names no path/],
  ])('%j is refused, naming %s', (input, path, message) => {
    const issues = issuesOf(input);
    // One issue a field: a value out of every range is not also told it is not a gzip level.
    expect(issues.filter((i) => i.path === path)).toHaveLength(1);
    expect(issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]),
    );
  });
});

describe('parsePushArgs loads zod only for arguments that do not conform', () => {
  /** parsePushArgs from a fresh module registry in which loading zod throws. */
  function parseWithoutZod(input: unknown): unknown {
    let result: unknown;
    jest.isolateModules(() => {
      jest.doMock('zod', () => {
        throw new Error('zod was loaded');
      });
      result = (require('./push-args') as typeof import('./push-args')).parsePushArgs(input);
    });
    return result;
  }

  it('valid arguments: parsed without zod', () => {
    expect(parseWithoutZod({ repo: 'localhost:5000/app', tags: ['1.0'], dry_run: true })).toMatchObject({
      target: { kind: 'repo', repo: 'localhost:5000/app' },
      tags: ['1.0'],
      dryRun: true,
    });
  });

  it('arguments that do not conform: zod is asked (and words the error)', () => {
    expect(() => parseWithoutZod({ repo: 'localhost:5000/app', retries: 'three' })).toThrow('zod was loaded');
    expect(issuesOf({ repo: 'localhost:5000/app', retries: 'three' })).toEqual([
      'retries: expected number, got the string "three"',
    ]);
  });

  it('odd but valid inputs parse as zod reads them: a proxy, a __proto__ key, extra array properties', () => {
    const tags = Object.assign(['1.0'], { extra: 'x' });
    const args = parsePushArgs(
      new Proxy({ image: { repo: 'app', tags, uri: JSON.parse('{"__proto__":"x","1.0":"app:1.0"}') } }, {}),
    );
    expect(args.target).toStrictEqual({
      kind: 'image',
      image: { repo: 'app', tags: ['1.0'], uri: { '1.0': 'app:1.0' } },
    });
  });

  it('a symbol key zod refuses is refused, not let through by the quick check', () => {
    const uri = { '1.0': 'app:1.0', [Symbol('s')]: 'x' };
    expect(issuesOf({ image: { repo: 'app', tags: ['1.0'], uri } })).toEqual([
      'image: must be a local image reference or ID (a non-empty string), or a DockerImage',
    ]);
  });

  it('the parsed arguments are a copy: changing the input afterwards changes nothing', () => {
    const input = { repo: 'localhost:5000/app', tags: ['1.0'], auth: { username: 'u', password: 'p' } };
    const args = parsePushArgs(input);
    input.auth.username = 'changed';
    expect(args.auth).toEqual({ username: 'u', password: 'p' });
  });
});
