import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { AuthProvider } from './auth/registry-auth';
import {
  ArgumentsError,
  DockerUnavailableError,
  OutputFileError,
  ProgressListenerError,
  PushCancelledError,
  PushFailedError,
} from './errors';
import type { PushEvent } from './events';
import { pushImage } from './push-client';

const IMAGE_ID = 'sha256:' + 'a'.repeat(64);
const DIGEST = 'sha256:' + 'd'.repeat(64);
const REPO = 'localhost:5000/app';

/**
 * A fake engine at the dockerode level: a store of local tags, `tag`, `remove` and `push`
 * (answered from `pushAnswer`), recording every call that changes something.
 */
function fakeEngine(initialTags: string[] = ['app:dev'], pushAnswer: 'ok' | 'fail' = 'ok') {
  const tags = new Set(initialTags);
  const calls: string[] = [];
  const docker = {
    ping: async () => 'OK',
    getImage: (name: string) => ({
      inspect: async () => {
        if (name === IMAGE_ID || tags.has(name)) return { Id: IMAGE_ID, RepoTags: [...tags] };
        throw Object.assign(new Error(`no such image: ${name}`), { statusCode: 404 });
      },
      tag: async ({ repo, tag }: { repo: string; tag: string }) => {
        calls.push(`tag ${repo}:${tag}`);
        tags.add(`${repo}:${tag}`);
      },
      remove: async () => {
        calls.push(`remove ${name}`);
        tags.delete(name);
      },
      push: async ({ tag }: { tag: string }) => {
        calls.push(`push ${name}:${tag}`);
        const messages =
          pushAnswer === 'ok'
            ? [{ status: 'Pushed', id: 'l1' }, { aux: { Tag: tag, Digest: DIGEST, Size: 42 } }]
            : [{ errorDetail: { message: 'denied: requested access to the resource is denied' } }];
        return Readable.from(messages.map((m) => JSON.stringify(m) + '\n'));
      },
    }),
  } as unknown as Dockerode;
  return { docker, tags, calls };
}

const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent' };
const tmp = () => mkdtempSync(join(tmpdir(), 'dockpush-push-image-'));

describe('pushImage: the output file is checked before anything is pushed', () => {
  const dir = tmp();
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');

  it.each([
    ['a folder', () => dir, /^outputFile: ".*" is a folder; give the path of a file in it/],
    ['a device', () => '/dev/full', /^outputFile: "\/dev\/full" is not a regular file \(a device, FIFO or socket\)/],
    [
      'a path under a file',
      () => join(file, 'result.json'),
      /^outputFile: ".*result\.json" is under ".*a-file", which is a file, not a folder/,
    ],
    ['a path deep under a file', () => join(file, 'x', 'result.json'), /which is a file, not a folder/],
    [
      '/dev/stdout, as the habit goes',
      () => '/dev/stdout',
      /^outputFile: "\/dev\/stdout" is under \/dev, where the system keeps devices.*--json prints the result on stdout/,
    ],
    [
      'a link to a device',
      () => {
        const link = join(tmp(), 'result.json');
        symlinkSync('/dev/null', link);
        return link;
      },
      /^outputFile: ".*result\.json" is a link to "\/dev\/null", not to a regular file/,
    ],
  ])('%s', async (_, outputFile, expected) => {
    const engine = fakeEngine();
    const pending = pushImage(
      { repo: REPO, source: 'app:dev', outputFile: outputFile() },
      { docker: engine.docker, env },
    );
    await expect(pending).rejects.toBeInstanceOf(ArgumentsError);
    await expect(pending).rejects.toThrow(expected);
    expect(engine.calls).toEqual([]);
  });

  it('removes the previous result before pushing, so a failed push leaves none', async () => {
    const outputFile = join(tmp(), 'result.json');
    writeFileSync(outputFile, '{"stale": true}\n');
    const engine = fakeEngine(['app:dev'], 'fail');
    await expect(
      pushImage({ repo: REPO, source: 'app:dev', outputFile, retries: 0 }, { docker: engine.docker, env }),
    ).rejects.toBeInstanceOf(PushFailedError);
    expect(existsSync(outputFile)).toBe(false);
  });

  it('replaces a symlink at the path instead of writing through it', async () => {
    const folder = tmp();
    const target = join(folder, 'precious.txt');
    writeFileSync(target, 'keep me\n');
    const outputFile = join(folder, 'result.json');
    symlinkSync(target, outputFile);
    await pushImage({ repo: REPO, source: 'app:dev', outputFile }, { docker: fakeEngine().docker, env });
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
    expect(JSON.parse(readFileSync(outputFile, 'utf8'))).toMatchObject({ pushed: [{ digest: DIGEST }] });
  });

  it('still hands over the digests when the file cannot be written after the push', async () => {
    const outputFile = join(tmp(), 'result.json');
    // The disk "changes" during the push: a folder appears where the file was to go.
    const onProgress = (event: PushEvent) => {
      if (event.type === 'tag-done') mkdirSync(outputFile);
    };
    const error: unknown = await pushImage(
      { repo: REPO, source: 'app:dev', tags: ['1'], outputFile },
      { docker: fakeEngine().docker, env, onProgress },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputFileError);
    const e = error as OutputFileError;
    expect(e.message).toMatch(
      new RegExp(`^Pushed 1 tag \\(${REPO}:1@${DIGEST}\\), but the result could not be written to .*result\\.json`),
    );
    expect(e.result).toMatchObject({ pushed: [{ tag: '1', digest: DIGEST }] });
  });
});

