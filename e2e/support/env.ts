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
export const e2eEnvFile = path.join(e2eTmpDir, 'e2e-env.json');

/** Containers started by the e2e global setup, removed by its teardown. */
export const e2eRegistryNames = {
  plain: 'dockpush-e2e-plain',
  auth: 'dockpush-e2e-auth',
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
