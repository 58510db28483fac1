import Dockerode from 'dockerode';
import { PushFailedError, pushImage } from '@dockpush/core';
import { cleanUserEnv, runAdapter } from '../support/all-adapters-project';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';

/**
 * The `<repo>:<tag>` tags dockpush makes for `source` are the means of the push, not its
 * result: they are gone afterwards, pushed or not, unless asked to keep them; tags the user
 * had made before are never touched. Proven against the real engine's image store.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-local-tags:${unique}`;
const name = (n: string) => `local-tags-${n}-${unique}`;
const cleanup: string[] = [];

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

  const run = await runAdapter('cli', [
    'push',
    '--repo',
    cliRepo,
    '--source',
    sourceRef,
    '-t',
    '1',
    '--keep-local-tags',
  ]);
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
