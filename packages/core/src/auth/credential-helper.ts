import { spawn } from 'node:child_process';
import createDebug from 'debug';
import { RegistryAuthError } from '../errors';
import { registerSecret } from '../redact';

const debug = createDebug('dockpush:auth');

export interface HelperCredentials {
  username: string;
  secret: string;
}

/** Runs a Docker credential helper; an injectable seam for tests. */
export type CredentialHelperRunner = (
  helper: string,
  serverUrl: string,
  env?: NodeJS.ProcessEnv,
) => Promise<HelperCredentials | undefined>;

const HELPER_TIMEOUT_MS = 30_000;

/**
 * `docker-credential-<helper> get` with the server URL on stdin, as the Docker CLI
 * does. `undefined` when the helper has no credentials for it.
 */
export const runCredentialHelper: CredentialHelperRunner = (helper, serverUrl, env = process.env) => {
  const program = `docker-credential-${helper}`;
  debug('running %s get for %s', program, serverUrl);
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new RegistryAuthError(
          serverUrl,
          error.code === 'ENOENT'
            ? `the Docker config names the credential helper "${helper}", but ${program} is not on PATH. Install it, or remove it from credHelpers/credsStore in the Docker config.`
            : `could not run ${program}: ${error.message}`,
          { cause: error },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const output = (stdout.trim() || stderr.trim()).slice(0, 300);
      if (code !== 0) {
        if (/credentials not found/i.test(output)) return resolve(undefined);
        return reject(
          new RegistryAuthError(
            serverUrl,
            `${program} get failed (${signal ? `killed by ${signal}` : `exit ${String(code)}`}): ${output || 'no output'}. Check the helper, or remove it from the Docker config.`,
          ),
        );
      }
      try {
        const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!parsed.Secret) return resolve(undefined);
        registerSecret(parsed.Secret, parsed.Username);
        resolve({ username: parsed.Username ?? '', secret: parsed.Secret });
      } catch {
        reject(
          new RegistryAuthError(serverUrl, `${program} get printed something that is not JSON; check the helper.`),
        );
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
};
