import { debugLog } from '../debug-log';
import type { EcrToken } from '../ecr/aws-clients';

const debug = debugLog('dockpush:auth');

/** Tokens are renewed this long before ECR says they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * ECR tokens by registry host, kept until shortly before they expire. A push client owns
 * one and hands it to every push it runs, so pushes on one client share tokens and two
 * clients never do. A request that fails is not kept: the next ask fetches again.
 */
export class EcrTokenCache {
  private readonly tokens = new Map<string, Promise<EcrToken>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The token for `host`: the kept one while it is fresh, else a new one from `fetch`. */
  async get(host: string, fetch: () => Promise<EcrToken>): Promise<EcrToken> {
    const kept = this.tokens.get(host);
    if (kept) {
      // Asks made while a request is in flight share it, and its failure.
      const token = await kept;
      if (token.expiresAt.getTime() - EXPIRY_MARGIN_MS > this.now()) return token;
    }
    debug('fetching an ECR token for %s', host);
    const pending = fetch();
    this.tokens.set(host, pending);
    pending.catch(() => {
      if (this.tokens.get(host) === pending) this.tokens.delete(host);
    });
    return pending;
  }

  /** Forgets the token for `host` (the registry refused it). */
  forget(host: string): void {
    this.tokens.delete(host);
  }
}
