import { debugLog } from '../debug-log';
import { ArgumentsError } from '../errors';
import { defaultRedactor, type Redactor } from '../redact';
import { type CredentialHelperRunner, runCredentialHelper } from './credential-helper';
import { configKeysFor, type DockerConfig, hostOfConfigKey } from './docker-config';
import type {
  AuthProvider,
  CredentialSource,
  EngineAuthConfig,
  RegistryCredentials,
  ResolveOptions,
} from './registry-auth';

const debug = debugLog('dockpush:auth');

/**
 * Credentials from a Docker config, as `docker push` finds them: `credHelpers[host]`,
 * then `credsStore`, then `auths[host]` (basic auth or an identity token).
 */
export class DockerConfigAuthProvider implements AuthProvider {
  constructor(
    private readonly loadConfig: () => DockerConfig | undefined,
    /** What credentials from `auths` are reported as. */
    private readonly source: Extract<CredentialSource, 'docker-config' | 'docker-auth-config'>,
    private readonly runHelper: CredentialHelperRunner = runCredentialHelper,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Where what it reads is added for redaction, the moment it is read. */
    private readonly redactor: Redactor = defaultRedactor,
  ) {}

  async resolve(host: string, options: ResolveOptions = {}): Promise<RegistryCredentials | undefined> {
    const config = this.loadConfig();
    if (!config) return undefined;
    const keys = configKeysFor(host);

    const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? findByHost(config.credHelpers, host);
    if (helper) {
      const creds = await this.fromHelper(helper, keys[0] ?? host, host, options);
      if (creds) return creds;
    }
    if (config.credsStore) {
      const creds = await this.fromHelper(config.credsStore, keys[0] ?? host, host, options);
      if (creds) return creds;
    }
    const entry = keys.map((k) => config.auths?.[k]).find(Boolean) ?? findByHost(config.auths, host);
    if (entry) {
      const origin = this.source === 'docker-auth-config' ? 'DOCKER_AUTH_CONFIG' : 'the Docker config (config.json)';
      const authconfig = fromAuthsEntry(entry, host, this.redactor, origin);
      if (authconfig) {
        debug('credentials for %s from %s auths', host, this.source);
        return { source: this.source, authconfig };
      }
    }
    return undefined;
  }

  private async fromHelper(
    helper: string,
    serverUrl: string,
    host: string,
    options: ResolveOptions,
  ): Promise<RegistryCredentials | undefined> {
    const creds = await this.runHelper(helper, serverUrl, this.env, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!creds) return undefined;
    this.redactor.add(creds.secret, creds.username);
    debug('credentials for %s from docker-credential-%s', host, helper);
    return {
      source: 'credential-helper',
      authconfig:
        creds.username === '<token>'
          ? { identitytoken: creds.secret, serveraddress: host }
          : { username: creds.username, password: creds.secret, serveraddress: host },
    };
  }
}

function findByHost<T>(record: Record<string, T> | undefined, host: string): T | undefined {
  if (!record) return undefined;
  const key = Object.keys(record).find((k) => hostOfConfigKey(k) === host);
  return key === undefined ? undefined : record[key];
}

function fromAuthsEntry(
  entry: NonNullable<DockerConfig['auths']>[string],
  host: string,
  redactor: Redactor,
  origin: string,
): EngineAuthConfig | undefined {
  if (entry.identitytoken) {
    redactor.add(entry.identitytoken);
    return { identitytoken: entry.identitytoken, serveraddress: host };
  }
  let { username, password } = entry;
  if (entry.auth) {
    redactor.add(entry.auth);
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      // docker refuses such a config too ("invalid auth configuration file"): never a silent anonymous push.
      throw new ArgumentsError(
        `${origin}: the "auth" of ${host} is not the base64 of user:password; log in again (docker login ${host}), or fix or remove the entry`,
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!username || !password) return undefined;
  redactor.add(password, username);
  return { username, password, serveraddress: host };
}
