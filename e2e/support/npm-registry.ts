import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { e2eRunId, e2eTmpDir, repoRoot } from './env';
import { freeLoopbackPort } from './loopback-port';
import { workspacePackages } from './packages';
import { isProcessAlive } from './process-alive';

/**
 * A real npm registry on the loopback: Verdaccio, as users' installs meet npm. The
 * dockpush packages are published to it and served from its storage only; every other
 * package comes through its uplink to the public npm registry.
 *
 * Verdaccio 6.8.0 is the newest that runs on Node 20 (6.10 needs Node 22), with
 * node-fetch held at 2.7.0. It is installed once, outside the repository (jest's module
 * map would see its packages and the registry's storage), and kept between runs.
 */
export const verdaccioVersion = '6.8.0';
const verdaccioDir = path.join(os.tmpdir(), `dockpush-e2e-verdaccio-${verdaccioVersion}`);
const verdaccioBin = path.join(verdaccioDir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

export interface NpmRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** Verdaccio's process id. */
  pid: number;
  /** Its config, storage and log. */
  root: string;
  /** An .npmrc line set pointing npm at it, with the publisher's token. */
  npmrc: string;
  stop(): Promise<void>;
}

function ensureVerdaccio(): void {
  if (existsSync(verdaccioBin)) return;
  rmSync(verdaccioDir, { recursive: true, force: true });
  mkdirSync(verdaccioDir, { recursive: true });
  writeFileSync(
    path.join(verdaccioDir, 'package.json'),
    JSON.stringify(
      {
        name: 'dockpush-e2e-verdaccio',
        version: '0.0.0',
        private: true,
        dependencies: { verdaccio: verdaccioVersion },
        overrides: { 'node-fetch': '2.7.0' },
      },
      null,
      2,
    ),
  );
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: verdaccioDir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  if (install.status !== 0 || !existsSync(verdaccioBin)) {
    throw new Error(`dockpush e2e: could not install verdaccio@${verdaccioVersion} into ${verdaccioDir}`);
  }
}

export interface StartNpmRegistryOptions {
  /**
   * Runs Verdaccio in a process group of its own, logging to a file, so that it outlives
   * the jest worker that started it (the shared registry; global teardown stops it).
   */
  detached?: boolean;
}

