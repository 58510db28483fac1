import { mkdtempSync } from 'node:fs';
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
