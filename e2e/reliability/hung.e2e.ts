import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { e2eContainerName, loadE2eEnv, repoRoot } from '../support/env';
import { FaultProxy } from '../support/fault-proxy';
import { describeOneEngine } from '../support/engines';
import { createTestImage, removeImage } from '../support/images';
import { startTestRegistry, type TestRegistry } from '../support/registries';
import { recordReliability } from '../support/reliability-record';

/**
 * Peers that hang: the built CLI against each, with a short --timeout. Every run must
 * end with a non-zero exit soon after the deadline, a message naming what hung and the
 * fix, and no stack trace. Each case is a row of the "Hung peers" table.
 */
const cli = join(repoRoot, 'packages/dockpush/dist/cli/main.js');
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const source = `dockpush-e2e-hung:${unique}`;

const closers: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await removeImage(docker, source);
});

function home(config: object = {}, helpers: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-hung-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  for (const [name, script] of Object.entries(helpers)) {
    const path = join(dir, `docker-credential-${name}`);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, DOCKER_CONFIG: dir, CI: 'true' };
  delete env.DEBUG;
  env.PATH = `${dir}:${process.env.PATH ?? ''}`;
  return env;
}

interface Ran {
  code: number | null;
  seconds: number;
  stderr: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, seconds: (Date.now() - started) / 1000, stderr })),
  );
}

/** The line the user reads: the error, without the progress before it. */
function seen(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('dockpush:') || /^\s+✖/.test(l));
  return lines.join(' ').slice(0, 400);
}

function record(what: string, deadline: string, ran: Ran, engine?: 'registry'): void {
  recordReliability({
    kind: 'hung',
    ...(engine ? { engine } : {}),
    case: what,
    deadline,
    outcome: `exit ${String(ran.code)}`,
    seconds: Math.round(ran.seconds * 10) / 10,
    detail: seen(ran.stderr),
  });
}

function expectCleanFailure(ran: Ran, withinSeconds: number): void {
  expect(ran.code).toBe(1);
  expect(ran.seconds).toBeLessThan(withinSeconds);
  expect(ran.stderr).not.toMatch(/\n\s+at /);
}

/** A TCP or unix-socket server that accepts and never answers. */
async function silent(listenOn: string | 0): Promise<Server> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', () => undefined);
  });
  await new Promise<void>((r) => (listenOn === 0 ? server.listen(0, '127.0.0.1', r) : server.listen(listenOn, r)));
  closers.push(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise((r) => server.close(r));
  });
  return server;
}

it('a credential helper that never answers (and started a child)', async () => {
  const env = home({ credHelpers: { 'localhost:5000': 'hangs' } }, { hangs: 'sleep 300 & sleep 300' });
  const ran = await run(['push', '--repo', 'localhost:5000/app', '--dry-run', '--timeout', '2'], env);
  record('credential helper (`docker-credential-x get` never answers; its child holds the pipe)', '--timeout 2', ran);
  expectCleanFailure(ran, 12);
  expect(ran.stderr).toMatch(/docker-credential-hangs get did not answer within 2 s/);
});

it('an STS endpoint that accepts and never answers, in a dry run', async () => {
  const sts = await silent(0);
  const port = (sts.address() as { port: number }).port;
  const env = {
    ...home(),
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'hung-sts-example-key',
    AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}`,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const ran = await run(
    ['push', '--ecr-repo-name', 'app', '--ecr-region', 'eu-west-1', '--dry-run', '--timeout', '2'],
    env,
  );
  record('AWS STS endpoint (accepts, never answers), `--dry-run`', '--timeout 2', ran);
  expectCleanFailure(ran, 12);
  expect(ran.stderr).toMatch(/AWS STS GetCallerIdentity at http:\/\/127\.0\.0\.1:\d+ did not answer within 2 s/);
});

it('a DOCKER_HOST socket that accepts and never answers', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-hung-sock-')), 'docker.sock');
  await silent(socket);
  const ran = await run(['push', '--repo', 'localhost:5000/app', '--timeout', '2'], {
    ...home(),
    DOCKER_HOST: `unix://${socket}`,
  });
  record('Docker engine socket (accepts, never answers)', 'ping: 10 s, or --timeout when lower (2)', ran);
  expectCleanFailure(ran, 12);
  expect(ran.stderr).toMatch(/Cannot reach the Docker engine at unix:\/\/.* \(no answer to a ping within 2 s/);
});

it('a fake engine streaming a line of progress without end', async () => {
  const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-hung-sock-')), 'docker.sock');
  const server: HttpServer = createHttpServer((req, res) => {
    const url = req.url ?? '';
    if (url.endsWith('/_ping')) return res.end('OK');
    if (/\/images\/.+\/json$/.test(url)) {
      return res.end(JSON.stringify({ Id: `sha256:${'b'.repeat(64)}`, RepoTags: ['localhost:5000/app:1'] }));
    }
    if (/\/images\/.+\/push/.test(url)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return undefined;
    }
    res.statusCode = 404;
    return res.end('{}');
  });
  await new Promise<void>((r) => server.listen(socket, r));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const ran = await run(['push', '--repo', 'localhost:5000/app', '--tag', '1', '--timeout', '2'], {
    ...home(),
    DOCKER_HOST: `unix://${socket}`,
  });
  record('fake engine: a push stream line without a newline, without end', 'a line may hold 1 MiB', ran);
  expectCleanFailure(ran, 12);
  expect(ran.stderr).toMatch(/sent a line of progress larger than 1 MiB/);
});

