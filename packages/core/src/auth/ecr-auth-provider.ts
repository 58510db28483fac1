import { type EcrTokenProvider, SdkEcrTokenProvider } from '../ecr/aws-clients';
import { parseEcrRegistry } from '../ecr/ecr-registry';
import { EcrTokenCache } from './ecr-token-cache';
import type { AuthProvider, CredentialSource, RegistryCredentials, ResolveOptions } from './registry-auth';

/**
 * ECR registries (private, FIPS, dual-stack, China, and public.ecr.aws): a token from
 * `GetAuthorizationToken`, kept in `cache` (the push client's) until shortly before it expires.
 */
export class EcrAuthProvider implements AuthProvider {
  constructor(
    private readonly tokens: EcrTokenProvider = new SdkEcrTokenProvider(),
    private readonly cache: EcrTokenCache = new EcrTokenCache(),
  ) {}

  async resolve(host: string, options: ResolveOptions = {}): Promise<RegistryCredentials | undefined> {
    const registry = parseEcrRegistry(host);
    if (!registry) return undefined;
    const source = registry.kind === 'public' ? 'ecr-public' : 'ecr';
    const token = await this.cache.get(registry.host, () =>
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
    if (registry) this.cache.forget(registry.host);
  }
}
