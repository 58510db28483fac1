import type { WaitLimits } from '../deadline';

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
  authconfig: EngineAuthConfig;
}

export type ResolveOptions = WaitLimits;

/**
 * One source of registry credentials. `resolve` returns `undefined` when this source
 * has nothing for the host, and the next one is asked.
 */
export interface AuthProvider {
  resolve(host: string, options?: ResolveOptions): Promise<RegistryCredentials | undefined>;
  /**
   * For a provider of short-lived tokens: the source it would answer `host` with, named
   * without fetching a token, so that a plan costs no token; `undefined` to be asked by
   * `resolve` instead.
   */
  tokenSource?(host: string): CredentialSource | undefined;
  /** Forgets cached credentials for the host, after the registry rejected them. */
  invalidate?(host: string): void;
}
