import { CredentialSession } from './credential-session';
import type { AuthProvider } from './registry-auth';
import { sessionRegistryCredentials } from './session-registry-credentials';

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

/** An ECR-like provider: a new token after each invalidation. */
function ecrTokens(): AuthProvider & { invalidated: number } {
  let n = 0;
  return {
    invalidated: 0,
    async resolve(host) {
      n++;
      return { source: 'ecr', authconfig: { username: 'AWS', password: `token-${n}`, serveraddress: host } };
    },
    invalidate() {
      this.invalidated++;
    },
  };
}

describe('sessionRegistryCredentials: the credential session as the registry engine asks for it', () => {
  it('hands out an ECR token as user AWS and renews it once when the registry refuses it', async () => {
    const provider = ecrTokens();
    const source = sessionRegistryCredentials(new CredentialSession([provider]), {});
    await expect(source.get(HOST)).resolves.toEqual({ username: 'AWS', password: 'token-1' });
    await expect(source.refused?.(HOST)).resolves.toEqual({ username: 'AWS', password: 'token-2' });
    expect(provider.invalidated).toBe(1);
    // A second refusal: a retry would only send the same kind of token again.
    await expect(source.refused?.(HOST)).resolves.toBeUndefined();
  });

  it('passes an identity token as a refresh token, and anonymous as no credentials', async () => {
    const identity: AuthProvider = {
      resolve: async (host) =>
        host === 'ghcr.io'
          ? { source: 'docker-config', authconfig: { identitytoken: 'refresh-me', serveraddress: host } }
          : undefined,
    };
    const source = sessionRegistryCredentials(new CredentialSession([identity]), {});
    await expect(source.get('ghcr.io')).resolves.toEqual({ identityToken: 'refresh-me' });
    await expect(source.get('localhost:5000')).resolves.toBeUndefined();
    // Credentials that cannot be renewed are not asked for again.
    await expect(source.refused?.('ghcr.io')).resolves.toBeUndefined();
  });
});
