import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { pushImage, type PushResult } from '@dockpush/core';
import { describeOneEngine } from '../support/engines';
import { loadE2eEnv } from '../support/env';
import { removeImage } from '../support/images';
import { listTags, manifestDigest } from '../support/registry-api';
import { createSavedTestImage, pullWithoutSource } from '../support/registry-engine';

/**
 * A round trip through the public API: `pushImage` with `engine: 'registry'` uploads an image
 * itself, and the Docker engine, pulling it back from registry:2 under the pushed name with the
 * source image gone, gets the very same image: same image ID (config digest), same diffIDs.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-round-trip:${unique}`;
let source: { id: string; diffIds: string[]; archive: string };

/** A user's environment without Docker credentials, with a blob info cache of the test's own. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-e2e-home-'));
  return { ...process.env, HOME: dir, DOCKER_CONFIG: dir, XDG_CACHE_HOME: join(dir, 'cache') };
}

/** Pulls what was pushed with the source image removed, then puts the source image back. */
const pullBack = (ref: string) => pullWithoutSource(docker, ref, { ref: sourceRef, archive: source.archive });

async function expectServedAsReported(result: PushResult, repoName: string): Promise<void> {
  expect((await listTags(env.plain.host, repoName)).sort()).toEqual(result.pushed.map((p) => p.tag).sort());
  for (const p of result.pushed) expect(await manifestDigest(env.plain.host, repoName, p.tag)).toBe(p.digest);
}

beforeAll(async () => {
  source = await createSavedTestImage(docker, sourceRef, { layers: 3, bytesPerLayer: 256 * 1024 });
  expect(source.diffIds).toHaveLength(3);
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

describeOneEngine('registry', "pushImage with engine: 'registry', pulled back by the Docker engine", () => {
  it('a local image (exported through the engine) comes back with the same image ID and diffIDs', async () => {
    const repoName = `round-trip-local-${unique}`;
    const repo = `${env.plain.host}/${repoName}`;
    const result = (await pushImage(
      { repo, source: sourceRef, tags: ['1.0.0'], engine: 'registry' },
      { docker, env: isolatedEnv() },
    )) as PushResult;
    expect(result).toMatchObject({ engine: 'registry', image: { id: source.id } });
    await expectServedAsReported(result, repoName);
    // No local `<repo>:<tag>` was needed to push it.
    await expect(docker.getImage(`${repo}:1.0.0`).inspect()).rejects.toMatchObject({ statusCode: 404 });

    expect(await pullBack(`${repo}:1.0.0`)).toEqual({ id: source.id, diffIds: source.diffIds });
  });

  it('a docker-archive: tarball comes back with the same image ID and diffIDs', async () => {
    const repoName = `round-trip-archive-${unique}`;
    const repo = `${env.plain.host}/${repoName}`;
    const result = (await pushImage(
      { repo, source: `docker-archive:${source.archive}`, tags: ['1.0.0', 'latest'], engine: 'registry' },
      { docker, env: isolatedEnv() },
    )) as PushResult;
    expect(result).toMatchObject({ engine: 'registry', image: { id: source.id } });
    await expectServedAsReported(result, repoName);

    expect(await pullBack(`${repo}:latest`)).toEqual({ id: source.id, diffIds: source.diffIds });
  });
});
