import { RegistryAuthError } from '../../packages/core/src/errors';
import Dockerode from 'dockerode';
import { DockerArchiveSource } from '../../packages/core/src/image-source/docker-archive-source';
import { pushToRegistry } from '../../packages/core/src/registry/registry-push';
import { createTestImage, removeImage } from '../support/images';
import { freshCacheDir, saveImage } from '../support/registry-engine';
import { startTokenRegistry, type TokenRegistry } from '../support/token-registry';

/** Bearer-token authentication against registry:2 with `auth: token` and a loopback token server. */
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-regengine-token:${unique}`;
let registry: TokenRegistry;
let archive: string;

beforeAll(async () => {
  registry = await startTokenRegistry('bearer');
  await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
  archive = saveImage(sourceRef);
});

afterAll(async () => {
  await registry?.close();
  await removeImage(docker, sourceRef);
});

/** The registry's tag list, read with a token of our own (the test's, not the engine's). */
async function tagsOf(repo: string): Promise<string[]> {
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  const tokenUrl = `${registry.realm}?service=${registry.service}&scope=repository:${repo}:pull`;
  const { token } = (await (await fetch(tokenUrl, { headers: { Authorization: `Basic ${auth}` } })).json()) as {
    token: string;
  };
  const res = await fetch(`http://${registry.host}/v2/${repo}/tags/list`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return res.status === 404 ? [] : (((await res.json()) as { tags?: string[] }).tags ?? []);
}

describe('registry engine, Bearer tokens', () => {
  it('gets a token for pull,push on the repository with the user and password, and pushes', async () => {
    const repo = `team/token-basic-${unique}`;
    registry.requests.length = 0;
    const result = await pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: registry.host, path: repo },
      tags: ['latest'],
      credentials: { get: async () => ({ username: registry.username, password: registry.password }) },
      cacheDir: freshCacheDir(),
    });
    expect(await tagsOf(repo)).toEqual(['latest']);
    expect(result.pushed[0]?.digest).toMatch(/^sha256:/);
    expect(registry.requests[0]).toEqual({
      method: 'GET',
      service: registry.service,
      scopes: [`repository:${repo}:pull,push`],
      credential: 'basic',
      granted: true,
    });
  });

  it('uses an identity token as a refresh token (POST grant_type=refresh_token)', async () => {
    const repo = `token-refresh-${unique}`;
    registry.requests.length = 0;
    await pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: registry.host, path: repo },
      tags: ['1'],
      credentials: { get: async () => ({ identityToken: registry.identityToken }) },
      cacheDir: freshCacheDir(),
    });
    expect(registry.requests.map((r) => [r.method, r.credential, r.scopes])).toEqual([
      ['POST', 'refresh_token', [`repository:${repo}:pull,push`]],
    ]);
    expect(await tagsOf(repo)).toEqual(['1']);
  });

  it('asks for pull on a mount source, and mounts from it', async () => {
    const cacheDir = freshCacheDir();
    const credentials = { get: async () => ({ username: registry.username, password: registry.password }) };
    const push = (repo: string) =>
      pushToRegistry({
        source: new DockerArchiveSource(archive),
        repository: { registry: registry.host, path: repo },
        tags: ['latest'],
        credentials,
        cacheDir,
      });
    await push(`token-first-${unique}`);
    registry.requests.length = 0;
    await push(`token-second-${unique}`);
    expect(registry.requests[0]?.scopes).toEqual([
      `repository:token-second-${unique}:pull,push`,
      `repository:token-first-${unique}:pull`,
    ]);
    expect(await tagsOf(`token-second-${unique}`)).toEqual(['latest']);
  });

  it('without credentials gets an anonymous token, and fails saying the push was refused', async () => {
    const repo = `token-anonymous-${unique}`;
    const push = pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: registry.host, path: repo },
      tags: ['latest'],
      cacheDir: freshCacheDir(),
      retries: 0,
    });
    await expect(push).rejects.toThrow(RegistryAuthError);
    await expect(push).rejects.toThrow(
      /Cannot authenticate to 127\.0\.0\.1:\d+: it refused anonymous access .*Log in to it or give credentials/,
    );
    expect(registry.requests.some((r) => r.credential === 'anonymous')).toBe(true);
  });

  it('a wrong password fails at the token service, and the password appears nowhere', async () => {
    const wrong = `wrong-${unique}-secret`;
    const push = pushToRegistry({
      source: new DockerArchiveSource(archive),
      repository: { registry: registry.host, path: `token-wrong-${unique}` },
      tags: ['latest'],
      credentials: { get: async () => ({ username: registry.username, password: wrong }) },
      cacheDir: freshCacheDir(),
    });
    const error = await push.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error?.message).toMatch(/token service refused the credentials \(401\)/);
    expect(error?.message).not.toContain(wrong);
    expect(error?.message).not.toContain(Buffer.from(`${registry.username}:${wrong}`).toString('base64'));
  });
});