/** Starts a fresh registry (empty storage), adds a publisher, and waits until it answers (deadline 30 s). */
export async function startNpmRegistry(options: StartNpmRegistryOptions = {}): Promise<NpmRegistry> {
  ensureVerdaccio();
  const root = mkdtempSync(path.join(os.tmpdir(), `dockpush-e2e-npm-registry-${e2eRunId}-`));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/`;
  const local = { access: '$all', publish: '$authenticated', unpublish: '$authenticated' };
  const dockpushPackages = Object.keys(workspacePackages);
  writeFileSync(
    path.join(root, 'config.yaml'),
    [
      `storage: ${JSON.stringify(path.join(root, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(path.join(root, 'htpasswd'))}`,
      '    max_users: 1',
      'uplinks:',
      '  npmjs:',
      '    url: https://registry.npmjs.org/',
      '    timeout: 60s',
      'packages:',
      // Ours: served from storage only, never looked up upstream.
      ...dockpushPackages.flatMap((name) => [
        `  ${JSON.stringify(name)}:`,
        ...Object.entries(local).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      ]),
      "  '**':",
      "    access: '$all'",
      "    publish: '$authenticated'",
      '    proxy: npmjs',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const log = options.detached ? openSync(path.join(root, 'verdaccio.log'), 'a') : undefined;
  const child: ChildProcess = spawn(
    process.execPath,
    [verdaccioBin, '--config', path.join(root, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    { cwd: root, stdio: ['ignore', log ?? 'ignore', log ?? 'inherit'], detached: options.detached ?? false },
  );
  if (log !== undefined) {
    closeSync(log);
    child.unref();
  }
  const stop = async () => {
    // A child still running keeps jest's process alive: SIGTERM, then SIGKILL, and wait for its exit.
    if (!(await endChild(child, 'SIGTERM', 5_000)) && !(await endChild(child, 'SIGKILL', 5_000))) {
      throw new Error(`dockpush e2e: verdaccio (pid ${child.pid}) did not exit after SIGKILL; kill it by hand`);
    }
    rmSync(root, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await request(`${url}-/ping`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const where = log !== undefined ? `in ${path.join(root, 'verdaccio.log')}` : 'above';
      throw new Error(`dockpush e2e: verdaccio did not answer on ${url} within 30 s (its messages are ${where})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  // A publisher account; Verdaccio answers with the token npm then sends.
  const user = `e2e${Date.now().toString(36)}`;
  const response = await request(
    `${url}-/user/org.couchdb.user:${user}`,
    'PUT',
    JSON.stringify({ name: user, password: `pw-${process.pid}-${Date.now()}`, type: 'user' }),
  );
  const token = (JSON.parse(response.body || '{}') as { token?: string }).token;
  if (response.status !== 201 || !token) {
    await stop();
    throw new Error(`dockpush e2e: verdaccio refused to add a publisher (${response.status})`);
  }
  const npmrc = `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`;
  if (child.pid === undefined) throw new Error('dockpush e2e: verdaccio did not start');
  return { url, npmrc, pid: child.pid, root, stop };
}

/**
 * One HTTP request on a connection of its own (no keep-alive pool: Verdaccio closes idle
 * sockets, and a pooled one would keep jest from exiting). Deadline 30 s.
 */
export function request(url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent: false, timeout: 30_000, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Publishes the workspace packages as a release does: `nx release publish` in the
 * repository (each package's nx-release-publish runs `npm publish`; builds are cached).
 */
export function publishWorkspacePackages(registry: NpmRegistry, userconfig: string): void {
  writeFileSync(userconfig, registry.npmrc, { mode: 0o600 });
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) {
    if (key.startsWith('NX_') || key.startsWith('npm_')) delete childEnv[key];
  }
  const result = spawnSync('npx', ['nx', 'release', 'publish', `--registry=${registry.url}`, '--outputStyle=static'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...childEnv, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', npm_config_userconfig: userconfig },
  });
  if (result.status !== 0) {
    throw new Error(`nx release publish --registry=${registry.url} failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/** Sends `signal` unless the child has exited; whether it has exited within `ms`. */
async function endChild(child: ChildProcess, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  child.kill(signal);
  const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([exited, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the run's shared registry is described: its URL, process id and folder. */
const sharedRegistryFile = path.join(e2eTmpDir, `npm-registry-${e2eRunId}.json`);
const sharedRegistryLock = `${sharedRegistryFile}.lock`;

interface SharedRegistryState {
  url: string;
  pid: number;
  root: string;
}

/**
 * The run's registry with the workspace packages published, started by the first test
 * file that asks and shared by the others (the e2e global teardown stops it): one
 * Verdaccio and one publish per run, paid only by runs that install from it. Deadline 10 min.
 */
export async function sharedNpmRegistry(): Promise<string> {
  const deadline = Date.now() + 600_000;
  mkdirSync(e2eTmpDir, { recursive: true });
  // mkdir is atomic: the worker that makes the lock starts the registry, the others wait.
  for (;;) {
    const state = readSharedRegistry();
    if (state && isProcessAlive(state.pid)) return state.url;
    try {
      mkdirSync(sharedRegistryLock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`dockpush e2e: ${sharedRegistryLock} held for 10 min; remove it`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    const registry = await startNpmRegistry({ detached: true });
    try {
      publishWorkspacePackages(registry, path.join(registry.root, '.npmrc-publisher'));
    } catch (error) {
      await registry.stop();
      throw error;
    }
    const state: SharedRegistryState = { url: registry.url, pid: registry.pid, root: registry.root };
    writeFileSync(sharedRegistryFile, `${JSON.stringify(state)}\n`);
    return registry.url;
  } finally {
    rmSync(sharedRegistryLock, { recursive: true, force: true });
  }
}

/** Stops the run's shared registry, if a test started one, and removes its storage. */
export function stopSharedNpmRegistry(): void {
  const state = readSharedRegistry();
  rmSync(sharedRegistryLock, { recursive: true, force: true });
  if (!state) return;
  try {
    // Its own process group (detached): the registry and anything it started.
    process.kill(-state.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  rmSync(state.root, { recursive: true, force: true });
  rmSync(sharedRegistryFile, { force: true });
}

function readSharedRegistry(): SharedRegistryState | undefined {
  try {
    return JSON.parse(readFileSync(sharedRegistryFile, 'utf8')) as SharedRegistryState;
  } catch {
    return undefined;
  }
}