describe('pushImage: local tags made for source', () => {
  it.each([
    ['after a push', 'ok' as const],
    ['after a failed push', 'fail' as const],
  ])('are removed %s', async (_, answer) => {
    const engine = fakeEngine(['app:dev'], answer);
    await pushImage(
      { repo: REPO, source: 'app:dev', tags: ['1', '2'], retries: 0 },
      { docker: engine.docker, env },
    ).catch(() => undefined);
    expect(engine.calls).toEqual(expect.arrayContaining([`tag ${REPO}:1`, `remove ${REPO}:1`, `remove ${REPO}:2`]));
    expect([...engine.tags]).toEqual(['app:dev']);
  });

  it('are removed when the push is cancelled after tagging', async () => {
    const engine = fakeEngine();
    const controller = new AbortController();
    const onProgress = (event: PushEvent) => {
      if (event.type === 'tagged') controller.abort();
    };
    await expect(
      pushImage(
        { repo: REPO, source: 'app:dev', tags: ['1'] },
        { docker: engine.docker, env, onProgress, signal: controller.signal },
      ),
    ).rejects.toThrow(/cancelled/);
    expect([...engine.tags]).toEqual(['app:dev']);
  });

  it('are not even made when the push is cancelled while credentials are looked up', async () => {
    const engine = fakeEngine();
    const controller = new AbortController();
    const slowHelper = {
      resolve: async () => {
        controller.abort();
        return undefined;
      },
    };
    await expect(
      pushImage(
        { repo: REPO, source: 'app:dev', tags: ['1'] },
        { docker: engine.docker, env, signal: controller.signal, authProviders: [slowHelper] },
      ),
    ).rejects.toThrow(/cancelled/);
    expect(engine.calls).toEqual([]);
  });

  it('keeps a tag that was there before', async () => {
    const engine = fakeEngine(['app:dev', `${REPO}:1`]);
    await pushImage({ repo: REPO, source: 'app:dev', tags: ['1', '2'] }, { docker: engine.docker, env });
    expect([...engine.tags].sort()).toEqual(['app:dev', `${REPO}:1`]);
  });

  it('keeps them all with keepLocalTags', async () => {
    const engine = fakeEngine();
    await pushImage(
      { repo: REPO, source: 'app:dev', tags: ['1'], keepLocalTags: true },
      { docker: engine.docker, env },
    );
    expect([...engine.tags].sort()).toEqual(['app:dev', `${REPO}:1`]);
  });

  it("keeps one when they are the image's only tags, since removing the last would delete the image", async () => {
    const engine = fakeEngine([]);
    await pushImage({ repo: REPO, source: IMAGE_ID, tags: ['1', '2'] }, { docker: engine.docker, env });
    expect([...engine.tags]).toEqual([`${REPO}:2`]);
  });
});

