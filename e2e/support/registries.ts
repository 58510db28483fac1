import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { testEnvScripts } from './env';
import { freeLoopbackPort } from './loopback-port';

/** A registry:2 container of one test file's own, on a free loopback port. */
export interface TestRegistry {
  name: string;
  host: string;
  stop(): void;
  start(): Promise<void>;
  remove(): void;
}

/**
 * Starts a fresh, empty registry (removing any container of that name first); with
 * `htpasswd`, a file of bcrypt entries, it asks for Basic credentials.
 */
export async function startTestRegistry(name: string, options: { htpasswd?: string } = {}): Promise<TestRegistry> {
  const port = await freeLoopbackPort();
  const run = (script: string, args: string[]) =>
    execFileSync('bash', [path.join(testEnvScripts, script), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  run('run-registry.sh', [
    '--name',
    name,
    '--port',
    String(port),
    ...(options.htpasswd ? ['--htpasswd', options.htpasswd] : []),
  ]);
  const docker = (...args: string[]) => execFileSync('docker', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    name,
    host: `127.0.0.1:${port}`,
    stop: () => docker('stop', '-t', '1', name),
    start: async () => {
      docker('start', name);
      await waitForRegistry(port);
    },
    remove: () => run('stop-registry.sh', [name]),
  };
}

async function waitForRegistry(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`registry on 127.0.0.1:${port} did not come back`);
}
