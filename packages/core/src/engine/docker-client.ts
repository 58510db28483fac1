import type Dockerode from 'dockerode';
import { DockerUnavailableError } from '../errors';

/** Where the engine is: `DOCKER_HOST`, else the default socket. */
export function describeDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** A dockerode client for `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`), else the socket. */
export function createDockerClient(): Dockerode {
  // Loaded on first use: dockerode (and ssh2 under it) costs about 200 ms of start-up,
  // which a dry run or a `--help` need not pay.
  const DockerodeClient = require('dockerode') as typeof Dockerode;
  return new DockerodeClient();
}

const PING_TIMEOUT_MS = 10_000;

/** Fails with `DockerUnavailableError` unless the engine answers a ping. */
export async function assertEngineAvailable(docker: Dockerode, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const host = describeDockerHost(env);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS / 1000} s`)), PING_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new DockerUnavailableError(host, e.code ? `${e.code}` : e.message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
