import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import {
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  PushCancelledError,
  PushFailedError,
  RegistryAuthError,
} from '@dockpush/core';
import { emptyEngine } from '@dockpush/core/testing';
import { exitCodeFor, runCli, type CliIo } from './run';
import { UsageError } from './usage-error';

const dir = mkdtempSync(join(tmpdir(), 'dockpush-run-spec-'));
/** No Docker credentials of the developer's: the plan's credential source is then `anonymous`. */
const env = { DOCKER_CONFIG: dir, HOME: dir };

async function run(argv: string[], extra: Partial<CliIo> = {}) {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    readStdin: async () => '',
    env,
    pushOptions: { docker: emptyEngine },
    ...extra,
  });
  return { status, stdout, stderr };
}

describe('dockpush CLI', () => {
  it('prints a manual page for --help', async () => {
    const { status, stdout } = await run(['push', '--help']);
    expect(status).toBe(0);
    for (const section of ['NAME', 'SYNOPSIS', 'OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'EXAMPLES']) {
      expect(stdout).toMatch(new RegExp(`^${section}$`, 'm'));
    }
    // A man page fits a terminal.
    expect(Math.max(...stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await run(['--version'])).toEqual({ status: 0, stdout: `dockpush ${pkg.version}\n`, stderr: '' });
  });

  it('prints only the plan as JSON for --dry-run --json', async () => {
    const { status, stdout } = await run([
      'push',
      '--repo',
      'localhost:5000/app',
      '-t',
      '1.0.0',
      '--dry-run',
      '--json',
    ]);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      repo: 'localhost:5000/app',
      tags: ['1.0.0'],
      uri: { '1.0.0': 'localhost:5000/app:1.0.0' },
      registry: 'localhost:5000',
      source: null,
      credentials: 'anonymous',
      engine: 'docker',
    });
  });

  it('prints the URIs a dry run would push, and says so on stderr', async () => {
    const { status, stdout, stderr } = await run([
      'push',
      '--repo',
      'localhost:5000/app',
      '-t',
      'a',
      '-t',
      'b',
      '--dry-run',
    ]);
    expect(status).toBe(0);
    expect(stdout).toBe('localhost:5000/app:a\nlocalhost:5000/app:b\n');
    expect(stderr).toContain('dry run: nothing pushed');
  });

  it('renders --tag-rule from CI variables and says on stderr which rule made each tag', async () => {
    const ci = {
      ...env,
      PATH: process.env.PATH ?? '',
      GIT_CEILING_DIRECTORIES: tmpdir(),
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/tags/v1.2.3',
      GITHUB_SHA: 'abcdef0123456789abcdef0123456789abcdef01',
    };
    const { status, stdout, stderr } = await run(
      [
        'push',
        '--repo',
        'localhost:5000/app',
        '--tag-rule',
        'type=sha',
        '--tag-rule',
        'type=semver,pattern={{version}}',
        '--flavor',
        'latest=false',
        '--dry-run',
      ],
      { env: ci, pushOptions: { docker: emptyEngine, cwd: dir } },
    );
    expect(status).toBe(0);
    expect(stdout).toBe('localhost:5000/app:1.2.3\nlocalhost:5000/app:sha-abcdef0\n');
    expect(stderr).toContain('  1.2.3  from type=semver,pattern={{version}}\n  sha-abcdef0  from type=sha\n');
  });

  it('names --tag-rule when a rule is malformed', async () => {
    const { status, stderr } = await run([
      'push',
      '--repo',
      'localhost:5000/app',
      '--tag-rule',
      'type=nope',
      '--dry-run',
    ]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/--tag-rule: "type=nope"/);
  });

  it('lets flags override a config file and writes the output file', async () => {
    const config = join(dir, 'push.yml');
    const out = join(dir, 'plan.json');
    writeFileSync(config, 'args:\n  repo: localhost:5000/app\n  tags: [from-file]\n');
    const { status } = await run(['push', '-c', config, '--tag', 'from-flag', '--dry-run', '-o', out, '-q']);
    expect(status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ tags: ['from-flag'] });
  });

  it('exits 2 naming the flag and the file field core found wrong', async () => {
    const config = join(dir, 'bad.yml');
    writeFileSync(config, 'repo: localhost:5000/app\nretries: 11\n');
    const { status, stdout, stderr } = await run(['push', '-c', config, '--tag', 'no good', '--dry-run']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${config}: retries: must be at most 10`);
    expect(stderr).toContain('--tag: "no good" is not a valid tag');
    expect(stderr).toContain('See dockpush --help');
  });

  it('says to quote a tag that YAML read as a number', async () => {
    const config = join(dir, 'number-tag.yml');
    writeFileSync(config, 'repo: localhost:5000/app\ntags: [1.0]\n');
    const { status, stderr } = await run(['push', '-c', config, '--dry-run']);
    expect(status).toBe(2);
    expect(stderr).toContain(
      `${config}: tags.0: a tag must be a string, got number 1; quote it in the config file (e.g. "1.0"`,
    );
  });

  it('exits 1 for a missing image, with the message and no stack trace', async () => {
    const { status, stderr } = await run(['push', '--repo', 'localhost:5000/app', '--tag', '1']);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^dockpush: error: No local image "localhost:5000\/app:1"/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('shows the stack when DEBUG is set', async () => {
    const { stderr } = await run(['push', '--repo', 'localhost:5000/app'], { env: { ...env, DEBUG: '1' } });
    expect(stderr).toMatch(/\n\s+at /);
  });

  it('puts the error as JSON on stdout with --json', async () => {
    const { status, stdout } = await run(['push', '--image', 'nope:1', '--json']);
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: 'IMAGE_NOT_FOUND', message: expect.stringContaining('No local image "nope:1"') },
    });
  });

  it.each([
    [['--timeout', 'abc'], '--timeout: expected a number of seconds above 0'],
    [['--bogus'], '--bogus: unknown option'],
  ])('puts an error in the command line %j as JSON on stdout with --json too', async (flags, message) => {
    const { status, stdout } = await run(['push', '--repo', 'localhost:5000/app', '--json', ...flags]);
    expect(status).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'USAGE', message: expect.stringContaining(message) } });
  });

  it('reads the password from stdin and never prints it', async () => {
    const { status, stdout } = await run(
      ['push', '--repo', 'localhost:5000/app', '-u', 'bot', '--password-stdin', '--dry-run', '--json'],
      { readStdin: async () => 'pa55word-from-stdin\n' },
    );
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ credentials: 'explicit' });
    expect(stdout).not.toContain('pa55word');
  });

  it('takes a password holding ${ from stdin as it is, and never prints it', async () => {
    const password = 'Pa${ss}w%r:d@x';
    const encoded = [password, Buffer.from(password).toString('base64'), encodeURIComponent(password)];
    const dry = await run(
      ['push', '--repo', 'localhost:5000/app', '-u', 'bot', '--password-stdin', '--dry-run', '--json'],
      { readStdin: async () => `${password}\n` },
    );
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ credentials: 'explicit' });
    // A failing run prints its error (with DEBUG, its stack and causes) without the password.
    const failed = await run(['push', '--image', 'nope:1', '-u', 'bot', '--password-stdin', '--json'], {
      readStdin: async () => `${password}\n`,
      env: { ...env, DEBUG: '*' },
    });
    expect(failed.status).toBe(1);
    for (const output of [dry.stdout, dry.stderr, failed.stdout, failed.stderr]) {
      for (const form of encoded) expect(output).not.toContain(form);
    }
  });

  it('shows the control characters of what was typed instead of sending them to the terminal', async () => {
    const { status, stderr } = await run(['push', '--repo', 'localhost:5000/app', '--re\u001b[2Jpo', 'x']);
    expect(status).toBe(2);
    expect(stderr).toContain('--re\\u001b[2Jpo');
    expect([...stderr].filter((c) => c < ' ' && c !== '\n')).toEqual([]);
  });

  it('exits 130 when the push is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const { status, stderr } = await run(['push', '--repo', 'localhost:5000/app'], { signal: controller.signal });
    expect(status).toBe(130);
    expect(stderr).toMatch(/^dockpush: Push cancelled/);
  });

  it.each<[string, unknown, number]>([
    ['UsageError', new UsageError('x'), 2],
    ['ArgumentsError', new ArgumentsError('x'), 2],
    ['DockerUnavailableError', new DockerUnavailableError('unix:///x', 'ENOENT'), 1],
    ['ImageNotFoundError', new ImageNotFoundError('a:1', 'x'), 1],
    ['RegistryAuthError', new RegistryAuthError('r', 'denied'), 1],
    ['PushFailedError', new PushFailedError([]), 1],
    ['PushCancelledError', new PushCancelledError([]), 130],
    ['an unexpected Error', new Error('x'), 1],
  ])('exits with the documented status (0 ok, 1 failed, 2 usage, 130 cancelled) for %s', (_, error, status) => {
    expect(exitCodeFor(error)).toBe(status);
  });

  it.each<[string, string[], RegExp]>([
    [
      'a path-like --image',
      ['--image', '../../etc/passwd'],
      /^dockpush: --image: "\.\.\/\.\.\/etc\/passwd" is not a valid image reference/,
    ],
    [
      'a URL-like --source',
      ['--repo', 'localhost:5000/app', '--source', '../containers/json?all=1&x='],
      /^dockpush: --source: .*not a valid image reference/,
    ],
    ['an uppercase --image', ['--image', 'MyApp:1'], /^dockpush: --image: .*repository names must be lowercase/],
    [
      'a port above 65535',
      ['--repo', 'localhost:70000/app'],
      /^dockpush: --repo: .*port 70000; a port is a number from 1 to 65535/,
    ],
    [
      'a wrong ECR Public alias',
      ['--ecr-repo-name', 'app', '--ecr-registry-alias', 'A B'],
      /^dockpush: --ecr-registry-alias: must be an ECR Public registry alias/,
    ],
    [
      'credentials in --repo',
      ['--repo', 'alice:Hunter2@ghcr.io/org/app'],
      /^dockpush: --repo: holds credentials .*--username and --password-stdin/,
    ],
    [
      'an output file under a file',
      ['--repo', 'localhost:5000/app', '-o', join(__filename, 'result.json')],
      /^dockpush: --output-file: .* which is a file, not a folder/,
    ],
  ])('exits 2 before any engine call for %s', async (_, argv, expected) => {
    const engine = { ping: jest.fn(), getImage: jest.fn() };
    const { status, stdout, stderr } = await run(['push', ...argv], {
      pushOptions: { docker: engine as unknown as Dockerode },
    });
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(expected);
    expect(stderr).not.toMatch(/Hunter2|\n\s+at /);
    expect(engine.getImage).not.toHaveBeenCalled();
  });

  it('answers a hostile --image with a JSON error under --json, not a stack', async () => {
    const { status, stdout } = await run(['push', '--image', '../containers/json?all=1&x=', '--json']);
    expect(status).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({
      error: {
        code: 'USAGE',
        issues: [{ where: '--image', message: expect.stringMatching(/not a valid image reference/) }],
      },
    });
  });

  describe('when the result file cannot be written after the push', () => {
    const digest = 'sha256:' + 'd'.repeat(64);
    const pushingEngine = {
      ping: async () => 'OK',
      getImage: () => ({
        inspect: async () => ({ Id: 'sha256:' + 'a'.repeat(64), RepoTags: ['localhost:5000/app:1'] }),
        push: async ({ tag }: { tag: string }) =>
          Readable.from([JSON.stringify({ aux: { Tag: tag, Digest: digest, Size: 1 } }) + '\n']),
      }),
    } as unknown as Dockerode;
    const breakFileOnPush = (out: string) => ({
      docker: pushingEngine,
      onProgress: (event: { type: string }) => {
        if (event.type === 'tag-done' && !existsSync(out)) mkdirSync(out);
      },
    });

    it('prints the digests and exits 1 naming the file', async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'dockpush-run-out-')), 'result.json');
      const { status, stdout, stderr } = await run(
        ['push', '--repo', 'localhost:5000/app', '-t', '1', '-o', out, '-q'],
        {
          pushOptions: breakFileOnPush(out),
        },
      );
      expect(status).toBe(1);
      expect(stdout).toBe(`localhost:5000/app:1@${digest}\n`);
      expect(stderr).toContain(`but the result could not be written to ${out}`);
    });

    it('puts the result in the --json error', async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'dockpush-run-out-')), 'result.json');
      const { status, stdout } = await run(
        ['push', '--repo', 'localhost:5000/app', '-t', '1', '-o', out, '-q', '--json'],
        { pushOptions: breakFileOnPush(out) },
      );
      expect(status).toBe(1);
      expect(JSON.parse(stdout)).toMatchObject({
        error: { code: 'OUTPUT_FILE', result: { pushed: [{ uri: 'localhost:5000/app:1', digest }] } },
      });
    });
  });
});
