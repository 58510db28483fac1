import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { ExecutorContext } from '@nx/devkit';
import {
  ImageNotFoundError,
  PushCancelledError,
  PushFailedError,
  pushImage,
  registerSecret,
  type PushOptions,
  type PushPlan,
  type PushResult,
} from '@dockpush/core';
import { fakeExecutorContext } from '../../testing/executor-context';
import { pushExecutor, type PushExecutorDependencies } from './push.impl';
import type { PushExecutorSchema } from './schema';

const root = mkdtempSync(join(tmpdir(), 'dockpush-nx-executor-'));

/** Progress of layer abcdef0123456789 of tag latest: `current` of its 10 bytes sent. */
const uploading = (current: number) =>
  ({ type: 'layer', tag: 'latest', layer: 'abcdef0123456789', state: 'pushing', current, total: 10 }) as const;
/** Layer abcdef0123456789 of tag latest is in the registry. */
const uploaded = { type: 'layer', tag: 'latest', layer: 'abcdef0123456789', state: 'pushed' } as const;

function fakeContext(): ExecutorContext {
  return fakeExecutorContext(root);
}

const result: PushResult = {
  image: {
    id: 'sha256:1111',
    repo: 'localhost:5000/api',
    tags: ['latest', '1.0.0'],
    uri: { latest: 'localhost:5000/api:latest', '1.0.0': 'localhost:5000/api:1.0.0' },
  },
  pushed: [
    {
      tag: 'latest',
      uri: 'localhost:5000/api:latest',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 524,
      imageId: 'sha256:1',
    },
    {
      tag: '1.0.0',
      uri: 'localhost:5000/api:1.0.0',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 524,
      imageId: 'sha256:1',
    },
  ],
  engine: 'docker',
};

/** An executor run with fakes; returns what it logged, drew and passed to core. */
async function run(
  options: PushExecutorSchema,
  overrides: Partial<PushExecutorDependencies> & { env?: NodeJS.ProcessEnv } = {},
  context: ExecutorContext = fakeContext(),
) {
  const logs: { level: 'info' | 'warn' | 'error'; text: string }[] = [];
  const drawn: string[] = [];
  const calls: { input: unknown; options: PushOptions }[] = [];
  const signals = new EventEmitter();
  const deps: Partial<PushExecutorDependencies> = {
    pushImage: async (input, opts) => {
      calls.push({ input, options: opts });
      return result;
    },
    logger: {
      info: (text: string) => logs.push({ level: 'info', text }),
      warn: (text: string) => logs.push({ level: 'warn', text }),
      error: (text: string) => logs.push({ level: 'error', text }),
    },
    progress: { write: (text: string) => drawn.push(text), isTTY: false },
    env: {},
    signals: signals as unknown as PushExecutorDependencies['signals'],
    ...overrides,
  };
  const outcome = await pushExecutor(options, context, deps);
  const text = (level?: string) =>
    logs
      .filter((l) => !level || l.level === level)
      .map((l) => l.text)
      .join('\n');
  return { outcome, logs, text, drawn, calls, signals };
}

