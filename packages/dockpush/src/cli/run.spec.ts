import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import {
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  PushCancelledError,
  PushFailedError,
  RegistryAuthError,
} from '@dockpush/core';
import { exitCodeFor, runCli, type CliIo } from './run';
import { UsageError } from './usage-error';

const dir = mkdtempSync(join(tmpdir(), 'dockpush-run-spec-'));
/** No Docker credentials of the developer's: the plan's credential source is then `anonymous`. */
const env = { DOCKER_CONFIG: dir, HOME: dir };

/** An engine that answers pings and knows no image. */
const emptyEngine = {
  ping: async () => 'OK',
  getImage: () => ({
    inspect: async () => {
      throw Object.assign(new Error('no such image'), { statusCode: 404 });
    },
  }),
} as unknown as Dockerode;

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
  ])('exits with the status of DESIGN.md for %s', (_, error, status) => {
    expect(exitCodeFor(error)).toBe(status);
  });
});
