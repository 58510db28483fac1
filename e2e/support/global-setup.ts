import { spawnSync, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashSync } from 'bcryptjs';
import { freeLoopbackPorts } from './loopback-port';
import { packWorkspacePackages, scratchRoot } from './packages';
import { isProcessAlive } from './process-alive';
import { reliabilityLog } from './reliability-record';
import {
  e2eContainerPrefix,
  e2eEnvFile,
  e2eRegistryNames,
  e2eRunId,
  e2eTmpDir,
  testEnvScripts,
  type E2eEnv,
} from './env';

const username = 'dockpush-e2e';

/**
 * Jest globalSetup of the e2e project: a real engine (started when there is none and we may),
 * the `registry:2` image, and two fresh registries on free loopback ports, described in
 * `tmp/e2e-env-<run>.json` for `loadE2eEnv()`. Fails loudly: the e2e tests never skip silently.
 */
export default async function globalSetup(): Promise<void> {
  process.env.DOCKPUSH_E2E_RUN = e2eRunId;
  runScript('ensure-engine.sh', [], 'no Docker engine could be had');
  runScript('ensure-registry-image.sh', [], 'the registry:2 image could not be had');
  runScript('ensure-skopeo.sh', [], 'skopeo could not be had');
  removeContainersOfDeadRuns();
  rmSync(reliabilityLog, { force: true });
  removeOldScratchProjects();

  const [plainPort, authPort] = await freeLoopbackPorts(2);
  const password = randomBytes(18).toString('base64url');
  const htpasswdFile = path.join(e2eTmpDir, `e2e-auth-${e2eRunId}.htpasswd`);
  mkdirSync(e2eTmpDir, { recursive: true });
  writeFileSync(htpasswdFile, `${username}:${hashSync(password, 10)}\n`, { mode: 0o600 });

  startRegistry(e2eRegistryNames.plain, plainPort);
  startRegistry(e2eRegistryNames.auth, authPort, ['--htpasswd', htpasswdFile]);

  const env: E2eEnv = {
    plain: { host: `127.0.0.1:${plainPort}` },
    auth: { host: `127.0.0.1:${authPort}`, username, password },
    ...(process.env.DOCKER_HOST ? { dockerHost: process.env.DOCKER_HOST } : {}),
  };
  writeFileSync(e2eEnvFile, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
  packWorkspacePackages();
}

function startRegistry(name: string, port: number | undefined, extra: string[] = []): void {
  if (port === undefined) throw new Error('dockpush e2e: no free loopback port');
  // stdout only carries the registry's URL; keep it out of jest's output.
  runScript('run-registry.sh', ['--name', name, '--port', String(port), ...extra], `registry ${name} did not start`, [
    'ignore',
    'ignore',
    'inherit',
  ]);
}

function runScript(script: string, args: string[], what: string, stdio: StdioOptions = 'inherit'): void {
  const file = path.join(testEnvScripts, script);
  const result = spawnSync('bash', [file, ...args], { stdio });
  if (result.status === 0) return;
  const how = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
  throw new Error(
    [
      '',
      '================================================================',
      `dockpush e2e: ${what} (${script} failed: ${how}).`,
      'The e2e tests need a real Docker engine and registry; they do not skip.',
      'Its message is printed above. As root on Debian, tools/test-env/up.sh sets',
      'everything up; elsewhere, start Docker or point DOCKER_HOST at an engine.',
      '================================================================',
    ].join('\n'),
  );
}

/**
 * Containers left by runs that ended without their teardown (killed, or the machine's
 * processes ended): their names end with the pid of a run that is no longer alive.
 */
function removeContainersOfDeadRuns(): void {
  const listed = spawnSync('docker', ['ps', '-a', '--filter', `name=${e2eContainerPrefix}`, '--format', '{{.Names}}'], {
    encoding: 'utf8',
  });
  for (const name of (listed.stdout ?? '').split('\n').filter(Boolean)) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    // A name without a run's pid (the ECR registry, whose lock is port 443) is not this cleanup's
    // to judge: removing it took the registry from under a run still going.
    if (!pid || (pid !== process.pid && isProcessAlive(pid))) continue;
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
  }
}

/** Scratch projects of earlier runs (each test file makes its own, hundreds of MB with nx). */
function removeOldScratchProjects(): void {
  const scratch = scratchRoot;
  if (!existsSync(scratch)) return;
  const hourAgo = Date.now() - 3600_000;
  for (const entry of readdirSync(scratch)) {
    const dir = path.join(scratch, entry);
    // Another run on the machine may be removing it at the same time.
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (stat && stat.mtimeMs < hourAgo) rmSync(dir, { recursive: true, force: true });
  }
}
