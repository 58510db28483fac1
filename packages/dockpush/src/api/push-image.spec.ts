import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError, PushCancelledError } from '@dockpush/core';
import { isPushPlan, pushImage, resolvePushPlan } from './push-image';

const dir = mkdtempSync(join(tmpdir(), 'dockpush-api-spec-'));
const env = { DOCKER_CONFIG: dir, HOME: dir };

describe('Node API', () => {
  it('resolves a plan in either spelling', async () => {
    const camel = await resolvePushPlan({ ecrRepo: { repoName: 'app', registryAlias: 'team' }, tags: ['1'] }, { env });
    const runway = await resolvePushPlan(
      { ecr_repo: { repo_name: 'app', registry_alias: 'team' }, tags: ['1'] },
      { env },
    );
    expect(runway).toEqual(camel);
    expect(camel).toMatchObject({ repo: 'public.ecr.aws/team/app', registry: 'public.ecr.aws' });
  });

  it('resolves a dry run to the plan', async () => {
    const result = await pushImage({ repo: 'localhost:5000/app', dryRun: true }, { env });
    expect(isPushPlan(result)).toBe(true);
    expect(result.uri).toEqual({ latest: 'localhost:5000/app:latest' });
  });

  it('rejects with PushCancelledError when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pushImage({ repo: 'localhost:5000/app' }, { env, signal: controller.signal })).rejects.toBeInstanceOf(
      PushCancelledError,
    );
  });

  it('rejects bad arguments with ArgumentsError', async () => {
    await expect(pushImage({ repo: 'localhost:5000/app', tags: ['-bad'] }, { env })).rejects.toBeInstanceOf(
      ArgumentsError,
    );
  });
});

describe('Node API: hygiene', () => {
  it('takes null options as no options', async () => {
    await expect(resolvePushPlan({ repo: 'localhost:5000/app' }, null)).resolves.toMatchObject({ tags: ['latest'] });
    await expect(pushImage({ repo: 'localhost:5000/app', dryRun: true }, null)).resolves.toMatchObject({
      repo: 'localhost:5000/app',
    });
  });

  it('refuses tags: [] instead of pushing latest silently', async () => {
    await expect(pushImage({ repo: 'localhost:5000/app', tags: [] }, { env })).rejects.toThrow(
      /^tags: is empty; leave it out for the default/,
    );
  });

  it.each([
    [{ image: '../../etc/passwd' }, /^image: .*not a valid image reference/],
    [{ image: 'MyApp:1' }, /^image: .*repository names must be lowercase/],
    [{ repo: 'alice:Hunter2@ghcr.io/org/app' }, /^repo: holds credentials/],
  ])('refuses %j before touching the engine', async (args, expected) => {
    const pending = pushImage(args, { env: { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' } });
    await expect(pending).rejects.toBeInstanceOf(ArgumentsError);
    await expect(pending).rejects.toThrow(expected);
    await expect(pending).rejects.not.toThrow(/Hunter2/);
  });
});
