import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** One request the fake engine got. */
export interface FakeEngineRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A fake Docker engine, listening; `close()` stops it and removes its socket. */
export interface FakeDockerEngine {
  /** `DOCKER_HOST` naming it: `unix://<socket>`, or `tcp://127.0.0.1:<port>`. */
  readonly dockerHost: string;
  /** Its socket's path; undefined on TCP. */
  readonly socketPath: string | undefined;
  /** Every request it got, in order (empty it with `requests.length = 0`). */
  readonly requests: FakeEngineRequest[];
  readonly server: http.Server;
  close(): Promise<void>;
}

/** The one image the fake engine holds, known by each of these names. */
export const FAKE_ENGINE_IMAGE = { Id: 'sha256:abc', RepoTags: ['app:1', 'localhost:5000/app:1'] };
const KNOWN = new Set([FAKE_ENGINE_IMAGE.Id, ...FAKE_ENGINE_IMAGE.RepoTags]);

/** What the fake engine answers a push of a tag it has (HTTP 200, then its JSON-lines progress). */
export const FAKE_PUSH_PROGRESS =
  '{"status":"The push refers to repository [localhost:5000/app]"}\r\n' +
  '{"status":"1: digest: sha256:def size: 528"}\r\n';

/**
 * A fake Docker engine: an HTTP server answering the requests a push makes as the engine API
 * does, on a unix socket (by default) or on loopback TCP. It holds one image,
 * `FAKE_ENGINE_IMAGE`; any other image name is the engine's 404 (`No such image: <name>`),
 * except names that act out trouble: one holding `hang` is never answered, `broken` gets a 500
 * with a JSON message, `plain` a 500 with a text body, `silent` a 500 with no body.
 */
export async function startFakeDockerEngine(on: 'unix-socket' | 'tcp' = 'unix-socket'): Promise<FakeDockerEngine> {
  const requests: FakeEngineRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const method = req.method ?? '';
      const url = req.url ?? '';
      requests.push({ method, url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      answer(method, url, res);
    });
  });
  if (on === 'tcp') {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return fake(`tcp://127.0.0.1:${port}`, undefined);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-fake-engine-'));
  const socketPath = path.join(dir, 'docker.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return fake(`unix://${socketPath}`, socketPath, () => rmSync(dir, { recursive: true, force: true }));

  function fake(dockerHost: string, socket: string | undefined, cleanUp = () => {}): FakeDockerEngine {
    return {
      dockerHost,
      socketPath: socket,
      requests,
      server,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        cleanUp();
      },
    };
  }
}

function answer(method: string, url: string, res: http.ServerResponse): void {
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (url.includes('hang')) return; // never answers
  if (url === '/_ping') return void res.end('OK');
  if (url === '/info') return json(200, { DockerRootDir: '/var/lib/docker', Driver: 'overlay2' });
  if (url.includes('broken')) return json(500, { message: 'layer store is broken' });
  if (url.includes('plain')) return void res.writeHead(500).end('plain text trouble');
  if (url.includes('silent')) return void res.writeHead(500).end();

  const { pathname, searchParams } = new URL(url, 'http://docker');
  const route = /^\/images\/(.+?)(?:\/(json|get|tag|push))?$/.exec(pathname);
  const [, encodedName = '', action] = route ?? [];
  const name = decodeURIComponent(encodedName);
  const known = KNOWN.has(action === 'push' ? `${name}:${searchParams.get('tag') ?? ''}` : name);
  if (!route || !known) return json(404, { message: `No such image: ${name}` });
  if (method === 'GET' && action === 'json') return json(200, FAKE_ENGINE_IMAGE);
  if (method === 'GET' && action === 'get') return void res.end('TAR BYTES');
  if (method === 'POST' && action === 'tag') return void res.writeHead(201).end();
  if (method === 'POST' && action === 'push') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return void res.end(FAKE_PUSH_PROGRESS);
  }
  if (method === 'DELETE' && action === undefined) return json(200, [{ Untagged: name }]);
  json(404, { message: `page not found: ${method} ${pathname}` });
}
