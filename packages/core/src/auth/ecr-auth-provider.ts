import createDebug from 'debug';
import { type EcrToken, type EcrTokenProvider, SdkEcrTokenProvider } from '../ecr/aws-clients';
import { parseEcrRegistry } from '../ecr/ecr-registry';
import type { AuthProvider, CredentialSource, RegistryCredentials, ResolveOptions } from './registry-auth';

const debug = createDebug('dockpush:auth');

/** Tokens are renewed this long before ECR says they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * ECR registries (private, FIPS, dual-stack, China, and public.ecr.aws): a token from
 * `GetAuthorizationToken`, cached per registry until shortly before it expires.
 */
export class EcrAuthProvider implements AuthProvider {
  private static readonly cache = new Map<string, Promise<EcrToken>>();

  constructor(
    private readonly tokens: EcrTokenProvider = new SdkEcrTokenProvider(),
    private readonly now: () => number = Date.now,
  ) {}

  async resolve(host: string, options: ResolveOptions = {}): Promise<RegistryCredentials | undefined> {
    const registry = parseEcrRegistry(host);
    if (!registry) return undefined;
    const source = registry.kind === 'public' ? 'ecr-public' : 'ecr';
    const token = await this.token(registry.host, () =>
      this.tokens.getToken(registry, {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
    return {
      source,
      authconfig: { username: token.username, password: token.password, serveraddress: registry.host },
    };
  }

  tokenSource(host: string): CredentialSource | undefined {
    const registry = parseEcrRegistry(host);
    if (!registry) return undefined;
    return registry.kind === 'public' ? 'ecr-public' : 'ecr';
  }

  invalidate(host: string): void {
    const registry = parseEcrRegistry(host);
    if (registry) EcrAuthProvider.cache.delete(registry.host);
  }

  private async token(key: string, fetch: () => Promise<EcrToken>): Promise<EcrToken> {
    const cached = EcrAuthProvider.cache.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt.getTime() - EXPIRY_MARGIN_MS > this.now()) return token;
    }
    debug('fetching an ECR token for %s', key);
    const pending = fetch();
    EcrAuthProvider.cache.set(key, pending);
    pending.catch(() => EcrAuthProvider.cache.delete(key));
    return pending;
  }

  /** For tests: forget every cached token. */
  static reset(): void {
    EcrAuthProvider.cache.clear();
  }
}