describe('@dockpush/nx:push', () => {
  it('pushes with the resolved options and reports each tag and the result file', async () => {
    const { outcome, text, calls } = await run({ repo: 'localhost:5000/{projectName}', tags: ['latest', '1.0.0'] });
    expect(outcome).toEqual({ success: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.input).toEqual({
      repo: 'localhost:5000/api',
      tags: ['latest', '1.0.0'],
      dryRun: false,
      outputFile: join(root, 'dist/docker-push/api.json'),
    });
    expect(text('info')).toMatch(new RegExp(`localhost:5000/api:1\\.0\\.0 +sha256:${'a'.repeat(64)}`));
    expect(text('info')).toContain('Result written to dist/docker-push/api.json');
    expect(text('error')).toBe('');
  });

  it('passes the project directory and name for tag rules, and lists which rule made each tag in a dry run', async () => {
    const plan = {
      repo: 'localhost:5000/api',
      tags: ['1.2.3'],
      uri: { '1.2.3': 'localhost:5000/api:1.2.3' },
      registry: 'localhost:5000',
      source: null,
      credentials: 'anonymous' as const,
      engine: 'docker' as const,
      tagSources: { '1.2.3': 'type=semver,pattern={{version}}' },
    };
    const calls: { options: PushOptions }[] = [];
    const { text } = await run(
      { repo: 'localhost:5000/api', tagRules: ['type=semver,pattern={{version}}'], dryRun: true },
      { pushImage: async (input, opts) => (calls.push({ options: opts }), plan) },
    );
    expect(calls[0]?.options).toMatchObject({ cwd: join(root, 'apps/api'), tagValues: { projectName: 'api' } });
    expect(text('info')).toContain('localhost:5000/api:1.2.3  (from type=semver,pattern={{version}})');
  });

  it('draws progress one line per change when the output is not a terminal', async () => {
    const { drawn } = await run(
      { repo: 'localhost:5000/api' },
      {
        pushImage: async (_input, opts) => {
          opts.onProgress?.({ type: 'tag-started', tag: 'latest', uri: 'localhost:5000/api:latest', attempt: 1 });
          opts.onProgress?.(uploading(1));
          opts.onProgress?.(uploading(5));
          opts.onProgress?.(uploaded);
          return result;
        },
      },
    );
    expect(drawn).toEqual([
      'pushing localhost:5000/api:latest\n',
      '  abcdef012345 uploading 10 B\n',
      '  abcdef012345 uploaded\n',
    ]);
  });

  it('draws live progress, redrawn in place, on a terminal', async () => {
    const screen: string[] = [];
    await run(
      { repo: 'localhost:5000/api' },
      {
        progress: { write: (text: string) => screen.push(text), isTTY: true },
        pushImage: async (_input, opts) => {
          opts.onProgress?.(uploading(1));
          opts.onProgress?.(uploaded);
          return result;
        },
      },
    );
    expect(screen.join('')).toContain('abcdef012345 [');
    // The layer's line is erased and redrawn, not appended.
    expect(screen.join('')).toContain('\x1b[1A\x1b[J');
    expect(screen.join('')).toContain('abcdef012345 uploaded 10 B');
  });

  it.each([
    ['dryRun', { dryRun: true }, {}],
    ['NX_DRY_RUN=true', {}, { NX_DRY_RUN: 'true' }],
  ])('prints the plan and pushes nothing on %s', async (why, options, env) => {
    // The real core: a repo target's plan needs no engine.
    const { outcome, text, drawn } = await run(
      { repo: 'localhost:5000/api', source: 'api:dev', tags: ['1.0.0'], ...options },
      { pushImage, env: { ...env, HOME: root, DOCKER_CONFIG: root } },
    );
    expect(outcome).toEqual({ success: true });
    expect(text('info')).toContain(`Dry run (${why}): nothing was pushed and no file was written.`);
    expect(text('info')).toContain('Would tag local image api:dev and push it as:\n  localhost:5000/api:1.0.0');
    expect(text('info')).toContain('Registry localhost:5000, credentials: anonymous');
    expect(drawn).toEqual([]);
    expect(existsSync(join(root, 'dist/docker-push/api.json'))).toBe(false);
  });

  it('names each wrong option and how to fix it, and fails without pushing', async () => {
    const { outcome, text, logs } = await run(
      { repo: 'Localhost:5000/API', tags: ['-bad'] },
      { pushImage, env: { HOME: root, DOCKER_CONFIG: root } },
    );
    expect(outcome).toEqual({ success: false });
    expect(logs[0]).toEqual({ level: 'error', text: 'NX Invalid options for api:docker-push' });
    expect(text('error')).toMatch(/✖ repo: .*Localhost:5000\/API/);
    expect(text('error')).toMatch(/✖ tags\.0: "-bad" is not a valid tag/);
    expect(text('error')).toContain('on the command line: nx run api:docker-push --repo=…');
  });

  it('without a destination, pushes nothing and says where to set one (there is no default registry)', async () => {
    const { outcome, text, calls } = await run({ tags: ['1'] });
    expect(outcome).toEqual({ success: false });
    expect(calls).toEqual([]);
    expect(text('error')).toContain('NX api:docker-push: no destination');
    expect(text('error')).toContain('"repo" in the @dockpush/nx plugin options in nx.json');
    expect(text('error')).toContain("repo, ecrRepo or image in the target's options in project.json");
    expect(text('error')).toContain('nx run api:docker-push --repo=<registry>/<name>');
  });

  it.each([
    ['cache: true on the build target', { cache: true }, {}],
    ['cache: true in targetDefaults', {}, { 'docker-build': { cache: true } }],
  ])(
    'when the image is missing and the build is cacheable (%s), says a cache hit leaves no image',
    async (_, build, targetDefaults) => {
      const context = fakeContext();
      context.projectsConfigurations.projects.api = {
        root: 'apps/api',
        targets: {
          'docker-build': { command: 'docker build -t api .', ...build },
          'docker-push': { executor: '@dockpush/nx:push', dependsOn: ['docker-build'] },
        },
      };
      context.nxJsonConfiguration = { targetDefaults };
      const { outcome, text } = await run(
        { repo: 'localhost:5000/api', source: 'api' },
        {
          pushImage: async () => {
            throw new ImageNotFoundError('api', 'Build it first.');
          },
        },
        context,
      );
      expect(outcome).toEqual({ success: false });
      expect(text('error')).toContain('docker-build is cacheable: a cache hit restores the build');
      expect(text('error')).toContain(
        'Set "cache": false on the image build target, or run again with --skip-nx-cache.',
      );
    },
  );

  it('says nothing of the cache when the build target is not cacheable', async () => {
    const context = fakeContext();
    context.projectsConfigurations.projects.api = {
      root: 'apps/api',
      targets: {
        'docker-build': { command: 'docker build -t api .', cache: false },
        'docker-push': { executor: '@dockpush/nx:push', dependsOn: ['docker-build'] },
      },
    };
    const { text } = await run(
      { repo: 'localhost:5000/api', source: 'api' },
      {
        pushImage: async () => {
          throw new ImageNotFoundError('api', 'Build it first.');
        },
      },
      context,
    );
    expect(text('error')).not.toContain('cacheable');
  });

  it('lists which tags failed and why when a push fails', async () => {
    const { outcome, text } = await run(
      { repo: 'localhost:5000/api' },
      {
        pushImage: async () => {
          throw new PushFailedError([
            {
              tag: 'latest',
              uri: 'localhost:5000/api:latest',
              status: 'pushed',
              digest: 'sha256:1',
              size: 1,
              attempts: 1,
            },
            { tag: '1.0.0', uri: 'localhost:5000/api:1.0.0', status: 'failed', error: 'denied: nope', attempts: 1 },
          ]);
        },
      },
    );
    expect(outcome).toEqual({ success: false });
    expect(text('error')).toContain('NX api:docker-push: push failed');
    expect(text('error')).toContain('✖ localhost:5000/api:1.0.0 failed after 1 attempt: denied: nope');
    expect(text('error')).toContain('✔ localhost:5000/api:latest pushed');
  });

  it('relays the advice of a missing image', async () => {
    const { outcome, text } = await run(
      { repo: 'localhost:5000/api' },
      {
        pushImage: async () => {
          throw new ImageNotFoundError('localhost:5000/api:latest', 'Tag the image first.');
        },
      },
    );
    expect(outcome).toEqual({ success: false });
    expect(text('error')).toContain(
      'No local image "localhost:5000/api:latest" in the Docker engine. Tag the image first.',
    );
  });

  it('reports an unexpected error with its stack instead of throwing', async () => {
    const { outcome, text } = await run(
      { repo: 'localhost:5000/api' },
      {
        pushImage: async () => {
          throw new TypeError('boom');
        },
      },
    );
    expect(outcome).toEqual({ success: false });
    expect(text('error')).toContain('NX api:docker-push failed unexpectedly');
    expect(text('error')).toContain('TypeError: boom');
  });

  it('redacts known secrets from an unexpected error and its stack', async () => {
    registerSecret('nx-stack-secret-1234');
    const { text } = await run(
      { repo: 'localhost:5000/api' },
      {
        pushImage: async () => {
          throw new TypeError('request with nx-stack-secret-1234 failed');
        },
      },
    );
    expect(text('error')).toContain('TypeError: request with *** failed');
    expect(text('error')).not.toContain('nx-stack-secret-1234');
  });

  it('cancels the push on SIGINT and stops listening afterwards', async () => {
    const signals = new EventEmitter();
    let seen: AbortSignal | undefined;
    const pending = pushExecutor({ repo: 'localhost:5000/api' }, fakeContext(), {
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      progress: { write: () => true },
      env: {},
      signals: signals as unknown as PushExecutorDependencies['signals'],
      pushImage: (_input, opts) =>
        new Promise<PushResult | PushPlan>((_resolve, reject) => {
          seen = opts.signal;
          opts.signal?.addEventListener('abort', () => reject(new PushCancelledError([])));
        }),
    });
    await Promise.resolve();
    signals.emit('SIGINT');
    await expect(pending).resolves.toEqual({ success: false });
    expect(seen?.aborted).toBe(true);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('has core write the result where outputFile says, tokens resolved', async () => {
    const { calls } = await run({ repo: 'localhost:5000/api', outputFile: '{workspaceRoot}/out/{projectName}.json' });
    expect((calls[0]?.input as PushExecutorSchema).outputFile).toBe(join(root, 'out', 'api.json'));
  });
});
