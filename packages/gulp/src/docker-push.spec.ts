import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError, ImageNotFoundError } from '@dockpush/core';
import { emptyEngine } from '@dockpush/core/testing';
import { describeTarget, dockerPush } from './docker-push';
import { createGulpLog, timestamp } from './gulp-log';

const dir = mkdtempSync(join(tmpdir(), 'dockpush-gulp-spec-'));
const env = { DOCKER_CONFIG: dir, HOME: dir };

describe('dockerPush (gulp)', () => {
  it('is a named task, with a description for gulp --tasks', () => {
    const task = dockerPush({ repo: 'localhost:5000/team/app', tags: ['1.0.0'] });
    expect(task.name).toBe('docker-push:team/app');
    // No displayName: gulp-cli would register an exported task under it instead of the export's name.
    expect(task.displayName).toBeUndefined();
    expect(task.description).toBe('Push team/app with dockpush');
    const named = dockerPush({ repo: 'localhost:5000/app' }, { name: 'release', description: 'Ship it' });
    expect([named.name, named.displayName, named.description]).toEqual(['release', 'release', 'Ship it']);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ repo: 'ghcr.io/org/app' }, 'org/app'],
    [{ repo: 'app' }, 'app'],
    [{ ecrRepo: { repoName: 'team/app' } }, 'team/app'],
    [{ ecr_repo: { repo_name: 'legacy' } }, 'legacy'],
    [{ image: 'localhost:5000/app:1.2' }, 'app'],
    [{ image: 'sha256:' + 'f'.repeat(64) }, 'image'],
  ])('names the task after %j', (args, expected) => {
    expect(describeTarget(args)).toBe(expected);
  });

  it('resolves a dry run to the plan and logs it in gulp style', async () => {
    const lines: string[] = [];
    const task = dockerPush(
      { repo: 'localhost:5000/app', tags: ['1'], dryRun: true },
      { log: (l) => lines.push(l), pushOptions: { env } },
    );
    await expect(task()).resolves.toMatchObject({ uri: { '1': 'localhost:5000/app:1' }, credentials: 'anonymous' });
    expect(lines).toEqual(['dry run: would push localhost:5000/app:1 (credentials: anonymous)']);
  });

  it('makes its arguments when it runs, from a function', async () => {
    let version = 'unknown';
    const task = dockerPush(() => ({ repo: 'localhost:5000/app', tags: [version], dryRun: true }), {
      log: false,
      pushOptions: { env },
    });
    expect(task.name).toBe('docker-push');
    version = '2.0.0';
    await expect(task()).resolves.toMatchObject({ tags: ['2.0.0'] });
  });

  it('rejects with core typed error, shown by gulp without a stack', async () => {
    const missing = dockerPush(
      { repo: 'localhost:5000/app', tags: ['1'] },
      { log: false, pushOptions: { env, docker: emptyEngine } },
    );
    const error: unknown = await missing().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    // gulp-cli prints toString() instead of the stack for errors with a boolean showStack.
    expect((error as { showStack?: boolean }).showStack).toBe(false);
    expect(String(error)).toMatch(/^ImageNotFoundError: No local image "localhost:5000\/app:1"/);

    const bad = dockerPush({ repo: 'localhost:5000/app', tag: ['1'] } as never, { log: false });
    await expect(bad()).rejects.toThrow(
      new ArgumentsError([{ path: 'tag', message: 'unknown option; did you mean "tags"?' }]).message,
    );
  });
});

describe('gulp log lines', () => {
  it('look like fancy-log lines, labelled', () => {
    let out = '';
    const log = createGulpLog(
      'docker-push:app',
      (t) => (out += t),
      () => new Date(2024, 0, 1, 9, 5, 7),
    );
    log('pushing localhost:5000/app:1');
    expect(out).toBe('[09:05:07] [docker-push:app] pushing localhost:5000/app:1\n');
    expect(timestamp(new Date(2024, 0, 1, 23, 59, 0))).toBe('23:59:00');
  });
});
