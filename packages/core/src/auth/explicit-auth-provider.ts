import type { ExplicitAuth } from '../args/push-args';
import { registerSecret } from '../redact';
import type { AuthProvider, RegistryCredentials } from './registry-auth';

/** Credentials given in the `auth` argument: they beat every other source. */
export class ExplicitAuthProvider implements AuthProvider {
  constructor(private readonly auth: ExplicitAuth) {
    if ('password' in auth) registerSecret(auth.password, auth.username);
    else registerSecret(auth.identityToken);
  }

  async resolve(host: string): Promise<RegistryCredentials> {
    const auth = this.auth;
    return {
      source: 'explicit',
      authconfig:
        'password' in auth
          ? { username: auth.username, password: auth.password, serveraddress: host }
          : { identitytoken: auth.identityToken, serveraddress: host },
    };
  }
}
