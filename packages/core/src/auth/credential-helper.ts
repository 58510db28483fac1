import type { ChildProcess } from 'node:child_process';
import { debugLog } from '../debug-log';
import { cancellationReason, formatDuration, timeoutMsOf, type WaitLimits } from '../deadline';
import { RegistryAuthError } from '../errors';

const debug = debugLog('dockpush:auth');

export interface HelperCredentials {
  username: string;
  secret: string;
}

/** Runs a Docker credential helper; an injectable seam for tests. */
export type CredentialHelperRunner = (
  helper: string,
  serverUrl: string,
  env?: NodeJS.ProcessEnv,
  limits?: WaitLimits,
) => Promise<HelperCredentials | undefined>;

/** A helper prints one small JSON object; more than this is an error, not a buffer to grow. */
export const HELPER_OUTPUT_LIMIT_BYTES = 1024 * 1024;

/**
 * After the helper exits, how long its output pipes may stay open: a child it left
 * behind can hold them open forever, and its answer is already complete.
 */
const PIPE_GRACE_MS = 200;

/**
 * `docker-credential-<helper> get` with the server URL on stdin, as the Docker CLI
 * does. `undefined` when the helper has no credentials for it.
 *
 * The helper runs in its own process group, so that on the deadline or a cancellation
 * it is killed together with any child it started. Its output is never quoted in an
 * error: it may hold the secret.
 */
export const runCredentialHelper: CredentialHelperRunner = (helper, serverUrl, env = process.env, limits) => {
  const program = `docker-credential-${helper}`;
  const timeoutMs = timeoutMsOf(limits);
  const signal = limits?.signal;
  const byHand = `echo ${serverUrl} | ${program} get`;
  debug('running %s get for %s', program, serverUrl);
  if (signal?.aborted) return Promise.reject(cancellationReason(signal));
  return new Promise((resolve, reject) => {
    // Loaded here: most pushes run no credential helper.
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;

    const finish = (outcome: () => HelperCredentials | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      signal?.removeEventListener('abort', onAbort);
      // Whatever the helper left behind goes with it.
      killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    };
    const fail = (error: Error) =>
      finish(() => {
        throw error;
      });

    const timer = setTimeout(
      () =>
        fail(
          new RegistryAuthError(
            serverUrl,
            `${program} get did not answer within ${formatDuration(timeoutMs)}; it was stopped, with any process it started. ` +
              `Run it by hand to see why (${byHand}), or allow it longer with timeout (--timeout).`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => fail(cancellationReason(signal));
    signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > HELPER_OUTPUT_LIMIT_BYTES) {
        fail(
          new RegistryAuthError(
            serverUrl,
            `${program} get printed more than ${HELPER_OUTPUT_LIMIT_BYTES / 1024 / 1024} MiB, which is no credential; it was stopped. ` +
              `Run it by hand to see what it prints (${byHand}), or remove it from the Docker config.`,
          ),
        );
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));

    const conclude = () =>
      finish(() => interpret(Buffer.concat(stdout).toString('utf8'), Buffer.concat(stderr).toString('utf8')));
    const interpret = (out: string, err: string): HelperCredentials | undefined => {
      if (exit?.code !== 0) {
        // "credentials not found" is the protocol's way of saying "none", not a failure.
        if (/credentials not found/i.test(out) || /credentials not found/i.test(err)) return undefined;
        const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit?.code)}`;
        throw new RegistryAuthError(
          serverUrl,
          `${program} get ${how} (its output is not shown, since it may hold a secret). ` +
            `Run it by hand to see why (${byHand}), or remove it from credHelpers/credsStore in the Docker config.`,
        );
      }
      let parsed: { Username?: string; Secret?: string };
      try {
        parsed = JSON.parse(out) as { Username?: string; Secret?: string };
      } catch {
        throw new RegistryAuthError(
          serverUrl,
          `${program} get printed something that is not JSON; check the helper (${byHand}).`,
        );
      }
      if (!parsed || typeof parsed.Secret !== 'string' || !parsed.Secret) return undefined;
      return { username: parsed.Username ?? '', secret: parsed.Secret };
    };

    child.on('error', (error: NodeJS.ErrnoException) =>
      fail(
        new RegistryAuthError(
          serverUrl,
          error.code === 'ENOENT'
            ? `the Docker config names the credential helper "${helper}", but ${program} is not on PATH. Install it, or remove it from credHelpers/credsStore in the Docker config.`
            : `could not run ${program}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    child.on('exit', (code, exitSignal) => {
      exit = { code, signal: exitSignal };
      // Usually the pipes close right after; a child left behind may hold them open.
      grace = setTimeout(conclude, PIPE_GRACE_MS);
    });
    child.on('close', conclude);
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
};

/** Kills the helper's process group (it is the group's leader); gone already is fine. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group has no process left.
  }
}
