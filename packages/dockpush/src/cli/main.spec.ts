import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The built `dockpush` binary as a child process, against peers that never answer:
 * what matters here (the exit status, how soon the process ends, signals) is only
 * visible from outside the process. Runs against `dist`: `npm run build` first.
 */
const BIN = join(__dirname, '..', '..', 'bin', 'dockpush.js');

interface Finished {
  /** When the process ended (Date.now()). */
  endedAt: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function start(argv: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Finished> } {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end();
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (status, signal) =>
      resolve({ endedAt: Date.now(), status, signal, stdout, stderr, ms: Date.now() - started }),
    ),
  );
  return { child, done };
}

/** A directory with an empty Docker config and a PATH that reaches its helper scripts. */
function home(config: object = {}, helpers: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-main-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  for (const [name, script] of Object.entries(helpers)) {
    const path = join(dir, `docker-credential-${name}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${dir}:${process.env.PATH ?? ''}`,
    HOME: dir,
    DOCKER_CONFIG: dir,
    CI: 'true',
  };
  return { dir, env };
}

/** A server that accepts connections and never says a word. */
async function silentServer(listenOn: string | number): Promise<{ server: Server; connected: Promise<number> }> {
  const sockets: Socket[] = [];
  let connected!: (at: number) => void;
  const first = new Promise<number>((r) => (connected = r));
  const server = createServer((socket) => {
    sockets.push(socket);
    connected(Date.now());
  });
  servers.push({ server, sockets });
  await new Promise<void>((r) =>
    typeof listenOn === 'string' ? server.listen(listenOn, r) : server.listen(listenOn, '127.0.0.1', r),
  );
  return { server, connected: first };
}

/**
 * An engine on a unix socket that answers the ping and the image lookup, then takes the
 * push and reports one layer, never finishing: a push mid-upload.
 */
async function engineStuckMidPush() {
  const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-sock-')), 'docker.sock');
  const sockets: Socket[] = [];
  let pushing!: () => void;
  const pushStarted = new Promise<void>((r) => (pushing = r));
  const server = createHttpServer((req, res) => {
    const url = req.url ?? '';
    if (url.endsWith('/_ping')) return res.end('OK');
    if (/\/images\/.+\/json$/.test(url)) {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ Id: `sha256:${'a'.repeat(64)}`, RepoTags: ['localhost:5000/app:1'] }));
    }
    if (/\/images\/.+\/push/.test(url)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ status: 'Pushing', id: 'l1', progressDetail: { current: 1, total: 10 } }) + '\n');
      pushing();
      return undefined;
    }
    res.statusCode = 404;
    return res.end('{}');
  });
  server.on('connection', (s) => sockets.push(s));
  servers.push({ server: server as unknown as Server, sockets });
  await new Promise<void>((r) => server.listen(socket, r));
  return { host: `unix://${socket}`, pushStarted };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function unixSilentEngine() {
  const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-sock-')), 'docker.sock');
  const { connected } = await silentServer(socket);
  return { host: `unix://${socket}`, connected };
}

jest.setTimeout(30_000);

const servers: Array<{ server: Server; sockets: Socket[] }> = [];
afterEach(async () => {
  for (const { sockets } of servers) sockets.forEach((s) => s.destroy());
  await Promise.all(servers.splice(0).map(({ server }) => new Promise((r) => server.close(r))));
});

describe('dockpush binary: deadlines', () => {
  it('ends soon with exit 1 when the engine socket accepts and never answers', async () => {
    const { env } = home();
    const engine = await unixSilentEngine();
    const { done } = start(['push', '--repo', 'localhost:5000/app', '--tag', '1', '--timeout', '1'], {
      ...env,
      DOCKER_HOST: engine.host,
    });
    const result = await done;
    expect(result.stderr).toMatch(
      new RegExp(`Cannot reach the Docker engine at ${engine.host} \\(no answer to a ping within 1 s`),
    );
    expect(result.status).toBe(1);
    // Measured from the engine's side, so that a slow start of Node on a busy machine does not count.
    expect(result.endedAt - (await engine.connected)).toBeLessThan(5_000);
  });

  it('never prints the password of a DOCKER_HOST URL', async () => {
    const { env } = home();
    const { server } = await silentServer(0);
    const port = (server.address() as { port: number }).port;
    const { done } = start(['push', '--repo', 'localhost:5000/app', '--timeout', '1', '--json'], {
      ...env,
      DOCKER_HOST: `tcp://admin:Sup3r-s3cret@127.0.0.1:${port}`,
    });
    const result = await done;
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`tcp://admin:***@127.0.0.1:${port}`);
    expect(result.stdout + result.stderr).not.toContain('Sup3r-s3cret');
  });
});

