import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import { FAKE_ENGINE_IMAGE, FAKE_PUSH_PROGRESS, startFakeDockerEngine, type FakeDockerEngine } from '../testing';
import { DockerEngine } from './docker-engine';

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe('DockerEngine: the engine port over the engine API', () => {
  let fake: FakeDockerEngine;
  let socket: string;
  const requests = () => fake.requests.map((r) => `${r.method} ${r.url}`);
  beforeAll(async () => {
    fake = await startFakeDockerEngine();
    socket = fake.socketPath ?? '';
  });
  afterEach(() => {
    fake.requests.length = 0;
  });
  afterAll(() => fake.close());

  describe.each([
    ['directly', () => new DockerEngine({ env: { DOCKER_HOST: fake.dockerHost } })],
    [
      'through a dockerode client given',
      () => new DockerEngine({ docker: new Dockerode({ socketPath: socket }), env: { DOCKER_HOST: fake.dockerHost } }),
    ],
  ])('%s', (_how, engine) => {
    it('pings, and inspects an image', async () => {
      await engine().ping({});
      await expect(engine().inspect('app:1', {})).resolves.toEqual(FAKE_ENGINE_IMAGE);
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
      expect(requests()).toContain('DELETE /images/app:1?noprune=true');
      expect(requests().some((r) => r.startsWith('POST /images/sha256:abc/tag?'))).toBe(true);
    });

    it('streams an export', async () => {
      expect(await text(await engine().export('app:1', {}))).toBe('TAR BYTES');
    });

    it('pushes a tag: the progress stream, and the auth config in X-Registry-Auth', async () => {
      const authconfig = { username: 'ci', password: 'p?s>s', serveraddress: 'localhost:5000' };
      const stream = await engine().push('localhost:5000/app', '1', authconfig, {});
      expect(await text(stream)).toBe(FAKE_PUSH_PROGRESS);
      const header = String(fake.requests[0]?.headers['x-registry-auth']);
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual(authconfig);
    });

    it("keeps the engine's status and message on a failed push, for the tag pusher to classify", async () => {
      const error = await engine()
        .push('broken', '1', {}, {})
        .catch((e: unknown) => e);
      // What the tag pusher reads of it.
      const e = error as { statusCode?: number; message: string; json?: { message?: string } | null };
      expect(e.statusCode).toBe(500);
      expect(e.json?.message ?? e.message).toContain('layer store is broken');
    });

    it('maps no engine at the socket to DockerUnavailableError naming DOCKER_HOST', async () => {
      const nowhere = path.join(os.tmpdir(), `dockpush-nothing-${process.pid}.sock`);
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
    let closed = 0;
    const count = (connection: NodeJS.EventEmitter) => connection.on('close', () => closed++);
    fake.server.on('connection', count);
    try {
      const engine = new DockerEngine({ env: { DOCKER_HOST: fake.dockerHost } });
      await expect(engine.push('hang', '1', {}, { timeoutMs: 200 })).rejects.toBeInstanceOf(DockerUnavailableError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).toBe(1);
    } finally {
      fake.server.off('connection', count);
    }
  });

  it('finds where a local engine keeps its images', async () => {
    const engine = new DockerEngine({ env: { DOCKER_HOST: fake.dockerHost } });
    await expect(engine.localStore({})).resolves.toEqual({ root: '/var/lib/docker', driver: 'overlay2' });
  });

  it('does not ask the engine where it keeps images of a driver whose layers dockpush cannot find', async () => {
    const engine = new DockerEngine({ env: { DOCKER_HOST: fake.dockerHost } });
    await expect(engine.localStore({}, 'overlayfs')).resolves.toBeUndefined();
    await expect(engine.localStore({}, 'btrfs')).resolves.toBeUndefined();
    expect(requests()).toEqual([]);
  });

  it('reads no store of an engine spoken to through dockerode or over TCP', async () => {
    const throughDockerode = new DockerEngine({
      docker: new Dockerode({ socketPath: socket }),
      env: { DOCKER_HOST: fake.dockerHost },
    });
    await expect(throughDockerode.localStore({})).resolves.toBeUndefined();
    expect(requests()).toEqual([]);
    const tcp = await startFakeDockerEngine('tcp');
    try {
      await expect(new DockerEngine({ env: { DOCKER_HOST: tcp.dockerHost } }).localStore({})).resolves.toBeUndefined();
      expect(tcp.requests).toEqual([]);
    } finally {
      await tcp.close();
    }
  });

  it.each([
    ['ssh://', { DOCKER_HOST: 'ssh://ci@build-host' }, { protocol: 'ssh', host: 'build-host', username: 'ci' }],
    ['TLS on port 2376', { DOCKER_HOST: 'tcp://build-host:2376' }, { protocol: 'https', host: 'build-host' }],
    [
      'DOCKER_TLS_VERIFY',
      { DOCKER_HOST: 'tcp://build-host:2375', DOCKER_TLS_VERIFY: '1' },
      { protocol: 'https', host: 'build-host' },
    ],
  ])('speaks to an engine over %s through a dockerode client made on the first call', async (_how, env, client) => {
    const made: unknown[] = [];
    jest.resetModules();
    jest.doMock(
      'dockerode',
      () =>
        class {
          constructor(options: unknown) {
            made.push(options);
          }
          ping = async () => 'OK';
        },
    );
    try {
      const { DockerEngine: Fresh } = require('./docker-engine') as typeof import('./docker-engine');
      const engine = new Fresh({ env });
      expect(made).toEqual([]);
      await engine.ping({});
      await engine.ping({});
      expect(made).toEqual([expect.objectContaining(client)]);
      await expect(engine.localStore({})).resolves.toBeUndefined();
    } finally {
      jest.dontMock('dockerode');
      jest.resetModules();
    }
  });

  it('speaks to an engine on a socket without loading dockerode', async () => {
    jest.resetModules();
    jest.doMock('dockerode', () => {
      throw new Error('dockerode was loaded');
    });
    try {
      const { DockerEngine: Fresh } = require('./docker-engine') as typeof import('./docker-engine');
      const engine = new Fresh({ env: { DOCKER_HOST: fake.dockerHost } });
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
