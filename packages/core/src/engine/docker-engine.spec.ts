import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import { DockerEngine } from './docker-engine';

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

/** A fake engine: an HTTP server on a unix socket, answering what the engine API answers. */
describe('DockerEngine: the engine port over the engine API', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  const requests: string[] = [];
  const authHeaders: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-engine-port-'));
    socket = path.join(dir, 'docker.sock');
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = req.url ?? '';
      if (url.startsWith('/_ping') || url.includes('/hang')) {
        if (url.includes('/hang') || req.headers['x-hang']) return; // never answers
        res.end('OK');
      } else if (url === '/info') {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ DockerRootDir: '/var/lib/docker', Driver: 'overlay2' }));
      } else if (url.startsWith('/images/app:1/json') || url.startsWith('/images/app%3A1/json')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ Id: 'sha256:abc', RepoTags: ['app:1'] }));
      } else if (url.startsWith('/images/app%3A1/get') || url.startsWith('/images/app:1/get')) {
        res.end('TAR BYTES');
      } else if (req.method === 'POST' && url.startsWith('/images/sha256:abc/tag?')) {
        res.writeHead(201).end();
      } else if (req.method === 'POST' && url.startsWith('/images/localhost:5000/app/push?tag=1')) {
        authHeaders.push(String(req.headers['x-registry-auth']));
        res.setHeader('Content-Type', 'application/json');
        res.end('{"status":"1: digest: sha256:def size: 528"}\r\n');
      } else if (req.method === 'DELETE' && url.startsWith('/images/app:1')) {
        res.setHeader('Content-Type', 'application/json');
        res.end('[{"Untagged":"app:1"}]');
      } else if (url.includes('/broken')) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"message":"the engine broke"}');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"No such image"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterEach(() => {
    requests.length = 0;
    authHeaders.length = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each([
    ['directly', () => new DockerEngine({ env: { DOCKER_HOST: `unix://${socket}` } })],
    [
      'through a dockerode client given',
      () =>
        new DockerEngine({ docker: new Dockerode({ socketPath: socket }), env: { DOCKER_HOST: `unix://${socket}` } }),
    ],
  ])('%s', (_how, engine) => {
    it('pings, and inspects an image', async () => {
      await engine().ping({});
      await expect(engine().inspect('app:1', {})).resolves.toMatchObject({ Id: 'sha256:abc', RepoTags: ['app:1'] });
    });

    it("maps the engine's 404 for an image to ImageNotFoundError, with the caller's hint", async () => {
      const error = await engine()
        .inspect('missing:1', {}, 'Build it first.')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageNotFoundError);
      expect((error as Error).message).toMatch(/missing:1[\s\S]*Build it first\./);
    });

    it('maps a 404 on tag, untag and export to ImageNotFoundError too', async () => {
      await expect(engine().tag('sha256:none', 'localhost:5000/app', '1', {})).rejects.toBeInstanceOf(
        ImageNotFoundError,
      );
      await expect(engine().untag('missing:1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
      await expect(engine().export('missing:1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
    });

    it('tags, and removes a tag without pruning the image', async () => {
      await engine().tag('sha256:abc', 'localhost:5000/app', '1', {});
      await engine().untag('app:1', {});
      expect(requests).toContain('DELETE /images/app:1?noprune=true');
      expect(requests.some((r) => r.startsWith('POST /images/sha256:abc/tag?'))).toBe(true);
    });

    it('streams an export', async () => {
      expect(await text(await engine().export('app:1', {}))).toBe('TAR BYTES');
    });

    it('pushes a tag: the progress stream, and the auth config in X-Registry-Auth', async () => {
      const authconfig = { username: 'ci', password: 'p?s>s', serveraddress: 'localhost:5000' };
      const stream = await engine().push('localhost:5000/app', '1', authconfig, {});
      expect(await text(stream)).toBe('{"status":"1: digest: sha256:def size: 528"}\r\n');
      expect(JSON.parse(Buffer.from(authHeaders[0] ?? '', 'base64url').toString())).toEqual(authconfig);
    });

    it("keeps the engine's status and message on a failed push, for the tag pusher to classify", async () => {
      const error = await engine()
        .push('broken', '1', {}, {})
        .catch((e: unknown) => e);
      // What the tag pusher reads of it.
      const e = error as { statusCode?: number; message: string; json?: { message?: string } | null };
      expect(e.statusCode).toBe(500);
      expect(e.json?.message ?? e.message).toContain('the engine broke');
    });

    it('maps no engine at the socket to DockerUnavailableError naming DOCKER_HOST', async () => {
      const nowhere = path.join(dir, 'nothing.sock');
      const absent = new DockerEngine({
        ...(_how === 'directly' ? {} : { docker: new Dockerode({ socketPath: nowhere }) }),
        env: { DOCKER_HOST: `unix://${nowhere}` },
      });
      const error = await absent.ping({ timeoutMs: 2000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DockerUnavailableError);
      expect((error as Error).message).toContain(`unix://${nowhere}`);
      await expect(absent.inspect('app:1', { timeoutMs: 2000 })).rejects.toBeInstanceOf(DockerUnavailableError);
    });

    it('ends a call the engine does not answer at its deadline with DockerUnavailableError', async () => {
      const started = Date.now();
      const error = await engine()
        .inspect('hang', { timeoutMs: 200 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DockerUnavailableError);
      expect((error as Error).message).toMatch(/no answer to looking up the image "hang" within 200 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it('closes the socket of a call the engine does not answer once its deadline has passed', async () => {
    const silent = path.join(dir, 'silent.sock');
    let closed = 0;
    const hung = http.createServer((req) => req.socket.on('close', () => closed++));
    await new Promise<void>((resolve) => hung.listen(silent, resolve));
    try {
      const engine = new DockerEngine({ env: { DOCKER_HOST: `unix://${silent}` } });
      await expect(engine.push('app', '1', {}, { timeoutMs: 200 })).rejects.toBeInstanceOf(DockerUnavailableError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).toBe(1);
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  });

  it('finds where a local engine keeps its images', async () => {
    const engine = new DockerEngine({ env: { DOCKER_HOST: `unix://${socket}` } });
    await expect(engine.localStore({})).resolves.toEqual({ root: '/var/lib/docker', driver: 'overlay2' });
  });

  it('does not ask the engine where it keeps images of a driver whose layers dockpush cannot find', async () => {
    const engine = new DockerEngine({ env: { DOCKER_HOST: `unix://${socket}` } });
    requests.length = 0;
    await expect(engine.localStore({}, 'overlayfs')).resolves.toBeUndefined();
    await expect(engine.localStore({}, 'btrfs')).resolves.toBeUndefined();
    expect(requests).toEqual([]);
  });

  it('speaks to an engine on a socket without loading dockerode', async () => {
    jest.resetModules();
    jest.doMock('dockerode', () => {
      throw new Error('dockerode was loaded');
    });
    try {
      const { DockerEngine: Fresh } = require('./docker-engine') as typeof import('./docker-engine');
      const engine = new Fresh({ env: { DOCKER_HOST: `unix://${socket}` } });
      await engine.ping({});
      await engine.inspect('app:1', {});
      await engine.tag('sha256:abc', 'localhost:5000/app', '1', {});
      await text(await engine.push('localhost:5000/app', '1', {}, {}));
      await engine.untag('app:1', {});
      await text(await engine.export('app:1', {}));
      await engine.localStore({});
    } finally {
      jest.dontMock('dockerode');
      jest.resetModules();
    }
  });
});
