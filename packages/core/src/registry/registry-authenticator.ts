import { RegistryAuthError } from '../errors';
import { defaultRedactor, type Redactor } from '../redact';
import type { HttpClient } from './http-client';
import { CredentialPolicyError } from './registry-errors';
import type { RegistryCredential, RegistryCredentialSource } from './registry-credentials';
import { INSECURE_REGISTRIES_ADVICE, isInsecureHost } from './transport-policy';
import type { AuthChallenge } from './www-authenticate';

export interface AuthenticatorOptions {
  registry: string;
  http: HttpClient;
  credentials: RegistryCredentialSource;
  /**
   * Token scopes: `repository:<path>:pull,push` and `repository:<source>:pull` for mounts. A promise
   * when they are not known yet (the mount sources come from the image): the registry check and the
   * credentials go ahead, and a token waits for them.
   */
  scopes: string[] | Promise<string[]>;
  insecureRegistries: readonly string[];
  timeoutMs: number;
  signal?: AbortSignal;
  now?: () => number;
  /** Where credentials and tokens are added for redaction; default the process's. */
  redactor?: Redactor;
}

/**
 * Turns a registry's challenge into an `Authorization` header: Basic with the credentials, or a
 * Bearer token from the realm for the push's scopes (an identity token is a refresh token, as in
 * Docker; no credentials, an anonymous token). The header is for the registry's own origin only:
 * the client never sends it elsewhere.
 */
export class RegistryAuthenticator {
  private challenge: AuthChallenge | undefined;
  private header: string | undefined;
  private expiresAt = Infinity;
  private credential: RegistryCredential | undefined;
  private credentialLoaded = false;
  private readonly now: () => number;
  /** The answer to a 401 under way, which requests refused meanwhile wait for. */
  private answering: Promise<boolean> | undefined;

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether credentials were found for the registry (false: anonymous). */
  get hasCredential(): boolean {
    return this.credential !== undefined;
  }

  /** The header for the next request, renewing an expiring token. */
  async authorization(): Promise<string | undefined> {
    if (this.challenge && this.header && this.now() > this.expiresAt - 10_000) await this.authenticate();
    return this.header;
  }

  /**
   * Answers a 401: `false` when there is nothing more to try (the caller then reports the refusal).
   * `sent` is the Authorization header the refused request carried. Requests refused together
   * share one renewal: those refused while it runs, or with a header it has since replaced, wait
   * for it and are sent again with the new header.
   */
  async onUnauthorized(challenges: AuthChallenge[], alreadyAuthorized: boolean, sent?: string): Promise<boolean> {
    const challenge =
      challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    // A 401 with no challenge at all: nothing to answer it with; the caller reports the registry's refusal.
    if (challenges.length === 0) return false;
    if (!challenge) {
      throw new RegistryAuthError(
        this.options.registry,
        'it asks for an authentication scheme dockpush does not speak',
      );
    }
    if (this.answering) {
      await this.answering.catch(() => undefined);
      if (this.header !== undefined && this.header !== sent) return true;
    } else if (alreadyAuthorized && sent !== undefined && this.header !== undefined && this.header !== sent) {
      return true;
    }
    const answering = this.answer(challenge, alreadyAuthorized);
    this.answering = answering;
    try {
      return await answering;
    } finally {
      if (this.answering === answering) this.answering = undefined;
    }
  }

  private async answer(challenge: AuthChallenge, alreadyAuthorized: boolean): Promise<boolean> {
    this.challenge = challenge;
    if (alreadyAuthorized) {
      // Refused what we sent: ask the source for fresh credentials once (a renewed ECR token).
      const fresh = await this.options.credentials.refused?.(this.options.registry);
      if (!fresh) return false;
      this.setCredential(fresh);
    }
    await this.authenticate();
    return this.header !== undefined;
  }

  private setCredential(credential: RegistryCredential | undefined): void {
    this.credential = credential;
    this.credentialLoaded = true;
    const redactor = this.options.redactor ?? defaultRedactor;
    if (credential && 'password' in credential) redactor.add(credential.password, credential.username);
    if (credential && 'identityToken' in credential) redactor.add(credential.identityToken);
  }

  private async loadCredential(): Promise<RegistryCredential | undefined> {
    if (!this.credentialLoaded) this.setCredential(await this.options.credentials.get(this.options.registry));
    return this.credential;
  }

  private async authenticate(): Promise<void> {
    const challenge = this.challenge as AuthChallenge;
    const credential = await this.loadCredential();
    if (challenge.scheme === 'basic') {
      if (!credential) {
        this.header = undefined;
        return;
      }
      if (!('password' in credential)) {
        throw new RegistryAuthError(
          this.options.registry,
          'it asks for a user name and password, and only an identity token was found',
        );
      }
      this.header = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      return;
    }
    const token = await this.fetchToken(challenge, credential);
    (this.options.redactor ?? defaultRedactor).add(token.value);
    this.header = `Bearer ${token.value}`;
    this.expiresAt = this.now() + token.expiresInS * 1000;
  }

  private async fetchToken(
    challenge: AuthChallenge,
    credential: RegistryCredential | undefined,
  ): Promise<{ value: string; expiresInS: number }> {
    const { registry } = this.options;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm as string);
    } catch {
      throw new RegistryAuthError(registry, `its token realm "${challenge.params.realm}" is not a URL`);
    }
    if (
      realm.protocol !== 'https:' &&
      !(realm.protocol === 'http:' && isInsecureHost(realm.host, this.options.insecureRegistries))
    ) {
      throw new CredentialPolicyError(
        registry,
        `its token service ${realm.origin} is not HTTPS. Tokens are only fetched over HTTPS, except from loopback ` +
          `or a host marked insecure (${INSECURE_REGISTRIES_ADVICE}).`,
      );
    }
    const scopes = await this.options.scopes;
    const service = challenge.params.service;
    const headers: Record<string, string> = { Accept: 'application/json' };
    let method = 'GET';
    let body: Buffer | undefined;
    const url = new URL(realm);
    if (credential && 'identityToken' in credential) {
      method = 'POST';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.identityToken,
        client_id: 'dockpush',
      });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credential) {
        headers.Authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      }
    }
    let response;
    try {
      response = await this.options.http.send({
        method,
        url,
        headers,
        body,
        timeoutMs: this.options.timeoutMs,
        signal: this.options.signal,
      });
    } catch (cause) {
      throw new RegistryAuthError(
        registry,
        `its token service ${realm.origin} did not answer (${(cause as Error).message})`,
        {
          cause,
        },
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(
        registry,
        `its token service refused the credentials (${response.status}). Check the user name and password, or log in again.`,
      );
    }
    if (response.status !== 200) {
      throw new RegistryAuthError(registry, `its token service ${realm.origin} answered ${response.status}`);
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(response.body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryAuthError(registry, `its token service ${realm.origin} answered something that is not JSON`);
    }
    const value = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof value !== 'string' || !value) {
      throw new RegistryAuthError(registry, `its token service ${realm.origin} answered without a token`);
    }
    const expiresInS = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return { value, expiresInS };
  }
}
