import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { PushFailedError, pushImage, type PushEvent, type PushResult, RegistryAuthError } from '@dockpush/core';
import { describeEachEngine, engineArgs, type E2eEngine } from '../support/engines';
import { e2eContainerName } from '../support/env';
import { FaultProxy, type FaultRule } from '../support/fault-proxy';
import { createTestImage, removeImage } from '../support/images';
import { listTags, manifestDigest } from '../support/registry-api';
import { startTestRegistry, type TestRegistry } from '../support/registries';
import { recordReliability } from '../support/reliability-record';

/**
 * Faults injected between each push engine (the Docker engine, or dockpush's own registry
 * engine) and a real registry:2 by a proxy of the tests' own. After every case the registry
 * holds exactly the tags reported as pushed, each with the reported digest.
 */
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const sourceRef = `dockpush-e2e-faults:${unique}`;
const env: NodeJS.ProcessEnv = { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'dockpush-faults-')) };
env.DOCKER_CONFIG = env.HOME;

let registry: TestRegistry;
let proxy: FaultProxy;
let n = 0;
const fresh: string[] = [];

beforeAll(async () => {
  registry = await startTestRegistry(e2eContainerName('faults'));
  proxy = await FaultProxy.start(registry.host);
  await createTestImage(docker, sourceRef, { layers: 3, bytesPerLayer: 1024 * 1024 });
});

afterAll(async () => {
  await proxy?.close();
  registry?.remove();
  await removeImage(docker, sourceRef);
  for (const ref of fresh) await removeImage(docker, ref);
});

interface Run {
  repoName: string;
  result?: PushResult;
  error?: unknown;
  events: PushEvent[];
  ms: number;
}

/**
 * Pushes a fresh image (layers the registry has never seen, so they are really
 * uploaded rather than mounted) through the proxy with the given faults.
 */
async function pushThroughProxy(engine: E2eEngine, faults: FaultRule[], tags = ['1', '2'], retries = 3): Promise<Run> {
  const repoName = `faults-${++n}-${unique}`;
  const source = `dockpush-e2e-faults-${n}:${unique}`;
  await createTestImage(docker, source, { layers: 2, bytesPerLayer: 1024 * 1024 });
  fresh.push(source);
  proxy.setFaults(faults);
  proxy.clearRecord();
  const events: PushEvent[] = [];
  const started = Date.now();
  const run: Run = { repoName, events, ms: 0 };
  try {
    run.result = (await pushImage(
      { repo: `${proxy.host}/${repoName}`, source, tags, retries, ...engineArgs(engine) },
      { docker, env, onProgress: (e) => events.push(e) },
    )) as PushResult;
  } catch (error) {
    run.error = error;
  }
  run.ms = Date.now() - started;
  proxy.setFaults([]);
  if (process.env.DOCKPUSH_E2E_TRACE) console.log(repoName, JSON.stringify(proxy.requests, null, 1), run.error);
  return run;
}

/** The registry (read directly, not through the proxy) holds exactly what was reported pushed. */
async function expectRegistryMatchesReport(run: Run): Promise<void> {
  const reported =
    run.result?.pushed ??
    (run.error instanceof PushFailedError
      ? run.error.outcomes.flatMap((o) => (o.status === 'pushed' ? [{ tag: o.tag, digest: o.digest }] : []))
      : []);
  expect((await listTags(registry.host, run.repoName)).sort()).toEqual(reported.map((p) => p.tag).sort());
  for (const p of reported) expect(await manifestDigest(registry.host, run.repoName, p.tag)).toBe(p.digest);
}

const retriesOf = (run: Run) => run.events.filter((e) => e.type === 'tag-retrying').length;
const attemptsOf = (run: Run) => run.events.filter((e) => e.type === 'tag-started').length;

