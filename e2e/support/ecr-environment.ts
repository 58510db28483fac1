import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashSync } from 'bcryptjs';
import type Dockerode from 'dockerode';
import { e2eTmpDir, testEnvScripts } from './env';
import { EcrRegistryFront } from './ecr-registry-front';
import { EcrStandIn } from './ecr-standin';
import { freeLoopbackPort } from './loopback-port';

/** The ECR e2e tests edit /etc/hosts and /etc/docker/certs.d and serve on :443: they run only when asked. */
export const ECR_E2E_SWITCH = 'DOCKPUSH_E2E_ECR';

export function ecrE2eEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ECR_E2E_SWITCH] === '1';
}

export const ECR_E2E_CONTAINER = 'dockpush-e2e-ecr';

export interface EcrE2eOptions {
  /** The account STS answers with. */
  accountId: string;
  /** Registry hosts sent to the front, with the test CA trusted by the engine. */
  hosts: string[];
  /** Hosts sent to the front without the CA, to show that the engine checks the certificate. */
  untrustedHosts?: string[];
  docker: Dockerode;
}

/**
 * Everything the ECR e2e tests need, on this machine and without AWS:
 * - the AWS stand-in (STS, ECR, ECR Public) on a loopback port, for the real SDK clients;
 * - a plain `registry:2` with htpasswd user `AWS`, whose password is in the stand-in's tokens;
 * - its TLS front on port 443 (see `EcrRegistryFront`), with a certificate of a test CA;
 * - the machine set-up of `tools/test-env/ecr-up.sh`: the CA in `/etc/docker/certs.d/<host>/`
 *   and `/etc/hosts` lines sending the hosts to the front.
 *
 * Where the front listens: 127.0.0.1. Test traffic stays on the loopback
 * range on these machines (any other address is off limits, the machine's own interface
 * included). The cost: on 127.0.0.0/8 the engine takes every registry for an insecure one
 * (Docker's built-in `insecure-registries`) and does not verify the certificate, so the test CA
 * in certs.d is installed as a user would install it but not exercised by the engine. TLS itself
 * is real: the engine speaks HTTPS to the front.
 */
export class EcrE2eEnvironment {
  private constructor(
    readonly standIn: EcrStandIn,
    readonly front: EcrRegistryFront,
    /** Where the hosts point and the front listens. */
    readonly address: string,
    /** The plain registry behind the front, `127.0.0.1:PORT`, for checking what was pushed. */
    readonly registry: string,
    /** Basic credentials the registry accepts: user `AWS` and the stand-in's password. */
    readonly registryAuth: { username: string; password: string },
  ) {}

  static async start(options: EcrE2eOptions): Promise<EcrE2eEnvironment> {
    const dir = path.join(e2eTmpDir, 'ecr-e2e');
    const address = '127.0.0.1';
    const password = randomBytes(24).toString('base64url');
    const registry = `127.0.0.1:${await freeLoopbackPort()}`;
    const standIn = await EcrStandIn.start({ accountId: options.accountId, password });
    const cleanups: Array<() => Promise<void> | void> = [() => standIn.close()];
    try {
      // Port 443 is the lock: a second run on this machine fails here, before it could undo the
      // first one's /etc/hosts lines, certs.d folders and registry.
      const front = await EcrRegistryFront.start({
        address,
        backend: registry,
        repositoryExists: (host, name) => standIn.hasRepository(host, name),
        registryIdOf: (host) => /^(\d{12})\./.exec(host)?.[1] ?? options.accountId,
      });
      cleanups.push(
        () => front.close(),
        () => runScript('ecr-down.sh', []),
      );

      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      runScript('ecr-up.sh', [
        '--addr',
        address,
        '--dir',
        dir,
        ...(options.untrustedHosts ?? []).flatMap((h) => ['--untrusted', h]),
        ...options.hosts,
      ]);
      front.useCertificate(
        readFileSync(path.join(dir, 'server.crt'), 'utf8'),
        readFileSync(path.join(dir, 'server.key'), 'utf8'),
      );

      const htpasswd = path.join(dir, 'htpasswd');
      writeFileSync(htpasswd, `AWS:${hashSync(password, 10)}\n`, { mode: 0o600 });
      const port = registry.split(':')[1] ?? '';
      runScript('run-registry.sh', ['--name', ECR_E2E_CONTAINER, '--port', port, '--htpasswd', htpasswd]);

      const auth = { username: 'AWS', password };
      await engineReachesFront(options.docker, options.hosts, auth);
      return new EcrE2eEnvironment(standIn, front, address, registry, auth);
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
      throw error;
    }
  }

  /** Removes everything `start` made: servers, the registry container, /etc/hosts lines, certs.d folders. */
  async stop(): Promise<void> {
    // The machine first, while port 443 (the lock) is still held.
    try {
      runScript('ecr-down.sh', []);
      rmSync(path.join(e2eTmpDir, 'ecr-e2e'), { recursive: true, force: true });
    } finally {
      await Promise.allSettled([this.front.close(), this.standIn.close()]);
    }
  }
}

/**
 * Logs the engine in to every host (`POST /auth`, which makes dockerd resolve the host, verify
 * the certificate and send Basic credentials). dockerd's resolver re-reads /etc/hosts only when
 * its cached copy is a few seconds old, so this waits for it.
 */
async function engineReachesFront(
  docker: Dockerode,
  hosts: string[],
  auth: { username: string; password: string },
): Promise<void> {
  const started = Date.now();
  for (const host of hosts) {
    for (let attempt = 1; ; attempt++) {
      try {
        await docker.checkAuth({ serveraddress: host, ...auth });
        break;
      } catch (error) {
        if (Date.now() - started > 20_000) {
          throw new Error(
            `dockpush ECR e2e: the Docker engine cannot log in to ${host} through the test front after ${attempt} ` +
              `attempts (${(error as Error).message}). Check /etc/hosts and /etc/docker/certs.d/${host}/ca.crt.`,
            { cause: error },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

function runScript(script: string, args: string[]): void {
  const result = spawnSync('bash', [path.join(testEnvScripts, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status === 0) return;
  throw new Error(
    `dockpush ECR e2e: ${script} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ` +
      `${result.stderr.trim()}`,
  );
}
