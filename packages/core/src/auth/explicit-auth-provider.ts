import type { ExplicitAuth } from '../args/push-args';
import { defaultRedactor, type Redactor } from '../redact';
import type { AuthProvider, RegistryCredentials } from './registry-auth';

/** Credentials given in the `auth` argument: they beat every other source. */
export class ExplicitAuthProvider implements AuthProvider {
  constructor(
    private readonly auth: ExplicitAuth,
    redactor: Redactor = defaultRedactor,
  ) {
    if ('password' in auth) redactor.add(auth.password, auth.username);
    else redactor.add(auth.identityToken);
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