describe('pushImage: API hygiene', () => {
  it('takes null options as no options', async () => {
    await expect(pushImage({ repo: REPO, dryRun: true }, null)).resolves.toMatchObject({ repo: REPO });
  });

  it('stops starting tags when onProgress throws, and reports what landed', async () => {
    const engine = fakeEngine();
    const onProgress = (event: PushEvent) => {
      if (event.type === 'tag-started') throw new Error('renderer broke');
    };
    const error: unknown = await pushImage(
      { repo: REPO, source: 'app:dev', tags: ['1', '2', '3'] },
      { docker: engine.docker, env, onProgress },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgressListenerError);
    const e = error as ProgressListenerError;
    expect(e.message).toMatch(
      /^The onProgress listener threw \(renderer broke\), so dockpush started no further tag; 1 of 3 tags had been pushed/,
    );
    expect(e.outcomes.map((o) => o.status)).toEqual(['pushed', 'skipped', 'skipped']);
    expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([`push ${REPO}:1`]);
    expect([...engine.tags]).toEqual(['app:dev']);
  });

  it('takes an async onProgress that rejects as one that throws: no unhandled rejection, no tag left', async () => {
    const engine = fakeEngine();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const error: unknown = await pushImage(
        { repo: REPO, source: 'app:dev', tags: ['1', '2'] },
        { docker: engine.docker, env, onProgress: async () => Promise.reject(new Error('async renderer broke')) },
      ).catch((e: unknown) => e);
      await new Promise((r) => setImmediate(r));
      expect(error).toBeInstanceOf(ProgressListenerError);
      expect((error as Error).message).toMatch(/^The onProgress listener threw \(async renderer broke\)/);
      expect(engine.calls.filter((c) => c.startsWith('push'))).toEqual([]);
      expect([...engine.tags]).toEqual(['app:dev']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/** Never settles, except by the signal it is given. */
function hangs(signal?: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
}

const hangingCredentials: AuthProvider = { resolve: (_host, options) => hangs(options?.signal) };
const anonymous: AuthProvider = { resolve: async () => ({ source: 'anonymous', authconfig: {} }) };

describe('pushImage: waits end on cancellation and on the deadline', () => {
  it('a cancellation during the credential lookup is a PushCancelledError, at once', async () => {
    const controller = new AbortController();
    const pending = pushImage(
      { repo: 'localhost:5000/app' },
      { authProviders: [hangingCredentials], signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('cancelled by SIGINT')), 50);
    await expect(pending).rejects.toBeInstanceOf(PushCancelledError);
  });

  it('a cancellation while the engine does not answer its ping is a PushCancelledError, at once', async () => {
    const docker = { ping: (opts?: { abortSignal?: AbortSignal }) => hangs(opts?.abortSignal) } as unknown as Dockerode;
    const controller = new AbortController();
    const started = Date.now();
    const pending = pushImage(
      { repo: 'localhost:5000/app' },
      { docker, authProviders: [anonymous], signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('cancelled by SIGTERM')), 50);
    await expect(pending).rejects.toBeInstanceOf(PushCancelledError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('an engine that does not answer an image lookup fails at the deadline, naming the request', async () => {
    const docker = {
      ping: async () => 'OK',
      getImage: () => ({ inspect: () => hangs() }),
    } as unknown as Dockerode;
    const pending = pushImage(
      { repo: 'localhost:5000/app', tags: ['1'], timeout: 0.2 },
      { docker, authProviders: [anonymous], env: {} },
    );
    await expect(pending).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(pending).rejects.toThrow(
      /Cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock \(no answer to looking up the image "localhost:5000\/app:1" within 200 ms/,
    );
  });
});

describe('pushImage: the engine option', () => {
  const untouchable = new Proxy(
    {},
    {
      get: (_target, name) => {
        throw new Error(`the Docker engine was used (${String(name)})`);
      },
    },
  ) as Dockerode;
  const env = { HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent', XDG_CACHE_HOME: '/nonexistent' };
  const anonymous: AuthProvider = { resolve: async () => undefined };

  it('reads an archive source with the registry engine, never touching the Docker engine', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'dockpush-archive-')), 'absent.tar');
    const error = await pushImage(
      { repo: REPO, source: `docker-archive:${missing}`, tags: ['1'], retries: 0 },
      { docker: untouchable, env, authProviders: [anonymous] },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).not.toMatch(/Docker engine was used/);
  });

  it('says in the dry-run plan which engine would push', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'dockpush-layout-'));
    const plan = await pushImage(
      { repo: REPO, source: `oci:${layout}:1.0`, tags: ['1'], dryRun: true },
      { docker: untouchable, env, authProviders: [anonymous] },
    );
    expect(plan).toMatchObject({ engine: 'registry', source: `oci:${layout}:1.0` });
  });

  it('refuses compression with the Docker engine before anything is done', async () => {
    await expect(
      pushImage({ repo: REPO, source: 'app:dev', compression: 'gzip' }, { docker: untouchable, env }),
    ).rejects.toThrow(ArgumentsError);
  });
});
