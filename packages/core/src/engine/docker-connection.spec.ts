import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerUnavailableError } from '../errors';
import { createDockerClient } from './docker-client';
import { dockerConnection } from './docker-connection';

describe('dockerConnection: where the engine is, from the env given', () => {
  it.each([
    ['no DOCKER_HOST', {}, { socketPath: '/var/run/docker.sock', host: undefined }],
    [
      'a unix socket',
      { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' },
      { socketPath: '/run/user/1000/docker.sock' },
    ],
    ['tcp', { DOCKER_HOST: 'tcp://10.0.0.5:2375' }, { host: '10.0.0.5', port: '2375', protocol: 'http' }],
    ['host:port', { DOCKER_HOST: 'engine.local:2375' }, { host: 'engine.local', port: '2375', protocol: 'http' }],
    ['port 2376 (TLS)', { DOCKER_HOST: 'tcp://engine:2376' }, { host: 'engine', protocol: 'https' }],
    [
      'DOCKER_TLS_VERIFY=1',
      { DOCKER_HOST: 'tcp://engine:4243', DOCKER_TLS_VERIFY: '1' },
      { host: 'engine', port: '4243', protocol: 'https' },
    ],
    [
      'ssh',
      { DOCKER_HOST: 'ssh://deploy@engine', SSH_AUTH_SOCK: '/tmp/agent' },
      { protocol: 'ssh', username: 'deploy' },
    ],
  ])('%s', (_name, env, expected) => {
    const options = dockerConnection(env);
    expect(options).toMatchObject(expected);
    // Every field is set, so docker-modem takes none from process.env.
    expect(Object.keys(options)).toEqual(expect.arrayContaining(['socketPath', 'host', 'port', 'protocol', 'ca']));
  });

  it('reads the TLS files from DOCKER_CERT_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockpush-certs-'));
    for (const name of ['ca', 'cert', 'key']) writeFileSync(join(dir, `${name}.pem`), `${name} of the engine`);
    const options = dockerConnection({ DOCKER_HOST: 'tcp://engine:2376', DOCKER_CERT_PATH: dir });
    expect(String(options.ca)).toBe('ca of the engine');
    expect(String(options.cert)).toBe('cert of the engine');
    expect(String(options.key)).toBe('key of the engine');
  });

  it('a DOCKER_HOST that is not a URL is a DockerUnavailableError saying how to write one, without quoting it', () => {
    const error = (() => {
      try {
        return dockerConnection({ DOCKER_HOST: 'tcp://user:s3cret@[bad' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toMatch(/DOCKER_HOST .*it is not a URL; set it like tcp:\/\/localhost:2376/);
    expect((error as Error).message).not.toContain('s3cret');
  });
});

describe('createDockerClient', () => {
  const saved = process.env.DOCKER_HOST;
  afterEach(() => {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  });

  it("talks to the engine named by the env it is given, not the process's DOCKER_HOST", async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'dockpush-engine-')), 'engine.sock');
    const server = createServer((_req, res) => res.end('OK'));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:9';
    try {
      const docker = createDockerClient({ timeoutMs: 2000 }, { DOCKER_HOST: `unix://${socket}` });
      expect(String(await docker.ping())).toBe('OK');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Loading dockerode takes a while on a busy machine.
  }, 20_000);
});
