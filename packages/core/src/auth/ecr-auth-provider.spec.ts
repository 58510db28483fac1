import type { EcrToken, EcrTokenProvider } from '../ecr/aws-clients';
import type { EcrRegistry } from '../ecr/ecr-registry';
import { EcrAuthProvider } from './ecr-auth-provider';
import { EcrTokenCache } from './ecr-token-cache';

class CountingTokens implements EcrTokenProvider {
  calls: EcrRegistry[] = [];
  constructor(
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}
  async getToken(registry: EcrRegistry): Promise<EcrToken> {
    this.calls.push(registry);
    return {
      username: 'AWS',
      password: `token-${this.calls.length}`,
      expiresAt: new Date(this.now() + this.lifetimeMs),
    };
  }
}

const PRIVATE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('EcrAuthProvider', () => {
  it('answers only for ECR hosts', async () => {
    const provider = new EcrAuthProvider(new CountingTokens(3600_000, Date.now));
    expect(await provider.resolve('localhost:5000')).toBeUndefined();
    expect(await provider.resolve('ghcr.io')).toBeUndefined();
  });

  it.each([
    [PRIVATE, 'ecr', { kind: 'private', region: 'eu-west-1', accountId: '123456789012' }],
    ['public.ecr.aws', 'ecr-public', { kind: 'public' }],
  ])('%s → %s token', async (host, source, registry) => {
    const tokens = new CountingTokens(3600_000, Date.now);
    const creds = await new EcrAuthProvider(tokens).resolve(host);
    expect(creds).toEqual({ source, authconfig: { username: 'AWS', password: 'token-1', serveraddress: host } });
    expect(tokens.calls[0]).toMatchObject(registry);
  });

  it('names its source without fetching a token', () => {
    const tokens = new CountingTokens(3600_000, Date.now);
    const provider = new EcrAuthProvider(tokens);
    expect(provider.tokenSource(PRIVATE)).toBe('ecr');
    expect(provider.tokenSource('public.ecr.aws')).toBe('ecr-public');
    expect(provider.tokenSource('localhost:5000')).toBeUndefined();
    expect(tokens.calls).toHaveLength(0);
  });

  it('caches per registry until shortly before expiry, and renews after invalidate', async () => {
    let now = 1_000_000;
    const tokens = new CountingTokens(12 * 3600_000, () => now);
    const provider = new EcrAuthProvider(tokens, new EcrTokenCache(() => now));
    await Promise.all([provider.resolve(PRIVATE), provider.resolve(PRIVATE), provider.resolve(PRIVATE)]);
    expect(tokens.calls).toHaveLength(1);
    now += 11 * 3600_000;
    await provider.resolve(PRIVATE);
    expect(tokens.calls).toHaveLength(1);
    now += 3600_000 - 60_000; // within the renewal margin
    expect((await provider.resolve(PRIVATE))?.authconfig).toMatchObject({ password: 'token-2' });
    provider.invalidate(PRIVATE);
    expect((await provider.resolve(PRIVATE))?.authconfig).toMatchObject({ password: 'token-3' });
    await provider.resolve('public.ecr.aws');
    expect(tokens.calls).toHaveLength(4);
  });

  it('keeps tokens in the cache it is given: providers sharing a cache share tokens, others do not', async () => {
    const tokens = new CountingTokens(3600_000, Date.now);
    const cache = new EcrTokenCache();
    await new EcrAuthProvider(tokens, cache).resolve(PRIVATE);
    await new EcrAuthProvider(tokens, cache).resolve(PRIVATE);
    expect(tokens.calls).toHaveLength(1);
    await new EcrAuthProvider(tokens).resolve(PRIVATE);
    expect(tokens.calls).toHaveLength(2);
  });

  it('does not keep a failure: the next resolve asks ECR again', async () => {
    let calls = 0;
    const flaky: EcrTokenProvider = {
      getToken: async () => {
        calls++;
        if (calls === 1) throw new Error('ECR is down');
        return { username: 'AWS', password: 'token-after-failure', expiresAt: new Date(Date.now() + 3600_000) };
      },
    };
    const provider = new EcrAuthProvider(flaky, new EcrTokenCache());
    await expect(provider.resolve(PRIVATE)).rejects.toThrow('ECR is down');
    expect((await provider.resolve(PRIVATE))?.authconfig).toMatchObject({ password: 'token-after-failure' });
    expect(calls).toBe(2);
  });
});
