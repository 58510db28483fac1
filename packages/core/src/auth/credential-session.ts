import { debugLog } from '../debug-log';
import type { WaitLimits } from '../deadline';
import { defaultRedactor, type Redactor } from '../redact';
import type { AuthProvider, CredentialSource, EngineAuthConfig, RegistryCredentials } from './registry-auth';

const debug = debugLog('dockpush:auth');

interface Found {
  credentials: RegistryCredentials & { authconfig: EngineAuthConfig };
  provider: AuthProvider | undefined;
}

const ANONYMOUS: Found = { credentials: { source: 'anonymous', authconfig: {} }, provider: undefined };

/**
 * The credentials of one push, made once from the chain of providers (explicit `auth`,
 * ECR, `DOCKER_AUTH_CONFIG`, the Docker config). The plan asks it where the credentials
 * would come from; the engine asks it for them and tells it when the registry refused
 * them. Each provider is asked at most once per registry, and what it hands out is
 * registered for redaction before anyone sees it.
 */
export class CredentialSession {
  private readonly found = new Map<string, Promise<Found>>();
  private readonly renewed = new Set<string>();

  constructor(
    private readonly providers: readonly AuthProvider[],
    private readonly limits: WaitLimits = {},
    /** The push client's: what the session hands out is added here. */
    private readonly redactor: Redactor = defaultRedactor,
  ) {}

  /**
   * Where the credentials for `registry` would come from. A provider of short-lived
   * tokens (ECR) names its source without fetching one; the others are read now, and
   * what they found is kept for the push, so that a credential helper runs once.
   */
  async sourceFor(registry: string): Promise<CredentialSource> {
    const cached = this.found.get(registry);
    if (cached) return (await cached).credentials.source;
    for (const provider of this.providers) {
      const token = provider.tokenSource?.(registry);
      if (token) return token;
      const credentials = await provider.resolve(registry, this.limits);
      if (credentials) {
        this.found.set(registry, Promise.resolve(this.keep(credentials, provider)));
        return credentials.source;
      }
    }
    this.found.set(registry, Promise.resolve(ANONYMOUS));
    return 'anonymous';
  }

  /** The credentials for `registry` (`{}` when anonymous), fetched once until refused. */
  async credentialsFor(
    registry: string,
    limits: WaitLimits = this.limits,
  ): Promise<RegistryCredentials & { authconfig: EngineAuthConfig }> {
    let found = this.found.get(registry);
    if (!found) {
      found = this.lookUp(registry, limits);
      this.found.set(registry, found);
      // A failed lookup is not kept: the next ask tries again.
      found.catch(() => this.found.delete(registry));
    }
    return (await found).credentials;
  }

  /**
   * The registry refused the credentials: forgets them and returns `true` when their
   * source can renew them (ECR tokens), once per registry; `false` when a retry would
   * only send the same credentials again.
   */
  async refused(registry: string): Promise<boolean> {
    if (this.renewed.has(registry)) return false;
    const found = await this.found.get(registry)?.catch(() => undefined);
    if (!found?.provider?.invalidate) return false;
    debug('the registry %s refused the %s credentials; renewing them', registry, found.credentials.source);
    this.renewed.add(registry);
    found.provider.invalidate(registry);
    this.found.delete(registry);
    return true;
  }

  private async lookUp(registry: string, limits: WaitLimits): Promise<Found> {
    for (const provider of this.providers) {
      const credentials = await provider.resolve(registry, limits);
      if (credentials) return this.keep(credentials, provider);
    }
    return ANONYMOUS;
  }

  private keep(credentials: RegistryCredentials, provider: AuthProvider): Found {
    const authconfig = credentials.authconfig ?? {};
    if ('password' in authconfig) this.redactor.add(authconfig.password, authconfig.username);
    if ('identitytoken' in authconfig) this.redactor.add(authconfig.identitytoken);
    return { credentials: { source: credentials.source, authconfig }, provider };
  }
}
