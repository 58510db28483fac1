import { ArgumentsError, PushFailedError, type PushOptions, type PushResult } from '@dockpush/core';
import { onePushPlan } from '@dockpush/core/testing';
import { registerDockerPushTask } from './docker-push-task';
import type { GruntLike, GruntTaskContext } from './grunt-types';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const result: PushResult = {
  image: { id: 'sha256:1', repo: 'localhost:5000/app', tags: ['1'], uri: { '1': 'localhost:5000/app:1' } },
  pushed: [{ tag: '1', uri: 'localhost:5000/app:1', digest: DIGEST, size: 528, imageId: 'sha256:1' }],
  engine: 'docker',
};

/** A Grunt that records what the plugin registers and logs; `run` runs a target as Grunt would. */
function fakeGrunt(cliOptions: Record<string, unknown> = {}) {
  const log: string[] = [];
  let registered: { name: string; description: string; fn: (this: GruntTaskContext) => void } | undefined;
  const grunt: GruntLike = {
    registerMultiTask: (name, description, fn) => (registered = { name, description, fn }),
    log: { writeln: (t = '') => log.push(t), ok: (t = '') => log.push(`>> ${t}`) },
    option: (name) => cliOptions[name],
  };
  const run = (target: string, data: unknown, options: Record<string, unknown>) =>
    new Promise<boolean | Error | undefined>((resolve) => {
      const context: GruntTaskContext = {
        target,
        data,
        options: <T extends object>(defaults?: T) => ({ ...defaults, ...options }) as T,
        async: () => resolve,
      };
      registered?.fn.call(context);
    });
  return { grunt, log, run, registered: () => registered };
}

describe('dockerPush (grunt)', () => {
  it('registers the multi-task dockerPush', () => {
    const { grunt, registered } = fakeGrunt();
    registerDockerPushTask(grunt);
    expect(registered()).toMatchObject({ name: 'dockerPush', description: expect.stringContaining('Docker') });
  });

  it("pushes with the target's options, logs progress and the digests, and ends with done()", async () => {
    const { grunt, log, run } = fakeGrunt();
    const calls: unknown[] = [];
    registerDockerPushTask(grunt, {
      push: async (args: unknown, options: PushOptions) => {
        calls.push(args);
        options.onProgress?.({ type: 'tag-started', tag: '1', uri: 'localhost:5000/app:1', attempt: 1 });
        return result;
      },
    });
    const options = { repo: 'localhost:5000/app', tags: ['1'] };
    expect(await run('app', { options }, options)).toBeUndefined();
    expect(calls).toEqual([options]);
    expect(log).toEqual(['pushing localhost:5000/app:1', `>> Pushed localhost:5000/app:1@${DIGEST}`]);
  });

  it("turns Grunt's --no-write into a dry run", async () => {
    const { grunt, log, run } = fakeGrunt({ write: false });
    const calls: unknown[] = [];
    const plan = onePushPlan;
    registerDockerPushTask(grunt, { push: async (args) => (calls.push(args), plan) });
    await run('app', {}, { repo: 'localhost:5000/app' });
    expect(calls).toEqual([{ repo: 'localhost:5000/app', dryRun: true }]);
    expect(log).toEqual(['>> Dry run: would push localhost:5000/app:1 (credentials: anonymous)']);
  });

  it("ends with done(error), core's typed error, when the push fails", async () => {
    const { grunt, run } = fakeGrunt();
    const failure = new PushFailedError([
      { tag: '1', uri: 'localhost:5000/app:1', status: 'failed', error: 'denied', attempts: 1 },
    ]);
    registerDockerPushTask(grunt, { push: () => Promise.reject(failure) });
    expect(await run('app', {}, { repo: 'localhost:5000/app' })).toBe(failure);
  });

  it('fails a target whose push arguments sit beside options instead of in them', async () => {
    const { grunt, run } = fakeGrunt();
    const push = jest.fn();
    registerDockerPushTask(grunt, { push });
    const error = await run('app', { repo: 'localhost:5000/app', options: {} }, {});
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as ArgumentsError).issues).toEqual([
      { path: 'dockerPush.app.repo', message: 'push arguments go under dockerPush.app.options: move repo there' },
    ]);
    expect(push).not.toHaveBeenCalled();
  });

  it('fails on arguments core refuses, without reaching the engine', async () => {
    const { grunt, run } = fakeGrunt();
    registerDockerPushTask(grunt);
    const error = await run('app', {}, { repo: 'localhost:5000/app', tgas: ['1'] });
    expect(error).toBeInstanceOf(ArgumentsError);
    expect((error as Error).message).toBe('tgas: unknown option; did you mean "tags"?');
  });
});
