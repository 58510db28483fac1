import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import { DockerEngine } from './docker-engine';

/** A fake engine: an HTTP server on a unix socket, answering what the engine API answers. */
describe('DockerEngine: the engine port over the engine API', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  const requests: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-engine-port-'));
    socket = path.join(dir, 'docker.sock');
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = req.url ?? '';
      if (url.startsWith('/_ping') || url.includes('/hang')) {
        if (url.includes('/hang') || req.headers['x-hang']) return; // never answers
        res.end('OK');
      } else if (url.startsWith('/images/app:1/json') || url.startsWith('/images/app%3A1/json')) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ Id: 'sha256:abc', RepoTags: ['app:1'] }));
      } else if (url.startsWith('/images/app%3A1/get') || url.startsWith('/images/app:1/get')) {
        res.end('TAR BYTES');
      } else if (req.method === 'DELETE' && url.startsWith('/images/app:1')) {
        res.setHeader('Content-Type', 'application/json');
        res.end('[{"Untagged":"app:1"}]');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"No such image"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const engine = () =>
    new DockerEngine({ docker: new Dockerode({ socketPath: socket }), env: { DOCKER_HOST: `unix://${socket}` } });

  it('inspects an image', async () => {
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
    await expect(engine().tag('sha256:none', 'localhost:5000/app', '1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(engine().untag('missing:1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(engine().export('missing:1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('removes a tag without pruning the image', async () => {
    await engine().untag('app:1', {});
    expect(requests).toContain('DELETE /images/app:1?noprune=true');
  });

  it('exports over the engine API directly when it made no dockerode client', async () => {
    const direct = new DockerEngine({ env: { DOCKER_HOST: `unix://${socket}` } });
    const chunks: Buffer[] = [];
    for await (const chunk of (await direct.export('app:1', {})) as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('TAR BYTES');
    await expect(direct.export('missing:1', {})).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('maps no engine at the socket to DockerUnavailableError naming DOCKER_HOST', async () => {
    const nowhere = path.join(dir, 'nothing.sock');
    const absent = new DockerEngine({
      docker: new Dockerode({ socketPath: nowhere }),
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
