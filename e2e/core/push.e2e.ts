import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import {
  ArgumentsError,
  DockerUnavailableError,
  ImageNotFoundError,
  PushFailedError,
  pushImage,
  type PushEvent,
  type PushResult,
  RegistryAuthError,
  resolvePushPlan,
} from '@dockpush/core';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { loadE2eEnv } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { listTags, manifestDigest } from '../support/registry-api';

/**
 * Core's pushImage with each engine against a real dockerd and real registry:2 instances:
 * every push is proven through the registry's own HTTP API.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;

/** An env with no Docker credentials of the developer's. */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'dockpush-e2e-home-'));
  return { ...process.env, HOME: dir, DOCKER_CONFIG: dir, ...extra };
}

async function expectInRegistry(result: PushResult, host: string, auth?: { username: string; password: string }) {
  const repoName = result.image.repo.slice(host.length + 1);
  const tags = await listTags(host, repoName, auth);
  expect(tags.sort()).toEqual(result.pushed.map((p) => p.tag).sort());
  for (const p of result.pushed) {
    expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.size).toBeGreaterThan(0);
    expect(await manifestDigest(host, repoName, p.tag, auth)).toBe(p.digest);
  }
}

let sourceId: string;
const sourceRef = `dockpush-e2e-source:${unique}`;

beforeAll(async () => {
  sourceId = (await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 256 * 1024 })).id;
});

afterAll(async () => {
  await removeImage(docker, sourceRef);
});