/** Who dealt with the faults: dockpush's retries of whole tags, or the engine's own retries and resumes. */
function retriesDetail(engine: E2eEngine, run: Run): string {
  const retries = retriesOf(run);
  if (engine === 'docker') {
    return retries > 0
      ? `${retries} dockpush retr${retries === 1 ? 'y' : 'ies'} of a tag`
      : 'dockpush did not need to retry (the engine retried or waited it out)';
  }
  const manifests = retries > 0 ? `; ${retries} a tag's manifest sent again (tag-retrying)` : '';
  return `no tag pushed again: the registry engine retried or resumed the requests (${proxy.requests.length} requests in all${manifests})`;
}

/**
 * Requests that carry a layer's bytes: the Docker engine sends them in PATCH requests; the
 * registry engine in PATCH requests too, or a small layer whole in its closing PUT.
 */
const layerData = { method: ['PATCH', 'PUT'], path: /\/blobs\/uploads\//, minBytes: 64 * 1024 };

describeEachEngine('transient faults are survived', (engine: E2eEngine) => {
  it.each<[string, FaultRule[]]>([
    ['connection resets on the first two layer uploads', [{ ...layerData, action: { kind: 'reset' }, times: 2 }]],
    [
      '503 for the first 3 requests',
      [{ action: { kind: 'status', status: 503, code: 'UNAVAILABLE', message: 'service unavailable' }, times: 3 }],
    ],
    ['an upload cut after 64 KiB', [{ ...layerData, action: { kind: 'cut', afterBytes: 64 * 1024 }, times: 1 }]],
    [
      'a 3 s stall on the first manifest',
      [{ method: 'PUT', path: /\/manifests\//, action: { kind: 'stall', ms: 3000 }, times: 1 }],
    ],
    [
      'a reset on the first manifest upload',
      [{ method: 'PUT', path: /\/manifests\//, action: { kind: 'reset' }, times: 1 }],
    ],
    [
      '503 on the blob upload start, twice',
      [
        {
          method: 'POST',
          path: /\/blobs\/uploads\//,
          action: { kind: 'status', status: 503, code: 'UNAVAILABLE', message: 'try later' },
          times: 2,
        },
      ],
    ],
  ])('%s', async (what, faults) => {
    const run = await pushThroughProxy(engine, faults);
    const injected = proxy.requests.filter((r) => r.injected).length;
    // The layers were uploaded, not mounted from another repository.
    expect(proxy.count('PATCH', /\/blobs\/uploads\//) + proxy.count('PUT', /\/blobs\/uploads\//)).toBeGreaterThan(0);
    recordReliability({
      kind: 'fault',
      engine,
      case: what,
      outcome: run.error
        ? `failed: ${(run.error as Error).message.split('\n')[0]}`
        : `pushed ${run.result?.pushed.length} tags`,
      detail: `${injected} fault${injected === 1 ? '' : 's'} injected; ${retriesDetail(engine, run)}; ${(run.ms / 1000).toFixed(1)} s`,
    });
    expect(run.error).toBeUndefined();
    expect(injected).toBeGreaterThan(0);
    expect(run.result?.pushed.map((p) => p.tag)).toEqual(['1', '2']);
    await expectRegistryMatchesReport(run);
  });

  it('the registry stopped mid-push and restarted', async () => {
    // Stop the registry as the first layer upload starts; bring it back 2 s later.
    let stopped = false;
    proxy.setFaults([]);
    const onRequest = setInterval(() => {
      if (!stopped && proxy.requests.some((r) => r.method === 'PATCH' || r.method === 'POST')) {
        stopped = true;
        registry.stop();
        setTimeout(() => void registry.start(), 2000);
      }
    }, 5);
    try {
      const run = await pushThroughProxy(engine, [], ['1', '2'], 5);
      recordReliability({
        kind: 'fault',
        engine,
        case: 'registry stopped mid-push, restarted after 2 s',
        outcome: run.error
          ? `failed: ${(run.error as Error).message.split('\n')[0]}`
          : `pushed ${run.result?.pushed.length} tags`,
        detail: `${retriesDetail(engine, run)}; ${(run.ms / 1000).toFixed(1)} s`,
      });
      expect(stopped).toBe(true);
      expect(run.error).toBeUndefined();
      await expectRegistryMatchesReport(run);
    } finally {
      clearInterval(onRequest);
    }
  });
});

describeEachEngine('failures that last', (engine: E2eEngine) => {
  it('a registry that stays down fails after the configured retries, naming each tag', async () => {
    registry.stop();
    try {
      const repoName = `faults-down-${engine}-${unique}`;
      const events: PushEvent[] = [];
      const started = Date.now();
      const error = await pushImage(
        {
          repo: `${registry.host}/${repoName}`,
          source: sourceRef,
          tags: ['1', '2'],
          retries: 2,
          ...engineArgs(engine),
        },
        { docker, env, onProgress: (e) => events.push(e) },
      ).catch((e: unknown) => e);
      const run: Run = { repoName, error, events, ms: Date.now() - started };
      expect(error).toBeInstanceOf(PushFailedError);
      const outcomes = (error as PushFailedError).outcomes;
      expect(outcomes.map((o) => [o.tag, o.status])).toEqual([
        ['1', 'failed'],
        ['2', 'failed'],
      ]);
      if (engine === 'docker') {
        // The engine's push of a tag fails as a whole: dockpush pushes the tag again, `retries` times.
        expect(outcomes.map((o) => (o.status === 'failed' ? o.attempts : 0))).toEqual([3, 3]);
        expect((error as Error).message).toMatch(
          /2 of 2 tags not pushed:\n {2}✖ .*:1 failed after 3 attempts: .*connection refused/,
        );
        expect((error as Error).message).toMatch(/kept failing after 2 retries; check that it is up and reachable/);
        expect(retriesOf(run)).toBe(4);
      } else {
        // The registry engine retries each request `retries` times, and names the registry and the request.
        expect((error as Error).message).toMatch(
          new RegExp(
            `2 of 2 tags not pushed:\\n {2}✖ .*:1 failed.*: GET /v2/ on ${registry.host} failed: .*ECONNREFUSED`,
          ),
        );
      }
      recordReliability({
        kind: 'fault',
        engine,
        case: 'registry down for the whole push (retries: 2)',
        outcome: `failed as expected: PushFailedError naming both tags${engine === 'docker' ? ', 3 attempts each' : ''}`,
        detail: `${attemptsOf(run)} attempts in all, ${(run.ms / 1000).toFixed(1)} s`,
      });
      await registry.start();
      await expectRegistryMatchesReport(run);
    } finally {
      await registry.start();
    }
  });

  const lasting: [string, FaultRule, RegExp, unknown][] = [
    [
      'manifest invalid',
      {
        method: 'PUT',
        path: /\/manifests\//,
        action: { kind: 'status', status: 400, code: 'MANIFEST_INVALID', message: 'manifest invalid' },
      },
      /manifest invalid/,
      PushFailedError,
    ],
    [
      'denied',
      {
        method: 'PUT',
        path: /\/manifests\//,
        action: {
          kind: 'status',
          status: 403,
          code: 'DENIED',
          message: 'requested access to the resource is denied',
        },
      },
      /denied/,
      PushFailedError,
    ],
    [
      'unauthorized',
      {
        method: 'PUT',
        path: /\/manifests\//,
        action: { kind: 'status', status: 401, code: 'UNAUTHORIZED', message: 'authentication required' },
      },
      /unauthorized|authentication required/,
      RegistryAuthError,
    ],
  ];
  it.each(lasting)('%s is not retried', async (what, fault, message, errorClass) => {
    const run = await pushThroughProxy(engine, [fault], ['1']);
    expect(run.error).toBeInstanceOf(errorClass);
    expect((run.error as Error).message).toMatch(message);
    expect(attemptsOf(run)).toBe(1);
    expect(retriesOf(run)).toBe(0);
    recordReliability({
      kind: 'fault',
      engine,
      case: `registry answers ${what}`,
      outcome: `failed at once: ${(run.error as Error).name}`,
      detail: `${attemptsOf(run)} attempt, 0 retries`,
    });
    await expectRegistryMatchesReport(run);
  });
});
