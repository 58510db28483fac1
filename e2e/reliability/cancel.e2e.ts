import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { PushCancelledError, pushImage } from '@dockpush/core';
import { e2eContainerName, repoRoot } from '../support/env';
import { FaultProxy } from '../support/fault-proxy';
import { describeEachEngine, engineArgs, engineFlags, type E2eEngine } from '../support/engines';
import { createTestImage, removeImage } from '../support/images';
import { listTags } from '../support/registry-api';
import { startTestRegistry, type TestRegistry } from '../support/registries';
import { recordReliability } from '../support/reliability-record';

/**
 * Cancellation mid-push: the first tag has gone through, the second is held at its
 * manifest by the proxy when SIGINT (CLI) or the AbortSignal (API) arrives. The Docker
 * engine cannot stop a push once started (it finishes it even when its client disconnects),
 * and a manifest the registry engine has sent may land whatever dockpush does next; so with
 * either engine dockpush starts no new tag, watches the one in flight to its end, and reports
 * exactly what reached the registry: nothing lands unreported.
 */
const docker = new Dockerode();
const unique = `${process.pid}-${Date.now().toString(36)}`;
const source = `dockpush-e2e-cancel:${unique}`;
const cli = join(repoRoot, 'packages/dockpush/dist/cli/main.js');
const home = mkdtempSync(join(tmpdir(), 'dockpush-cancel-'));
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, DOCKER_CONFIG: home, CI: 'true' };
delete env.DEBUG;

let registry: TestRegistry;
let proxy: FaultProxy;

beforeAll(async () => {
  registry = await startTestRegistry(e2eContainerName('cancel'));
  proxy = await FaultProxy.start(registry.host);
  await createTestImage(docker, source, { layers: 2, bytesPerLayer: 512 * 1024 });
});
afterAll(async () => {
  await proxy?.close();
  registry?.remove();
  await removeImage(docker, source);
});

/** Holds the manifest uploads of tags 2 and 3 for 3 s; resolves once one is being held. */
function holdManifestsAfterTheFirstTag(): Promise<void> {
  proxy.clearRecord();
  proxy.setFaults([{ method: 'PUT', path: /\/manifests\/(2|3)$/, action: { kind: 'stall', ms: 3000 } }]);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (proxy.count('PUT', /\/manifests\/(2|3)$/) >= 1) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
}

/** What the registry holds a while after the push ended: nothing may land late. */
async function settle(name: string): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 4000));
  return (await listTags(registry.host, name)).sort();
}

describeEachEngine('cancellation', (engine: E2eEngine) => {
  it('Ctrl-C in the CLI stops the push, exits 130 and reports the completed tags', async () => {
    const name = `cancel-cli-${engine}-${unique}`;
    const held = holdManifestsAfterTheFirstTag();
    const child = spawn(
      process.execPath,
      [
        cli,
        'push',
        '--repo',
        `${proxy.host}/${name}`,
        '--source',
        source,
        '--tag',
        '1',
        '--tag',
        '2',
        '--tag',
        '3',
        '--concurrency',
        '1',
        ...engineFlags(engine),
      ],
      { env },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await held;
    child.kill('SIGINT');
    const code = await exited;
    const inRegistry = await settle(name);
    recordReliability({
      kind: 'cancel',
      engine,
      case: 'SIGINT to the CLI while tag 2 of 3 is in flight',
      outcome: `exit ${code}; registry holds [${inRegistry.join(', ')}]`,
      detail: stderr
        .split('\n')
        .filter((l) => /Push cancelled|^\s*✔|^\s*- /.test(l))
        .slice(0, 3)
        .join(' / '),
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: no new tag starts; waiting for those in flight/);
    expect(stderr).toMatch(/Push cancelled\. 2 of 3 tags had completed/);
    expect(stderr).toMatch(new RegExp(`✔ .*${name}:1 sha256:`));
    expect(stderr).toMatch(new RegExp(`✔ .*${name}:2 sha256:`));
    expect(inRegistry).toEqual(['1', '2']);
    // Tag 3 was never started.
    expect(proxy.count('PUT', /manifests\/3$/)).toBe(0);
  });

  it('an AbortSignal in the API stops the push and reports the completed tags', async () => {
    const name = `cancel-api-${engine}-${unique}`;
    const held = holdManifestsAfterTheFirstTag();
    const controller = new AbortController();
    const pending = pushImage(
      { repo: `${proxy.host}/${name}`, source, tags: ['1', '2', '3'], concurrency: 1, ...engineArgs(engine) },
      { docker, env, signal: controller.signal },
    ).catch((e: unknown) => e);
    await held;
    const abortedAt = Date.now();
    controller.abort(new Error('test abort'));
    const error = await pending;
    const stoppedInMs = Date.now() - abortedAt;
    const inRegistry = await settle(name);
    recordReliability({
      kind: 'cancel',
      engine,
      case: 'AbortSignal in pushImage while tag 2 of 3 is in flight',
      outcome: `PushCancelledError after ${stoppedInMs} ms; registry holds [${inRegistry.join(', ')}]`,
      detail: (error as Error).message.split('\n')[0] ?? '',
    });
    expect(error).toBeInstanceOf(PushCancelledError);
    // It waited for tag 2, held 3 s by the registry, and no longer.
    expect(stoppedInMs).toBeLessThan(6000);
    expect((error as PushCancelledError).outcomes.map((o) => [o.tag, o.status])).toEqual([
      ['1', 'pushed'],
      ['2', 'pushed'],
      ['3', 'skipped'],
    ]);
    expect(inRegistry).toEqual(['1', '2']);
    expect(proxy.count('PUT', /manifests\/3$/)).toBe(0);
  });
});