describeEachEngine('pushImage to a real registry:2', (engine: E2eEngine) => {
  const name = (n: string) => `core-${engine}-${n}-${unique}`;
  /** pushImage with this engine. */
  const push = (args: Record<string, unknown>, options: Parameters<typeof pushImage>[1]) =>
    pushImage({ ...args, ...engineArgs(engine) }, options);

  it('pushes several tags of a source image, each with the digest the registry serves', async () => {
    const repo = `${env.plain.host}/${name('multi')}`;
    const events: PushEvent[] = [];
    const result = (await push(
      { repo, source: sourceRef, tags: ['1.0.0', 'latest', 'stable', '1.0.0'] },
      { docker, env: isolatedEnv(), onProgress: (e) => events.push(e) },
    )) as PushResult;

    expect(result.image).toEqual({
      id: sourceId,
      repo,
      tags: ['1.0.0', 'latest', 'stable'],
      uri: { '1.0.0': `${repo}:1.0.0`, latest: `${repo}:latest`, stable: `${repo}:stable` },
    });
    expect(result.engine).toBe(engine);
    expect(result.pushed.map((p) => p.uri)).toEqual([`${repo}:1.0.0`, `${repo}:latest`, `${repo}:stable`]);
    // One image, so one manifest digest for every tag.
    expect(new Set(result.pushed.map((p) => p.digest)).size).toBe(1);
    await expectInRegistry(result, env.plain.host);

    expect(
      events
        .filter((e) => e.type === 'tag-done')
        .map((e) => e.type === 'tag-done' && e.tag)
        .sort(),
    ).toEqual(['1.0.0', 'latest', 'stable']);
    expect(events.some((e) => e.type === 'layer' && e.state === 'pushed')).toBe(true);
    if (engine === 'docker') {
      // The engine pushes `<repo>:<tag>`, so each tag is tagged locally first...
      expect(events.filter((e) => e.type === 'tagged')).toHaveLength(3);
      // ...and the tags after the first find the layers already there.
      expect(events.some((e) => e.type === 'layer' && e.state === 'exists')).toBe(true);
    } else {
      // The registry engine reads the source image itself: no local tag is needed.
      expect(events.filter((e) => e.type === 'tagged')).toEqual([]);
      // Each layer is uploaded once for all tags, and reported once, under the first tag.
      const pushedLayers = (tag: string) =>
        events.flatMap((e) => (e.type === 'layer' && e.tag === tag && e.state === 'pushed' ? [e.layer] : [])).sort();
      expect(pushedLayers('1.0.0')).toHaveLength(2);
      expect(events.filter((e) => e.type === 'layer' && e.tag !== '1.0.0')).toEqual([]);
    }
    // Whatever the engine, no `<repo>:<tag>` is left in the local engine.
    for (const uri of Object.values(result.image.uri)) {
      await expect(docker.getImage(uri).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  });

  it('retags by image ID as source, and defaults to "latest"', async () => {
    const repo = `${env.plain.host}/${name('by-id')}`;
    const result = (await push({ repo, source: sourceId }, { docker, env: isolatedEnv() })) as PushResult;
    expect(result.pushed.map((p) => p.tag)).toEqual(['latest']);
    await expectInRegistry(result, env.plain.host);
  });

  it('pushes an image under its own repository and tags (image)', async () => {
    const repo = `${env.plain.host}/${name('own-tags')}`;
    const own = await createTestImage(docker, `${repo}:v1`, { layers: 1, bytesPerLayer: 64 * 1024 });
    await docker.getImage(own.id).tag({ repo, tag: 'v2' });
    await docker.getImage(own.id).tag({ repo: `${env.plain.host}/${name('elsewhere')}`, tag: 'x' });
    try {
      const result = (await push({ image: `${repo}:v1` }, { docker, env: isolatedEnv() })) as PushResult;
      expect(result.image.repo).toBe(repo);
      expect(result.image.tags.sort()).toEqual(['v1', 'v2']);
      expect(result.pushed.map((p) => p.tag).sort()).toEqual(['v1', 'v2']);
      await expectInRegistry(result, env.plain.host);
      expect(await listTags(env.plain.host, name('elsewhere'))).toEqual([]);
    } finally {
      await removeImage(docker, `${repo}:v1`);
      await removeImage(docker, `${repo}:v2`);
      await removeImage(docker, `${env.plain.host}/${name('elsewhere')}:x`);
    }
  });

  it('pushes to the htpasswd registry with credentials from a Docker config file', async () => {
    const e = isolatedEnv();
    writeFileSync(
      join(e.DOCKER_CONFIG as string, 'config.json'),
      JSON.stringify({
        auths: {
          [env.auth.host]: { auth: Buffer.from(`${env.auth.username}:${env.auth.password}`).toString('base64') },
        },
      }),
    );
    const repo = `${env.auth.host}/${name('auth')}`;
    expect((await resolvePushPlan({ repo, ...engineArgs(engine) }, { docker, env: e })).credentials).toBe(
      'docker-config',
    );
    const result = (await push({ repo, source: sourceRef, tags: ['a', 'b'] }, { docker, env: e })) as PushResult;
    await expectInRegistry(result, env.auth.host, env.auth);
  });

  it('fails with RegistryAuthError on a wrong password, never showing it, and does not retry', async () => {
    const repo = `${env.auth.host}/${name('wrong-pw')}`;
    const password = 'wrong-password-e2e-9d3f';
    const events: PushEvent[] = [];
    const error = await push(
      { repo, source: sourceRef, auth: { username: env.auth.username, password } },
      { docker, env: isolatedEnv(), onProgress: (e) => events.push(e) },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    if (engine === 'docker') {
      expect((error as Error).message).toMatch(new RegExp(`Cannot authenticate to ${env.auth.host}: .*unauthorized`));
      expect((error as Error).message).toContain(
        'The registry refused the credentials given in auth (--username/--password-stdin): check the username and password',
      );
    } else {
      // The registry engine names the request the registry refused.
      expect((error as Error).message).toMatch(
        new RegExp(
          `^Cannot authenticate to ${env.auth.host}: it refused the credentials for .*\\. The registry refused`,
        ),
      );
      expect((error as Error).message).toContain(
        'The registry refused the credentials given in auth (--username/--password-stdin): check the username and password',
      );
    }
    expect(JSON.stringify(events) + (error as Error).message + (error as Error).stack).not.toContain(password);
    expect(events.filter((e) => e.type === 'tag-started')).toHaveLength(1);
    expect(await listTags(env.auth.host, name('wrong-pw'), env.auth)).toEqual([]);
  });

  it('fails anonymous pushes to the htpasswd registry the same way', async () => {
    const repo = `${env.auth.host}/${name('anon')}`;
    await expect(push({ repo, source: sourceRef }, { docker, env: isolatedEnv() })).rejects.toBeInstanceOf(
      RegistryAuthError,
    );
    expect(await listTags(env.auth.host, name('anon'), env.auth)).toEqual([]);
  });

  it.each([
    ['a missing source', { source: 'dockpush-e2e-does-not-exist:1' }, /No local image "dockpush-e2e-does-not-exist:1"/],
    ['a missing local tag', { tags: ['nope'] }, /No local image ".*:nope" in the Docker engine\. /],
  ])('fails with ImageNotFoundError on %s, pushing nothing', async (_what, extra, message) => {
    const repo = `${env.plain.host}/${name('missing')}`;
    const pending = push({ repo, ...extra }, { docker, env: isolatedEnv() });
    await expect(pending).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(pending).rejects.toThrow(message);
    if ('tags' in extra) {
      // Without source, each engine reads `<repo>:<tag>` as it is: that tag is what is missing.
      await expect(pending).rejects.toThrow(/Nothing was pushed\. Tag the image first/);
    }
    expect(await listTags(env.plain.host, name('missing'))).toEqual([]);
  });

  it('fails with ImageNotFoundError for a missing image', async () => {
    await expect(push({ image: 'dockpush-e2e-nothing:here' }, { docker, env: isolatedEnv() })).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
  });

  it('fails an untagged image with ArgumentsError that says to give repo and source', async () => {
    // Moving the tag to another image leaves the first one with no RepoTags.
    const ref = `dockpush-e2e-bare:${unique}`;
    const untagged = await createTestImage(docker, ref, { layers: 1, bytesPerLayer: 1024 });
    await createTestImage(docker, ref, { layers: 1, bytesPerLayer: 1024 });
    try {
      expect((await docker.getImage(untagged.id).inspect()).RepoTags ?? []).toEqual([]);
      const error = await push({ image: untagged.id }, { docker, env: isolatedEnv() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArgumentsError);
      expect((error as Error).message).toMatch(
        /has no repository tags, so there is nothing to push it as; give repo .* with source/,
      );
    } finally {
      await removeImage(docker, ref);
      await removeImage(docker, untagged.id);
    }
  });

  it('fails every tag with PushFailedError when the registry is unreachable (error inside a 200 stream)', async () => {
    const repo = `127.0.0.1:1/${name('unreachable')}`;
    const error = await push(
      { repo, source: sourceRef, tags: ['x', 'y'], retries: 1 },
      { docker, env: isolatedEnv(), sleep: async () => undefined },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushFailedError);
    const outcomes = (error as PushFailedError).outcomes;
    expect(outcomes.map((o) => [o.tag, o.status])).toEqual([
      ['x', 'failed'],
      ['y', 'failed'],
    ]);
    if (engine === 'docker') {
      expect(outcomes[0]).toMatchObject({ attempts: 2, error: expect.stringMatching(/connection refused/) });
    } else {
      // The registry engine names the registry and the request that found nobody there.
      expect(outcomes[0]).toMatchObject({
        error: expect.stringMatching(/GET \/v2\/ on 127\.0\.0\.1:1 failed: .*ECONNREFUSED/),
      });
    }
    expect((error as Error).message).toMatch(/2 of 2 tags not pushed/);
  });

  it('writes the result to outputFile', async () => {
    const repo = `${env.plain.host}/${name('output')}`;
    const outputFile = join(mkdtempSync(join(tmpdir(), 'dockpush-out-')), 'nested', 'result.json');
    const result = await push({ repo, source: sourceRef, outputFile }, { docker, env: isolatedEnv() });
    expect(JSON.parse(readFileSync(outputFile, 'utf8'))).toEqual(result);
    await expectInRegistry(result as PushResult, env.plain.host);
  });

  it('a dry run resolves the plan and pushes nothing', async () => {
    const repo = `${env.plain.host}/${name('dry')}`;
    const plan = await push({ repo, source: sourceRef, tags: ['1'], dryRun: true }, { docker, env: isolatedEnv() });
    expect(plan).toEqual({
      repo,
      tags: ['1'],
      uri: { '1': `${repo}:1` },
      registry: env.plain.host,
      source: sourceRef,
      credentials: 'anonymous',
      engine,
    });
    expect(await listTags(env.plain.host, name('dry'))).toEqual([]);
  });

  it('fails with DockerUnavailableError when DOCKER_HOST answers nothing', async () => {
    const pending = push(
      { repo: `${env.plain.host}/x`, source: sourceRef },
      {
        docker: new Dockerode({ socketPath: '/nonexistent/docker.sock' }),
        env: isolatedEnv({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
      },
    );
    await expect(pending).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(pending).rejects.toThrow(
      /Cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock \(ENOENT\)\. Start Docker/,
    );
  });
});
