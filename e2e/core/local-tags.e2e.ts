import Dockerode from 'dockerode';
import { ImageNotFoundError, PushFailedError, pushImage, type PushResult } from '@dockpush/core';
import { cleanUserEnv, runAdapter } from '../support/all-adapters-project';
import { loadE2eEnv } from '../support/env';
import { FaultProxy } from '../support/fault-proxy';
import { createTestImage, removeImage } from '../support/images';
import { configDigest, listTags } from '../support/registry-api';

/**
 * The `<repo>:<tag>` tags dockpush makes for `source` are the means of the push, not its
 * result: they are gone afterwards, pushed or not, unless asked to keep them; tags the user
 * had made before are never touched. The registry engine makes none, unless asked to keep
 * them; without a source it pushes each tag's own local image, as `docker push` does. Proven
 * against the real engine's image store.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-local-tags:${unique}`;
const name = (n: string) => `local-tags-${n}-${unique}`;
const cleanup: string[] = [];

/** `dockpush push --repo REPO --source <the source> -t 1 --keep-local-tags`, plus `flags`. */
const keepLocalTagsWithCli = (repo: string, ...flags: string[]) =>
  runAdapter('cli', ['push', ...flags, '--repo', repo, '--source', sourceRef, '-t', '1', '--keep-local-tags']);

