/** Where a push's credentials come from (architecture.md § Credentials). */
export type CredentialSource =
  'explicit' | 'ecr' | 'ecr-public' | 'docker-auth-config' | 'credential-helper' | 'docker-config' | 'anonymous';

/** The engine's `X-Registry-Auth` payload. Anonymous is `{}`: the engine requires the header. */
export type EngineAuthConfig =
  | { username: string; password: string; serveraddress: string }
  | { identitytoken: string; serveraddress: string }
  | Record<string, never>;

export interface RegistryCredentials {
  source: CredentialSource;
  /** `undefined` only in a dry run, where credentials are located but not fetched. */
  authconfig: EngineAuthConfig | undefined;
}

export interface ResolveOptions {
  /** Locate the credentials without fetching tokens (no AWS calls). */
  dryRun?: boolean;
}

/**
 * One source of registry credentials. `resolve` returns `undefined` when this source
 * has nothing for the host, and the next one is asked.
 */
export interface AuthProvider {
  resolve(host: string, options?: ResolveOptions): Promise<RegistryCredentials | undefined>;
  /** Forgets cached credentials for the host, after the registry rejected them. */
  invalidate?(host: string): void;
}
