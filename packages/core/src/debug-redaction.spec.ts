import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * DEBUG='*' turns on every library's namespace, including docker-modem's, which logs each
 * request with its headers. A push through core's own Docker client against a fake engine
 * must print none of the secret's forms.
 */
const password = 'Deb${ug}%p:a@ss-w0rd';
const username = 'debug-user';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let server: Server;
let socket: string;
const saved = { DEBUG: process.env.DEBUG, DOCKER_HOST: process.env.DOCKER_HOST };
let received: string[] = [];

beforeAll(async () => {
  socket = join(mkdtempSync(join(tmpdir(), 'dockpush-debug-')), 'engine.sock');
  server = createServer((req, res) => {
    received.push(String(req.headers['x-registry-auth']));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"The push refers to repository [localhost:5000/app]"}\n');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** What `work` writes on stderr, with every library's debug namespace on and fresh modules. */
async function stderrOf(work: () => Promise<void>): Promise<string> {
  process.env.DEBUG = '*';
  jest.resetModules();
  received = [];
  const lines: string[] = [];
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    write.mockRestore();
  }
  return lines.join('');
}

/** The engine got the header once, and the output holds neither it nor any form of the password. */
function expectNoSecret(output: string): void {
  expect(received).toHaveLength(1);
  expect(output).not.toContain(received[0]);
  for (const form of [password, b64(password), encodeURIComponent(password)]) expect(output).not.toContain(form);
  // No base64 run in the output decodes to text holding the password.
  for (const run of output.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    expect(Buffer.from(run, 'base64').toString('latin1')).not.toContain(password);
  }
}

const drain = (stream: NodeJS.ReadableStream) => new Promise((resolve) => stream.on('end', resolve).resume());

it("redacts the engine's auth header in other libraries' debug output", async () => {
  process.env.DOCKER_HOST = `unix://${socket}`;
  const output = await stderrOf(async () => {
    const core = require('./index') as typeof import('./index');
    const { createDockerClient } = require('./engine/docker-client') as typeof import('./engine/docker-client');
    core.registerSecret(password, username);
    const docker = createDockerClient();
    await drain(
      (await docker.getImage('localhost:5000/app').push({
        tag: '1',
        authconfig: { username, password, serveraddress: 'localhost:5000' },
      })) as NodeJS.ReadableStream,
    );
  });
  // docker-modem logged the request.
  expect(output).toContain('modem');
  expect(output).toContain('X-Registry-Auth');
  expectNoSecret(output);
});

it("prints neither the secret nor the auth header in the engine API's own debug output", async () => {
  const output = await stderrOf(async () => {
    const { DockerEngine } = require('./engine/docker-engine') as typeof import('./engine/docker-engine');
    const engine = new DockerEngine({ env: { DOCKER_HOST: `unix://${socket}` } });
    await drain(
      await engine.push(
        'localhost:5000/app',
        '1',
        { username, password, serveraddress: 'localhost:5000' },
        { timeoutMs: 5000 },
      ),
    );
  });
  expect(output).toContain('dockpush:engine:api POST /images/localhost:5000/app/push?tag=1');
  expectNoSecret(output);
});

describe("a dockerode client from the caller's own install", () => {
  /**
   * A caller's install: a modem module and, beside it, its own `debug`, whose `log` the caller
   * has pointed at `lines` (as a program that sends its debug output elsewhere does).
   */
  function callerInstall(): { modem: object; lines: string[]; debug: { log: (...args: unknown[]) => unknown } } {
    const root = mkdtempSync(join(tmpdir(), 'dockpush-caller-'));
    const lines: string[] = [];
    for (const [name, source] of [
      ['caller-modem', 'module.exports = class Modem {};'],
      ['debug', 'module.exports = { log: () => undefined, inspectOpts: {} };'],
    ] as const) {
      mkdirSync(join(root, 'node_modules', name), { recursive: true });
      writeFileSync(join(root, 'node_modules', name, 'index.js'), source);
    }
    const Modem = require(join(root, 'node_modules', 'caller-modem')) as new () => object;
    const debug = require(join(root, 'node_modules', 'debug')) as { log: (...args: unknown[]) => unknown };
    debug.log = (line: unknown) => lines.push(String(line));
    return { modem: new Modem(), lines, debug };
  }

  it("wraps that client's own debug: its lines are redacted and still go where the caller sent them", () => {
    const { registerSecret } = require('./index') as typeof import('./index');
    const { redactClientDebugOutput } = require('./debug-redaction') as typeof import('./debug-redaction');
    registerSecret(password, username);
    const { modem, lines, debug } = callerInstall();
    const header = b64(JSON.stringify({ username, password }));
    expect(redactClientDebugOutput({ modem })).toBe(true);
    expect(redactClientDebugOutput({ modem })).toBe(true); // wrapped once, not twice
    debug.log('%s', `X-Registry-Auth: ${header} password=${password}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('X-Registry-Auth');
    expect(lines[0]).not.toContain(header);
    expect(lines[0]).not.toContain(password);
  });

  it('says it cannot reach a client whose modem no loaded module exports (a bundle)', () => {
    const { redactClientDebugOutput } = require('./debug-redaction') as typeof import('./debug-redaction');
    class BundledModem {}
    expect(redactClientDebugOutput({ modem: new BundledModem() })).toBe(false);
    expect(redactClientDebugOutput({})).toBe(false);
  });
});
