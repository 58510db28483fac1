import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FAKE_ENGINE_IMAGE, FAKE_PUSH_PROGRESS, startFakeDockerEngine, type FakeDockerEngine } from '../testing';
import { EngineApiError, engineApi, registryAuthHeader } from './engine-api';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('engineApi: the engine HTTP API over a unix socket', () => {
  let engine: FakeDockerEngine;
  const api = () => {
    const client = engineApi({ DOCKER_HOST: engine.dockerHost });
    if (!client) throw new Error('no client for a unix socket');
    return client;
  };

  beforeAll(async () => {
    engine = await startFakeDockerEngine();
  });
  beforeEach(() => {
    engine.requests.length = 0;
  });
  afterAll(() => engine.close());

  it('pings, inspects, reads the info and streams an export', async () => {
    await api().ping();
    expect(await api().inspect('localhost:5000/app:1')).toEqual(FAKE_ENGINE_IMAGE);
    expect(await api().info()).toEqual({ DockerRootDir: '/var/lib/docker', Driver: 'overlay2' });
    expect(await text(await api().export('sha256:abc'))).toBe('TAR BYTES');
    expect(engine.requests.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /_ping',
      'GET /images/localhost:5000/app:1/json',
      'GET /info',
      'GET /images/sha256:abc/get',
    ]);
  });

  it('tags with repo and tag in the query, and untags without pruning', async () => {
    await api().tag('sha256:abc', 'localhost:5000/app', '1.0');
    await api().untag('localhost:5000/app:1');
    expect(engine.requests.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /images/sha256:abc/tag?repo=localhost%3A5000%2Fapp&tag=1.0',
      'DELETE /images/localhost:5000/app:1?noprune=true',
    ]);
    expect(engine.requests.map((s) => s.headers['content-length'])).toEqual(['0', '0']);
  });

  it('pushes one tag with X-Registry-Auth holding the auth config, and hands back the progress stream', async () => {
    const authconfig = { username: 'ci', password: 'p+a/s?s=w>o~r~d', serveraddress: 'localhost:5000' };
    const stream = await api().push('localhost:5000/app', '1', authconfig);
    expect(await text(stream)).toBe(FAKE_PUSH_PROGRESS);
    const [request] = engine.requests;
    expect(`${request?.method} ${request?.url}`).toBe('POST /images/localhost:5000/app/push?tag=1');
    const header = String(request?.headers['x-registry-auth']);
    // base64 with the URL alphabet, as docker-modem sends it and the engine decodes it.
    expect(header).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual(authconfig);
  });

  it.each([
    [{}, 'e30='],
    [{ identitytoken: 'tok', serveraddress: 'r' }, 'eyJpZGVudGl0eXRva2VuIjoidG9rIiwic2VydmVyYWRkcmVzcyI6InIifQ=='],
    // JSON whose base64 has + and / in the standard alphabet: - and _ instead, padding kept.
    [
      { username: '>>>', password: '???', serveraddress: 'x' },
      'eyJ1c2VybmFtZSI6Ij4-PiIsInBhc3N3b3JkIjoiPz8_Iiwic2VydmVyYWRkcmVzcyI6IngifQ==',
    ],
  ])('encodes the auth config %j as %s', (authconfig, header) => {
    expect(registryAuthHeader(authconfig as Parameters<typeof registryAuthHeader>[0])).toBe(header);
  });

  it("keeps the engine's status and message on an error answer", async () => {
    const notFound = await api()
      .inspect('missing:1')
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(EngineApiError);
    expect(notFound).toMatchObject({
      statusCode: 404,
      json: { message: 'No such image: missing:1' },
      message: 'inspecting missing:1: No such image: missing:1 (HTTP 404)',
    });
    await expect(api().push('broken', '1', {})).rejects.toMatchObject({
      statusCode: 500,
      json: { message: 'layer store is broken' },
    });
    await expect(api().export('plain')).rejects.toMatchObject({
      statusCode: 500,
      json: { message: 'plain text trouble' },
    });
    // No body: the status stands for the message, where the tag pusher shows it.
    await expect(api().push('silent', '1', {})).rejects.toMatchObject({
      statusCode: 500,
      json: { message: 'HTTP 500' },
      message: expect.stringContaining('no message (HTTP 500)'),
    });
  });

  it('never puts the auth header in an error', async () => {
    const authconfig = { username: 'ci', password: 'never-shown-s3cret', serveraddress: 'localhost:5000' };
    const error = (await api()
      .push('broken', '1', authconfig)
      .catch((e: unknown) => e)) as Error;
    const shown = `${error.message} ${String(error.stack)} ${JSON.stringify(error)}`;
    expect(shown).not.toContain('never-shown-s3cret');
    expect(shown).not.toContain(registryAuthHeader(authconfig));
  });

  it('sends each request on a connection of its own, never on a kept-alive socket the engine may have closed', async () => {
    let connections = 0;
    const count = () => connections++;
    engine.server.on('connection', count);
    try {
      await api().ping();
      await api().inspect('localhost:5000/app:1');
      await api().ping();
    } finally {
      engine.server.off('connection', count);
    }
    expect(connections).toBe(3);
    expect(engine.requests.map((s) => s.headers.connection)).toEqual(['close', 'close', 'close']);
  });

  it('rejects with the socket error (its code) when no engine listens', async () => {
    const nowhere = engineApi({
      DOCKER_HOST: `unix://${path.join(os.tmpdir(), `dockpush-nothing-${process.pid}.sock`)}`,
    });
    await expect(nowhere?.ping()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('closes the socket of an engine that stays silent past the socket timeout', async () => {
    const started = Date.now();
    await expect(api().inspect('hang', { socketTimeoutMs: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('aborts a request on its signal, with the signal’s reason', async () => {
    const controller = new AbortController();
    const pending = api().inspect('hang', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped by the test')), 50);
    await expect(pending).rejects.toThrow('stopped by the test');
    const before = new AbortController();
    before.abort(new Error('already stopped'));
    await expect(api().ping({ signal: before.signal })).rejects.toThrow('already stopped');
  });

  it('leaves an answered stream alone when the signal aborts later', async () => {
    const controller = new AbortController();
    const stream = await api().export('sha256:abc', { signal: controller.signal });
    controller.abort();
    expect(await text(stream)).toBe('TAR BYTES');
  });
});

describe('engineApi: where the engine is', () => {
  it('speaks plain TCP to a tcp:// DOCKER_HOST', async () => {
    const engine = await startFakeDockerEngine('tcp');
    try {
      await engineApi({ DOCKER_HOST: engine.dockerHost })?.ping();
      expect(engine.requests.map((s) => s.url)).toEqual(['/_ping']);
      // The engine's own host, not the socket's placeholder.
      expect(engine.requests[0]?.headers.host).toBe(engine.dockerHost.slice('tcp://'.length));
    } finally {
      await engine.close();
    }
  });

  it.each([
    [{ DOCKER_HOST: 'ssh://user@host' }],
    [{ DOCKER_HOST: 'tcp://host:2375', DOCKER_TLS_VERIFY: '1' }],
    [{ DOCKER_HOST: 'tcp://host:2376' }],
    [{ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }],
    [{ DOCKER_HOST: 'tcp://user:s3cret@[bad' }],
  ])('leaves %j to dockerode', (env) => {
    expect(engineApi(env)).toBeUndefined();
  });
});
