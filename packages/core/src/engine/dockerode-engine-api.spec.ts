import type { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { FAKE_ENGINE_IMAGE, FAKE_PUSH_PROGRESS, startFakeDockerEngine, type FakeDockerEngine } from '../testing';
import { dockerodeEngineApi } from './dockerode-engine-api';
import { engineApi, type EngineApi } from './engine-api';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** What a caller may read of a failure. */
function failureOf(error: unknown): Record<string, unknown> {
  const e = error as Error & { statusCode?: number; json?: unknown };
  return { type: e.constructor.name, name: e.name, message: e.message, statusCode: e.statusCode, json: e.json };
}

describe('dockerodeEngineApi: the engine API through dockerode, answering as the direct client does', () => {
  let fake: FakeDockerEngine;
  beforeAll(async () => {
    fake = await startFakeDockerEngine();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });
  afterAll(() => fake.close());

  const direct = (): EngineApi => engineApi({ DOCKER_HOST: fake.dockerHost }) as EngineApi;
  const throughDockerode = (): EngineApi => dockerodeEngineApi(() => new Dockerode({ socketPath: fake.socketPath }));

  describe.each([
    ['directly', direct],
    ['through dockerode', throughDockerode],
  ])('%s', (_how, api) => {
    it('pings, inspects, reads the info and streams an export', async () => {
      await api().ping();
      expect(await api().inspect('localhost:5000/app:1')).toEqual(FAKE_ENGINE_IMAGE);
      expect(await api().info()).toMatchObject({ DockerRootDir: '/var/lib/docker', Driver: 'overlay2' });
      expect(await text(await api().export('sha256:abc'))).toBe('TAR BYTES');
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'GET /_ping',
        'GET /images/localhost:5000/app:1/json',
        'GET /info',
        'GET /images/sha256:abc/get',
      ]);
    });

    it('tags, and untags without pruning', async () => {
      await api().tag('sha256:abc', 'localhost:5000/app', '1.0');
      await api().untag('localhost:5000/app:1');
      expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /images/sha256:abc/tag?repo=localhost%3A5000%2Fapp&tag=1.0',
        'DELETE /images/localhost:5000/app:1?noprune=true',
      ]);
    });

    it('pushes the one tag asked for, with the auth config in X-Registry-Auth, and hands back the raw progress', async () => {
      const authconfig = { username: 'ci', password: 'p+a/s?s=w>o~r~d', serveraddress: 'localhost:5000' };
      expect(await text(await api().push('localhost:5000/app', '1', authconfig))).toBe(FAKE_PUSH_PROGRESS);
      const [request] = fake.requests;
      expect(`${request?.method} ${request?.url}`).toBe('POST /images/localhost:5000/app/push?tag=1');
      const header = String(request?.headers['x-registry-auth']);
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual(authconfig);
    });

    it('abandons a tag the engine does not answer when its signal aborts, closing the connection', async () => {
      const controller = new AbortController();
      const pending = api().tag('hang', 'localhost:5000/app', '1', { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('stopped by the test')), 50);
      await expect(pending).rejects.toThrow('stopped by the test');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const open = await new Promise<number>((resolve, reject) =>
        fake.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
      expect(open).toBe(0);
    });
  });

  it.each<[string, (api: EngineApi) => Promise<unknown>]>([
    ['an image the engine does not have', (api) => api.inspect('missing:1')],
    ['a tag of an image it does not have', (api) => api.tag('sha256:none', 'localhost:5000/app', '1')],
    ['an untag', (api) => api.untag('missing:1')],
    ['an export', (api) => api.export('missing:1')],
    ['a push of a tag it does not have', (api) => api.push('localhost:5000/app', '2', {})],
    ['a JSON error on a push', (api) => api.push('broken', '1', {})],
    ['a JSON error on an inspect', (api) => api.inspect('broken')],
    ['a text error on an export', (api) => api.export('plain')],
    ['a text error on an inspect', (api) => api.inspect('plain')],
    ['an error without a body on a push', (api) => api.push('silent', '1', {})],
    ['an error without a body on an inspect', (api) => api.inspect('silent')],
  ])('fails on %s as the direct client does', async (_what, call) => {
    const expected = failureOf(await call(direct()).catch((e: unknown) => e));
    expect(expected).toMatchObject({ type: 'EngineApiError', statusCode: expect.any(Number) });
    expect(failureOf(await call(throughDockerode()).catch((e: unknown) => e))).toEqual(expected);
  });

  it('fails with the socket error (its code) when no engine listens', async () => {
    const nowhere = dockerodeEngineApi(() => new Dockerode({ socketPath: `${fake.socketPath ?? ''}.absent` }));
    await expect(nowhere.ping()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes its dockerode client on the first request, once', async () => {
    const connect = jest.fn(() => new Dockerode({ socketPath: fake.socketPath }));
    const api = dockerodeEngineApi(connect);
    expect(connect).not.toHaveBeenCalled();
    await api.ping();
    await api.inspect('app:1');
    expect(connect).toHaveBeenCalledTimes(1);
  });
});
