import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Basic credentials of a registry; `E2eEnv['auth']` is one. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface E2eRegistry {
  /** `127.0.0.1:PORT`: plain HTTP, which the engine allows on loopback without any setting. */
  host: string;
}

export interface E2eEnv {
  /** Anonymous registry, fresh for each run. */
  plain: E2eRegistry;
  /** htpasswd registry, fresh for each run, with one user and a password made for the run. */
  auth: E2eRegistry & RegistryCredentials;
  /** `DOCKER_HOST` the engine was reached through, when it was set. */
  dockerHost?: string;
}

export const repoRoot = path.resolve(__dirname, '..', '..');
export const testEnvScripts = path.join(repoRoot, 'tools', 'test-env');
export const e2eTmpDir = path.join(repoRoot, 'tmp');

/**
 * One jest run's id (the pid of jest's main process, set by the global setup and
 * inherited by the workers), so that two runs on one machine do not share registries.
 */
export const e2eRunId = process.env.DOCKPUSH_E2E_RUN ?? String(process.pid);
export const e2eEnvFile = path.join(e2eTmpDir, `e2e-env-${e2eRunId}.json`);
/** Prefix of every container the e2e tests start; the run id ends each name. */
export const e2eContainerPrefix = 'dockpush-e2e-';

/** A container name of this run's own. */
export function e2eContainerName(role: string): string {
  return `${e2eContainerPrefix}${role}-${e2eRunId}`;
}

/** Containers started by the e2e global setup, removed by its teardown. */
export const e2eRegistryNames = {
  plain: e2eContainerName('plain'),
  auth: e2eContainerName('auth'),
} as const;

/** Reads what `global-setup.ts` wrote; throws when it has not run. */
export function loadE2eEnv(): E2eEnv {
  let text: string;
  try {
    text = readFileSync(e2eEnvFile, 'utf8');
  } catch (cause) {
    throw new Error(
      `${e2eEnvFile} is missing: the e2e tests must run through jest's e2e project ` +
        '(npm run test:e2e), whose globalSetup starts the registries and writes it.',
      { cause },
    );
  }
  const env = JSON.parse(text) as E2eEnv;
  if (!env.plain?.host || !env.auth?.host || !env.auth.username || !env.auth.password) {
    throw new Error(`${e2eEnvFile} is incomplete; rerun the e2e tests to rewrite it.`);
  }
  return env;
}