it('a registry that hangs on the manifest upload', async () => {
  let registry: TestRegistry | undefined = await startTestRegistry(e2eContainerName('hung'));
  const proxy = await FaultProxy.start(registry.host);
  closers.push(async () => {
    await proxy.close();
    registry?.remove();
    registry = undefined;
  });
  await createTestImage(docker, source, { layers: 1, bytesPerLayer: 256 * 1024 });
  proxy.setFaults([{ method: 'PUT', path: /\/manifests\//, action: { kind: 'stall', ms: 120_000 } }]);
  const ran = await run(
    [
      'push',
      '--repo',
      `${proxy.host}/hung-${unique}`,
      '--source',
      source,
      '--tag',
      '1',
      '--timeout',
      '3',
      '--retries',
      '0',
    ],
    home(),
  );
  record('registry: manifest PUT held (through the fault proxy), `--retries 0`', '--timeout 3 (no progress)', ran);
  expectCleanFailure(ran, 20);
  expect(ran.stderr).toMatch(
    /no progress for 3 s pushing to 127\.0\.0\.1:\d+ \(the registry, or the engine, stopped answering\)/,
  );
});

describeOneEngine('registry', 'the registry engine against a silent registry', () => {
  const image = `dockpush-e2e-hung-registry:${unique}`;
  afterAll(() => removeImage(docker, image));
  const push = (repo: string, ...flags: string[]) =>
    run(['push', '--engine', 'registry', '--source', image, '--repo', repo, '--tag', '1', ...flags], home());

  it('a registry that hangs on the manifest upload: the push ends after one --timeout', async () => {
    await createTestImage(docker, image, { layers: 1, bytesPerLayer: 64 * 1024 });
    let registry: TestRegistry | undefined = await startTestRegistry(e2eContainerName('hung-reg'));
    const proxy = await FaultProxy.start(registry.host);
    closers.push(async () => {
      await proxy.close();
      registry?.remove();
      registry = undefined;
    });
    proxy.setFaults([{ method: 'PUT', path: /\/manifests\//, action: { kind: 'stall', ms: 120_000 } }]);
    const ran = await push(`${proxy.host}/hung-reg-${unique}`, '--timeout', '3', '--retries', '0');
    record(
      'registry: manifest PUT held (through the fault proxy), `--retries 0`',
      '--timeout 3 (no answer)',
      ran,
      'registry',
    );
    expectCleanFailure(ran, 10);
    expect(ran.stderr).toMatch(/manifest 1: .*3 s/);
    expect(proxy.count('PUT', /\/manifests\/1$/)).toBe(1);
  });

  it('a registry that accepts and never answers: the registry check ends within one --timeout', async () => {
    await createTestImage(docker, image, { layers: 1, bytesPerLayer: 64 * 1024 });
    const registry = await silent(0);
    const port = (registry.address() as { port: number }).port;
    const ran = await push(`127.0.0.1:${port}/t/x`, '--timeout', '2');
    record(
      'registry: accepts and never answers (loopback: plain HTTP, then HTTPS too, within one deadline)',
      '--timeout 2 (the whole registry check)',
      ran,
      'registry',
    );
    expectCleanFailure(ran, 4);
    expect(ran.stderr).toMatch(
      /the registry check got no answer within 2 s over HTTPS.*Check that the registry at 127\.0\.0\.1:\d+ is up and answering, or allow it longer with timeout \(--timeout\)/,
    );
  });
});

describeOneEngine('registry', 'the registry engine against an engine whose export stops', () => {
  const image = `dockpush-e2e-hung-export:${unique}`;
  afterAll(() => removeImage(docker, image));

  /**
   * The real engine behind a unix socket of the test's own: every request passes, but the image
   * export (`GET /images/…/get`) stops after its first 256 KiB and holds the connection open.
   */
  async function exportStoppingEngine(): Promise<string> {
    const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-hung-engine-')), 'engine.sock');
    const held: Array<{ destroy: () => void }> = [];
    const server: HttpServer = createHttpServer((req, res) => {
      const upstream = httpRequest(
        { socketPath: '/var/run/docker.sock', method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (!/^GET \/(v[\d.]+\/)?images\/.+\/get/.test(`${req.method} ${req.url}`)) {
            answer.pipe(res);
            return;
          }
          held.push(answer, res.socket ?? { destroy: () => undefined });
          let sent = 0;
          answer.on('data', (chunk: Buffer) => {
            if (sent >= 256 * 1024) return answer.pause();
            sent += chunk.length;
            res.write(chunk);
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => server.listen(socket, r));
    closers.push(() => {
      held.forEach((s) => s.destroy());
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    return socket;
  }

  it('an export that stops mid-way: the push ends after one --timeout of waiting on it', async () => {
    await createTestImage(docker, image, { layers: 2, bytesPerLayer: 1024 * 1024 });
    const socket = await exportStoppingEngine();
    const env = { ...home(), DOCKER_HOST: `unix://${socket}`, DOCKPUSH_ENGINE_STORE: '0' };
    const repo = `${loadE2eEnv().plain.host}/hung-export-${unique}`;
    const ran = await run(['push', '--engine', 'registry', '--source', image, '--repo', repo, '--timeout', '3'], env);
    record(
      'engine: its export (`docker save`) stops after 256 KiB and holds the connection',
      '--timeout 3 (nothing more of the export)',
      ran,
      'registry',
    );
    expectCleanFailure(ran, 15);
    expect(ran.stderr).toMatch(
      /dockpush: error: Cannot read the image sha256:[a-f0-9]{64}: the Docker engine sent nothing more of its export for 3 s: .*--timeout/,
    );
    expect(ran.stderr).not.toContain('unexpected error');
  });
});
