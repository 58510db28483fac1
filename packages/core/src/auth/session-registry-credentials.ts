import type { WaitLimits } from '../deadline';
import type { RegistryCredential, RegistryCredentialSource } from '../registry/registry-credentials';
import type { CredentialSession } from './credential-session';
import type { EngineAuthConfig } from './registry-auth';

/**
 * The push's credential session as the registry engine asks for credentials: the same chain
 * (explicit, ECR, Docker config, anonymous) the Docker engine uses. An ECR token is a user
 * `AWS` and the token as password; an identity token becomes the refresh token of the token
 * exchange; a refusal renews the credentials once where their source can (ECR tokens).
 */
export function sessionRegistryCredentials(session: CredentialSession, limits: WaitLimits): RegistryCredentialSource {
  const get = async (registry: string) =>
    toRegistryCredential((await session.credentialsFor(registry, limits)).authconfig);
  return {
    get,
    refused: async (registry) => ((await session.refused(registry)) ? get(registry) : undefined),
  };
}

function toRegistryCredential(authconfig: EngineAuthConfig): RegistryCredential | undefined {
  if ('identitytoken' in authconfig) return { identityToken: authconfig.identitytoken };
  if ('password' in authconfig) return { username: authconfig.username, password: authconfig.password };
  return undefined;
}
