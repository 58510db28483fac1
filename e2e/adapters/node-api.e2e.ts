import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { loadE2eEnv, repoRoot } from '../support/env';
import { createTestImage, removeImage } from '../support/images';
import { createScratchProject } from '../support/packages';
import { listTags, manifestDigest } from '../support/registry-api';
import { userEnv } from './run-command';

/**
 * The `dockpush` Node API as npm installs it from the packed package: required from the
 * scratch project (CommonJS), typed through its declarations, and cancelled mid-push.
 */
const env = loadE2eEnv();
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-api:${unique}`;
const bigRef = `dockpush-e2e-api-big:${unique}`;
const repoName = (name: string) => `api-${name}-${unique}`;
const repo = (name: string) => `${env.plain.host}/${repoName(name)}`;
const localRefs: string[] = [];

type Api = typeof import('dockpush');
let api: Api;
let project: string;
const options = () => ({ docker, env: userEnv() });

beforeAll(async () => {
  await createTestImage(docker, sourceRef, { layers: 2, bytesPerLayer: 64 * 1024 });
  await createTestImage(docker, bigRef, { layers: 3, bytesPerLayer: 8 * 1024 * 1024 });
  project = createScratchProject('node-api', { packages: ['dockpush'] });
  api = require(require.resolve('dockpush', { paths: [project] })) as Api;
});

afterAll(async () => {
  for (const ref of [sourceRef, bigRef, ...localRefs]) await removeImage(docker, ref);
});

describeEachEngine("require('dockpush')", (engine: E2eEngine) => {
  /** A repository name of this engine's own. */
  const n = (name: string) => `${engine}-${name}`;

  it('pushes with pushImage, reporting progress, and resolves to the result', async () => {
    localRefs.push(`${repo(n('push'))}:1.0.0`, `${repo(n('push'))}:latest`);
    const events: string[] = [];
    const result = await api.pushImage(
      { repo: repo(n('push')), source: sourceRef, tags: ['1.0.0', 'latest'], ...engineArgs(engine) },
      { ...options(), onProgress: (e) => events.push(e.type) },
    );
    expect(result.image.repo).toBe(repo(n('push')));
    expect(result.engine).toBe(engine);
    expect(result.pushed.map((p) => p.tag)).toEqual(['1.0.0', 'latest']);
    expect((await listTags(env.plain.host, repoName(n('push')))).sort()).toEqual(['1.0.0', 'latest']);
    for (const p of result.pushed) {
      expect(await manifestDigest(env.plain.host, repoName(n('push')), p.tag)).toBe(p.digest);
    }
    expect(events.filter((t) => t === 'tag-done')).toHaveLength(2);
  });

  it("resolves a plan with resolvePushPlan, in Runway's spelling too, and pushes nothing", async () => {
    const plan = await api.resolvePushPlan({ repo: repo(n('plan')), tags: ['1'], ...engineArgs(engine) }, options());
    expect(plan).toEqual({
      repo: repo(n('plan')),
      tags: ['1'],
      uri: { '1': `${repo(n('plan'))}:1` },
      registry: env.plain.host,
      source: null,
      credentials: 'anonymous',
      engine,
    });
    const runway = await api.resolvePushPlan(
      { ecr_repo: { repo_name: 'app', account_id: '123456789012', aws_region: 'eu-west-1' }, ...engineArgs(engine) },
      options(),
    );
    expect(runway.repo).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app');
    expect(await listTags(env.plain.host, repoName(n('plan')))).toEqual([]);
  });

  it('aborts an in-flight push through its signal: PushCancelledError, and only completed tags in the registry', async () => {
    localRefs.push(`${repo(n('abort'))}:a`, `${repo(n('abort'))}:b`, `${repo(n('abort'))}:c`);
    const controller = new AbortController();
    let abortedAt: number | undefined;
    const error: unknown = await api
      .pushImage(
        { repo: repo(n('abort')), source: bigRef, tags: ['a', 'b', 'c'], ...engineArgs(engine) },
        {
          ...options(),
          signal: controller.signal,
          onProgress: (e) => {
            if (abortedAt === undefined && e.type === 'layer' && e.state === 'pushing' && (e.current ?? 0) > 0) {
              abortedAt = e.current;
              controller.abort();
            }
          },
        },
      )
      .catch((e: unknown) => e);
    expect(abortedAt).toBeDefined();
    expect(error).toBeInstanceOf(api.PushCancelledError);
    const outcomes = (error as InstanceType<Api['PushCancelledError']>).outcomes;
    expect(outcomes.map((o) => o.tag)).toEqual(['a', 'b', 'c']);
    const completed = outcomes.filter((o) => o.status === 'pushed').map((o) => o.tag);
    if (engine === 'docker') {
      // Cancelled during the first tag's upload, the others never start. (The first may still
      // complete when the engine's last events were already on their way.)
      expect(outcomes.filter((o) => o.tag !== 'a').map((o) => o.status)).toEqual(['skipped', 'skipped']);
    } else {
      // The registry engine uploads the layers once for every tag, then writes the manifests:
      // cancelled during a layer upload, no tag was pushed.
      expect(completed).toEqual([]);
    }
    // Time for an engine that had not stopped to finish a manifest.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await listTags(env.plain.host, repoName(n('abort')))).toEqual(completed);
  });
});

describe("require('dockpush'), whatever the engine", () => {
  it('rejects bad arguments with the typed error, listing each issue', async () => {
    const error: unknown = await api
      .pushImage({ repo: 'localhost:5000/Bad', tags: ['ok', '-no'] }, options())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(api.ArgumentsError);
    expect((error as InstanceType<Api['ArgumentsError']>).issues.map((i) => i.path)).toEqual(['repo', 'tags.1']);
  });

  it('ships type declarations that type-check a consumer and catch a misspelt option', () => {
    writeFileSync(
      path.join(project, 'consumer.ts'),
      [
        "import { pushImage, resolvePushPlan, PushCancelledError, type PushResult, type PushPlan } from 'dockpush';",
        'async function main(signal: AbortSignal): Promise<void> {',
        "  const result: PushResult = await pushImage({ repo: 'localhost:5000/app', tags: ['1'] }, { signal, onProgress: (e) => e.type });",
        "  const plan: PushPlan = await pushImage({ repo: 'localhost:5000/app', dryRun: true });",
        "  const runway: PushPlan = await resolvePushPlan({ ecr_repo: { repo_name: 'app' }, tags: ['1'] });",
        '  console.log(result.pushed[0]?.digest, plan.credentials, runway.uri, new PushCancelledError([]).outcomes);',
        '  // @ts-expect-error: the option is tags',
        "  await pushImage({ repo: 'localhost:5000/app', tag: ['1'] });",
        '}',
        'void main(new AbortController().signal);',
      ].join('\n'),
    );
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = path.join(repoRoot, 'node_modules', '@types');
    const check = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--target',
        'ES2022',
        '--module',
        'commonjs',
        '--typeRoots',
        typeRoots,
        '--types',
        'node',
        'consumer.ts',
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
