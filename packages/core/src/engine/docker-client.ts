import type Dockerode from 'dockerode';
import { cancellationReason, formatDuration, timeoutMsOf, type WaitLimits, withDeadline } from '../deadline';
import { DockerUnavailableError } from '../errors';
import { dockerConnection } from './docker-connection';
import { redactLibraryDebugOutput } from '../debug-redaction';

/**
 * Where the engine is: `DOCKER_HOST`, else the default socket. A password in the URL
 * (`tcp://admin:secret@host:2376`) is masked: this text goes into messages.
 */
export function describeDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return maskUserinfo(env.DOCKER_HOST || 'unix:///var/run/docker.sock');
}

/** `scheme://user:password@host` → `scheme://user:***@host`; anything else unchanged. */
export function maskUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

/** How much longer than the deadline a socket may stay silent before it is closed. */
export const SOCKET_MARGIN_MS = 500;

/**
 * A dockerode client for `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`), else
 * the socket, read from `env` (the push's, else the process's). Every request it makes is
 * dropped after `timeoutMs` of silence, so a hung engine leaves no open socket behind
 * (dockpush's own deadlines fire a little earlier, with a clearer message).
 */
export function createDockerClient(
  limits: Pick<WaitLimits, 'timeoutMs'> = {},
  env: NodeJS.ProcessEnv = process.env,
): Dockerode {
  // Loaded on first use: dockerode (and ssh2 under it) costs about 200 ms of start-up,
  // which a dry run or a `--help` need not pay.
  const DockerodeClient = require('dockerode') as typeof Dockerode;
  redactLibraryDebugOutput();
  return new DockerodeClient({ ...dockerConnection(env), timeout: timeoutMsOf(limits) + SOCKET_MARGIN_MS });
}

/**
 * One request to the engine under the deadline: `DockerUnavailableError` naming the
 * request and the deadline when the engine does not answer in time, the cancellation
 * when the run is cancelled, the engine's own error otherwise.
 */
export async function engineCall<T>(
  env: NodeJS.ProcessEnv | undefined,
  limits: WaitLimits,
  what: string,
  call: (signal: AbortSignal) => Promise<T>,
  ms = timeoutMsOf(limits),
  /** What to do when the engine does not answer in time (the deadline being `timeout`'s, by default). */
  advice = 'if the engine is only slow, allow it longer with timeout (--timeout)',
): Promise<T> {
  const host = describeDockerHost(env);
  try {
    return await withDeadline(
      call,
      ms,
      () => new DockerUnavailableError(host, `no answer to ${what} within ${formatDuration(ms)}; ${advice}`),
      limits.signal,
    );
  } catch (error) {
    if (error instanceof DockerUnavailableError) throw error;
    if (limits.signal?.aborted) throw cancellationReason(limits.signal);
    const e = error as NodeJS.ErrnoException & { statusCode?: number };
    // An answer (an HTTP status) is the caller's to interpret; no answer is unavailability.
    if (e.statusCode !== undefined || !e.code) throw error;
    throw new DockerUnavailableError(host, e.code, { cause: error });
  }
}