/** The local tags of `repo` in the engine, sorted. */
async function localTagsOf(repo: string): Promise<string[]> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${repo}:*`] }) });
  return images
    .flatMap((i) => i.RepoTags ?? [])
    .filter((t) => t.startsWith(`${repo}:`))
    .sort();
}

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 1, bytesPerLayer: 16 * 1024 });
}, 600_000);

afterAll(async () => {
  for (const ref of [...cleanup, sourceRef]) await removeImage(docker, ref);
});

it('removes the tags it made after a push, and the push landed', async () => {
  const repo = `${env.plain.host}/${name('pushed')}`;
  cleanup.push(`${repo}:1`, `${repo}:2`);
  await pushImage({ repo, source: sourceRef, tags: ['1', '2'] }, { docker, env: cleanUserEnv() });
  expect((await listTags(env.plain.host, name('pushed'))).sort()).toEqual(['1', '2']);
  expect(await localTagsOf(repo)).toEqual([]);
  // The source image itself is untouched.
  expect((await docker.getImage(sourceRef).inspect()).RepoTags).toContain(sourceRef);
});

it('removes the tags it made after a failed push', async () => {
  const repo = `127.0.0.1:1/${name('failed')}`;
  cleanup.push(`${repo}:1`);
  await expect(
    pushImage({ repo, source: sourceRef, tags: ['1'], retries: 0 }, { docker, env: cleanUserEnv() }),
  ).rejects.toBeInstanceOf(PushFailedError);
  expect(await localTagsOf(repo)).toEqual([]);
});

it('keeps a tag that was there before the push', async () => {
  const repo = `${env.plain.host}/${name('preexisting')}`;
  cleanup.push(`${repo}:mine`, `${repo}:new`);
  await docker.getImage(sourceRef).tag({ repo, tag: 'mine' });
  await pushImage({ repo, source: sourceRef, tags: ['mine', 'new'] }, { docker, env: cleanUserEnv() });
  expect(await localTagsOf(repo)).toEqual([`${repo}:mine`]);
});

it('keeps them with keepLocalTags (API) and --keep-local-tags (CLI)', async () => {
  const apiRepo = `${env.plain.host}/${name('keep-api')}`;
  const cliRepo = `${env.plain.host}/${name('keep-cli')}`;
  cleanup.push(`${apiRepo}:1`, `${cliRepo}:1`);
  await pushImage(
    { repo: apiRepo, source: sourceRef, tags: ['1'], keepLocalTags: true },
    { docker, env: cleanUserEnv() },
  );
  expect(await localTagsOf(apiRepo)).toEqual([`${apiRepo}:1`]);

  const run = await keepLocalTagsWithCli(cliRepo);
  expect(run.status).toBe(0);
  expect(await localTagsOf(cliRepo)).toEqual([`${cliRepo}:1`]);
});

it('removes them through the CLI by default', async () => {
  const repo = `${env.plain.host}/${name('cli')}`;
  cleanup.push(`${repo}:1`);
  const run = await runAdapter('cli', ['push', '--repo', repo, '--source', sourceRef, '-t', '1']);
  expect(run.status).toBe(0);
  expect(await listTags(env.plain.host, name('cli'))).toEqual(['1']);
  expect(await localTagsOf(repo)).toEqual([]);
});

describe('the registry engine', () => {
  let otherRef: string;
  let sourceId: string;
  let otherId: string;
  beforeAll(async () => {
    otherRef = `dockpush-e2e-local-tags-other:${unique}`;
    ({ id: otherId } = await createTestImage(docker, otherRef, { layers: 1, bytesPerLayer: 16 * 1024 }));
    sourceId = (await docker.getImage(sourceRef).inspect()).Id;
  }, 600_000);
  afterAll(async () => {
    await removeImage(docker, otherRef);
  });

  it('makes no local tag, and tags the source with keepLocalTags (API) and --keep-local-tags (CLI)', async () => {
    const [plain, apiRepo, cliRepo] = ['reg-none', 'reg-keep-api', 'reg-keep-cli'].map(
      (n) => `${env.plain.host}/${name(n)}`,
    ) as [string, string, string];
    cleanup.push(`${apiRepo}:1`, `${apiRepo}:2`, `${cliRepo}:1`);
    await pushImage({ repo: plain, source: sourceRef, tags: ['1'], engine: 'registry' }, { env: cleanUserEnv() });
    expect(await listTags(env.plain.host, name('reg-none'))).toEqual(['1']);
    expect(await localTagsOf(plain)).toEqual([]);

    await pushImage(
      { repo: apiRepo, source: sourceRef, tags: ['1', '2'], engine: 'registry', keepLocalTags: true },
      { env: cleanUserEnv() },
    );
    expect(await localTagsOf(apiRepo)).toEqual([`${apiRepo}:1`, `${apiRepo}:2`]);
    expect((await docker.getImage(`${apiRepo}:2`).inspect()).Id).toBe(sourceId);

    const run = await keepLocalTagsWithCli(cliRepo, '--engine', 'registry');
    expect(run.status).toBe(0);
    expect(run.output).toContain(`tagged ${sourceRef} as ${cliRepo}:1`);
    expect(await localTagsOf(cliRepo)).toEqual([`${cliRepo}:1`]);
  });

  it.each(['registry', 'docker'] as const)(
    "without a source, pushes each tag's own local image, as docker push does, and says which (%s engine)",
    async (engine) => {
      const repo = `${env.plain.host}/${name(`each-${engine}`)}`;
      cleanup.push(`${repo}:a`, `${repo}:b`, `${repo}:c`);
      await docker.getImage(sourceRef).tag({ repo, tag: 'a' });
      await docker.getImage(otherRef).tag({ repo, tag: 'b' });
      await docker.getImage(sourceRef).tag({ repo, tag: 'c' });
      const result = (await pushImage({ repo, tags: ['a', 'b', 'c'], engine }, { env: cleanUserEnv() })) as PushResult;
      expect(result.pushed.map((p) => [p.tag, p.imageId])).toEqual([
        ['a', sourceId],
        ['b', otherId],
        ['c', sourceId],
      ]);
      expect(result.image.id).toBe(sourceId);
      const configs = await Promise.all(
        ['a', 'b', 'c'].map((t) => configDigest(env.plain.host, name(`each-${engine}`), t)),
      );
      expect(configs).toEqual([sourceId, otherId, sourceId]);
    },
  );

  it("without a source, a tag the registry refuses fails alone: the other images' tags are pushed", async () => {
    const proxy = await FaultProxy.start(env.plain.host);
    try {
      const repo = `${proxy.host}/${name('reg-partial')}`;
      cleanup.push(`${repo}:a`, `${repo}:b`, `${repo}:c`);
      await docker.getImage(sourceRef).tag({ repo, tag: 'a' });
      await docker.getImage(otherRef).tag({ repo, tag: 'b' });
      await docker.getImage(sourceRef).tag({ repo, tag: 'c' });
      proxy.setFaults([
        {
          method: 'PUT',
          path: /\/manifests\/a$/,
          action: { kind: 'status', status: 500, code: 'UNKNOWN', message: 'disk full' },
        },
      ]);
      const error = await pushImage(
        { repo, tags: ['a', 'b', 'c'], engine: 'registry', retries: 0 },
        { env: cleanUserEnv() },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushFailedError);
      expect((error as PushFailedError).outcomes.map((o) => [o.tag, o.status])).toEqual([
        ['a', 'failed'],
        ['b', 'pushed'],
        ['c', 'pushed'],
      ]);
      // The tags that landed say which image each carries.
      expect((error as PushFailedError).pushed.map((o) => [o.tag, o.imageId])).toEqual([
        ['b', otherId],
        ['c', sourceId],
      ]);
      expect((await listTags(env.plain.host, name('reg-partial'))).sort()).toEqual(['b', 'c']);
    } finally {
      await proxy.close();
    }
  });

  it('without a source, fails on a missing local tag before anything is pushed, naming it', async () => {
    const repo = `${env.plain.host}/${name('reg-missing')}`;
    cleanup.push(`${repo}:1`);
    await docker.getImage(sourceRef).tag({ repo, tag: '1' });
    const error = await pushImage({ repo, tags: ['1', '2'], engine: 'registry' }, { env: cleanUserEnv() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as Error).message).toContain(`No local image "${repo}:2"`);
    expect((error as Error).message).toContain('Nothing was pushed');
    expect(await listTags(env.plain.host, name('reg-missing'))).toEqual([]);
  });
});