describe('dockpush binary: signals', () => {
  it('SIGTERM while a credential helper hangs ends the run at once, with 143, and kills the helper', async () => {
    const { dir, env } = home(
      { credHelpers: { 'localhost:5000': 'hangs' } },
      { hangs: 'echo $$ > "$(dirname "$0")/helper.pid"; sleep 300' },
    );
    const { child, done } = start(['push', '--repo', 'localhost:5000/app'], env);
    await until(() => existsSync(join(dir, 'helper.pid')) && readFileSync(join(dir, 'helper.pid'), 'utf8').length > 0);
    const helper = Number(readFileSync(join(dir, 'helper.pid'), 'utf8'));
    const sent = Date.now();
    child.kill('SIGTERM');
    const result = await done;
    expect(Date.now() - sent).toBeLessThan(6_000);
    expect(result.status).toBe(143);
    expect(result.stderr).toMatch(/SIGTERM: stopping; nothing is being pushed/);
    expect(result.stderr).toMatch(/Push cancelled before any tag was pushed/);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(helper)).toBe(false);
  });

  it('SIGINT while the engine does not answer ends the run at once, with 130', async () => {
    const { env } = home();
    const engine = await unixSilentEngine();
    const { child, done } = start(['push', '--repo', 'localhost:5000/app'], { ...env, DOCKER_HOST: engine.host });
    await engine.connected;
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await done;
    expect(Date.now() - sent).toBeLessThan(6_000);
    expect(result.status).toBe(130);
    expect(result.stderr).toMatch(/Push cancelled before any tag was pushed/);
  });

  it('with a push mid-upload, the first SIGINT waits for it and a second ends the run at once, saying what may have landed', async () => {
    const { env } = home();
    const engine = await engineStuckMidPush();
    const { child, done } = start(['push', '--repo', 'localhost:5000/app', '--tag', '1', '--json'], {
      ...env,
      DOCKER_HOST: engine.host,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await engine.pushStarted;
    child.kill('SIGINT');
    await until(() =>
      /no new tag starts; waiting for those in flight \(1 being pushed: the Docker engine finishes a push it has begun; the registry engine stops its uploads and waits for the manifests it has sent\)/.test(
        stderr,
      ),
    );
    // The push in flight is waited for: the process is still there.
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull();
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await done;
    expect(Date.now() - sent).toBeLessThan(4_000);
    expect(result.status).toBe(130);
    expect(result.stderr).toMatch(
      /SIGINT again: exiting now\. Tags so far:\n {2}\? localhost:5000\/app:1 was being pushed: unknown, it may have landed/,
    );
    // --json: the same report on stdout, each tag as an outcome.
    expect(JSON.parse(result.stdout)).toEqual({
      error: {
        code: 'CANCELLED',
        message: expect.stringMatching(/^dockpush: SIGINT again: exiting now\. Tags so far:/),
        outcomes: [{ tag: '1', uri: 'localhost:5000/app:1', status: 'unknown' }],
      },
    });
  });
});

describe('dockpush binary: a closed stdout', () => {
  it('is no crash (dockpush … | head -1): the run ends with its own status', async () => {
    const { env } = home();
    const tags = Array.from({ length: 200 }, (_, i) => ['--tag', `t${i}`]).flat();
    const { child, done } = start(['push', '--repo', 'localhost:5000/app', '--dry-run', ...tags], env);
    // The reader goes away before dockpush writes its first line.
    child.stdout?.destroy();
    const result = await done;
    expect(result.stderr).not.toMatch(/EPIPE|Error:|at /);
    expect(result.status).toBe(0);
  });
});
