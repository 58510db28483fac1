/** Credentials for one registry: a user and password, or an identity (refresh) token. */
export type RegistryCredential = { username: string; password: string } | { identityToken: string };

/**
 * Where the registry engine gets credentials, fetched lazily per registry host (like
 * go-containerregistry's Keychain). `refused` is called when the registry rejected what `get`
 * gave: it may return fresh ones (a renewed ECR token), or undefined when there are none.
 */
export interface RegistryCredentialSource {
  get(registry: string): Promise<RegistryCredential | undefined>;
  refused?(registry: string): Promise<RegistryCredential | undefined>;
}

/** No credentials: anonymous access (and anonymous tokens). */
export const anonymousCredentials: RegistryCredentialSource = { get: async () => undefined };
