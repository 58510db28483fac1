import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ArgumentsError } from '../errors';
import { DOCKER_HUB_HOST } from '../args/reference';
import { JsonTextError, parseJsonText } from '../json-text';

/** The parts of a Docker `config.json` that hold credentials. */
export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub's key in `auths`. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** The keys under which Docker stores a host's credentials, best first. */
export function configKeysFor(host: string): string[] {
  if (host === DOCKER_HUB_HOST || host === 'index.docker.io' || host === 'registry-1.docker.io') {
    return [DOCKER_HUB_AUTH_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [host];
}

/** Normalizes an `auths` key (`https://host/v1/`, `http://host`, `host`) to the host. */
export function hostOfConfigKey(key: string): string {
  if (key === DOCKER_HUB_AUTH_KEY) return DOCKER_HUB_HOST;
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

/**
 * Parses Docker config JSON text, with an error that names where it came from and where in
 * it the mistake is, never quoting the text: it holds credentials.
 */
export function parseDockerConfig(
  text: string,
  origin: string,
  fix = 'fix or remove it, or set DOCKER_CONFIG to another folder',
): DockerConfig {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    throw new ArgumentsError(`${origin} is not valid JSON (${error.message}); ${fix}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArgumentsError(`${origin} must hold a JSON object such as {"auths": {}}`);
  }
  return value as DockerConfig;
}

/** The path of the Docker config file: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

/** Reads the Docker config file; `undefined` when there is none. */
export function readDockerConfigFile(path: string): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ArgumentsError(`cannot read the Docker config ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseDockerConfig(text, `The Docker config ${path}`);
}
