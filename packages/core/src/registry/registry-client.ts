import { debugLog } from '../debug-log';
import { RegistryAuthError } from '../errors';
import { formatDuration } from '../deadline';
import { backoffDelay, sleep } from '../engine/backoff';
import { HttpNetworkError, type HttpClient, type HttpResponse, type RequestBody } from './http-client';
import { RegistryAuthenticator } from './registry-authenticator';
import type { RegistryCredentialSource } from './registry-credentials';
import { RegistryRequestError } from './registry-errors';
import { INSECURE_REGISTRIES_ADVICE, isInsecureHost, isLoopbackHost } from './transport-policy';
import { parseChallenges } from './www-authenticate';

const debug = debugLog('dockpush:registry');

export interface RegistryClientOptions {
  /** `host[:port]` as in the image reference. */
  registry: string;
  http: HttpClient;
  credentials: RegistryCredentialSource;
  scopes: string[] | Promise<string[]>;
  insecureRegistries?: readonly string[];
  /**
   * Deadline of each request: nothing moving for this long fails it. The registry check as a
   * whole (both schemes where plain HTTP may serve, their retries) gets one such deadline.
   */
  timeoutMs: number;
  /**
   * Retries of a request on a transient failure (network error, 5xx, 429). A registry that has
   * answered nothing for `(retries + 1) × timeoutMs` gets no more attempts, from any request.
   */
  retries: number;
  signal?: AbortSignal;
  /** Ends every request, even one that runs to its end after `signal` (`finishOnCancel`): the push's total time. */
  bound?: AbortSignal;
  /** Test seams. */
  delay?: (attempt: number) => number;
}

export interface RegistryRequest {
  method: string;
  /** A path under the registry (`/v2/...`) or an absolute URL (an upload's Location). */
  target: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Statuses that are answers, not failures. */
  ok: number[];
  /** Whether the request may be sent again after a transient failure (not for PATCH: the upload resumes instead). */
  retry?: boolean;
  /** What the request is for, in messages: `upload of layer sha256:…`. */
  what: string;
  /**
   * Once sent, the push's cancellation does not abort it: its answer is awaited, within its
   * deadline, so that what it did can be reported (a manifest PUT, whose tag may land). No
   * retry, redirect or renewed credentials follow a cancellation.
   */
  finishOnCancel?: boolean;
  /** Told before each further attempt after a transient failure: its number, the wait before it, and why. */
  onRetry?: (next: { attempt: number; delayMs: number; reason: string }) => void;
}

const MAX_REDIRECTS = 5;

/** The advice that ends a refusal of credentials (the registry engine replaces it for credentials given in `auth`). */
export const LOGIN_ADVICE = 'Check that you are logged in and may push to this repository.';

/**
 * One registry, spoken to over the OCI Distribution API: chooses HTTPS (or plain HTTP where
 * allowed), authenticates, follows redirects without credentials when they leave the registry,
 * and retries transient failures with backoff. Credentials go to the registry's origin only.
 */
export class RegistryClient {
  private base: URL | undefined;
  private readonly authenticator: RegistryAuthenticator;
  private readonly insecure: boolean;
  /** Since when the registry has answered nothing (set by an attempt that got no answer, cleared by any answer). */
  private silentSince: number | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.insecure = isInsecureHost(options.registry, options.insecureRegistries ?? []);
    this.authenticator = new RegistryAuthenticator({
      registry: options.registry,
      http: options.http,
      credentials: options.credentials,
      scopes: options.scopes,
      insecureRegistries: options.insecureRegistries ?? [],
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  }

  get registry(): string {
    return this.options.registry;
  }

  /** The push's cancellation: a wait between attempts ends with it. */
  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** The registry's base URL, once `ping` found it. */
  get baseUrl(): URL {
    if (!this.base) throw new Error('RegistryClient: ping() first');
    return this.base;
  }

  /**
   * `GET /v2/`: finds the scheme (HTTPS; plain HTTP only for loopback and insecure registries,
   * as the engine allows it) and reads the authentication challenge. The check carries no
   * credentials. A loopback registry with a port is asked over plain HTTP first, and over HTTPS
   * too once HTTP has had `PLAIN_HTTP_HEAD_START_MS`, or failed an attempt, or answered other
   * than as a registry: one port serves one scheme, on the same host TLS protects nothing, and a
   * first TLS connection costs a Node process tens of milliseconds (it reads the root
   * certificates). Another insecure registry (or `localhost` without a port, where the two
   * schemes are two ports) is asked over both at once, and HTTPS is used if it answers: the
   * engine prefers it too, but asks one after the other. The whole check, whatever the schemes
   * and retries, ends within one `timeoutMs`.
   */
  async ping(): Promise<void> {
    const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
    const deadline = Date.now() + this.options.timeoutMs;
    const unused = new AbortController();
    // Where plain HTTP may follow, a failed HTTPS attempt is not retried: the other scheme is the answer.
    const ask = (scheme: string, onFailedAttempt?: () => void): Promise<CheckOutcome> => {
      const cancelled = this.options.signal;
      if (cancelled?.aborted) return Promise.resolve({ error: cancelled.reason as unknown });
      return this.check(
        new URL(`${scheme}//${this.options.registry}`),
        !(this.insecure && scheme === 'https:'),
        deadline,
        unused.signal,
        onFailedAttempt,
      );
    };
    let lastError: unknown;
    try {
      const plainFirst = isLoopbackHost(this.options.registry) && /:\d+$/.test(this.options.registry);
      const checks = plainFirst ? await plainHttpFirst(ask) : schemes.map((scheme) => ask(scheme));
      for (const check of checks) {
        const outcome = await check;
        if ('error' in outcome) {
          lastError = outcome.error;
          const networkFailure = lastError instanceof RegistryRequestError && lastError.status === undefined;
          if (!networkFailure) throw lastError;
          continue;
        }
        const { base, response } = outcome;
        unused.abort();
        if (response.status === 401) {
          this.base = base;
          await this.authenticator.onUnauthorized(parseChallenges(response.headers['www-authenticate']), false);
          return;
        }
        if (response.status >= 200 && response.status < 300) {
          this.base = base;
          return;
        }
        throw this.errorFor('GET', '/v2/', response, 'the registry check');
      }
    } finally {
      unused.abort();
    }
    throw this.checkFailed(schemes, lastError, Date.now() >= deadline);
  }

  /** One scheme's `GET /v2/`: its answer, or why there was none. */
  private async check(
    base: URL,
    retry: boolean,
    deadline: number,
    signal: AbortSignal,
    onFailedAttempt?: () => void,
  ): Promise<CheckOutcome> {
    try {
      const request = { method: 'GET', url: new URL('/v2/', base), headers: {} };
      const options = { retry, deadline, signal, onFailedAttempt };
      return { base, response: await this.sendWithRetries(request, 'the registry check', options) };
    } catch (error) {
      if (!signal.aborted)
        debug('%s over %s failed: %s', this.options.registry, base.protocol, (error as Error).message);
      return { error };
    }
  }

  /** The registry check's failure: what was tried, for how long, and what to do. */
  private checkFailed(schemes: string[], lastError: unknown, outOfTime: boolean): RegistryRequestError {
    const names = (list: string[]) => list.map((s) => s.replace(':', '').toUpperCase()).join(' or ');
    const { registry } = this.options;
    const cause = (lastError as Error).cause;
    const timedOut = outOfTime || (cause instanceof HttpNetworkError && cause.kind === 'timeout');
    const tls = cause instanceof HttpNetworkError && cause.kind === 'tls';
    const what = timedOut
      ? `the registry check got no answer within ${formatDuration(this.options.timeoutMs)} over ${names(schemes)}` +
        (cause instanceof HttpNetworkError && cause.kind === 'timeout' ? '' : ` (${(lastError as Error).message})`) +
        `. Check that the registry at ${registry} is up and answering, or allow it longer with timeout (--timeout).`
      : `the registry did not answer over ${names(schemes)} (${(lastError as Error).message}).` +
        (tls ? '' : ` Check that the registry at ${registry} is up.`);
    const hint = this.insecure
      ? ''
      : ` If it uses a private CA, put the CA in /etc/docker/certs.d/${registry}/ca.crt; if it serves ` +
        `plain HTTP, ${INSECURE_REGISTRIES_ADVICE} (only for a registry you trust).`;
    return new RegistryRequestError(registry, 'GET', '/v2/', undefined, `${what}${hint}`, true, { cause: lastError });
  }

  /** Sends a request with authentication, redirects and retries; a status outside `ok` throws. */
  async request(request: RegistryRequest): Promise<HttpResponse & { url: URL }> {
    const url = typeof request.target === 'string' ? new URL(request.target, this.baseUrl) : request.target;
    let authorizedOnce = false;
    for (let authAttempt = 0; ; authAttempt++) {
      if (authAttempt > 0 && request.finishOnCancel) this.options.signal?.throwIfAborted();
      const authorization = await this.authenticator.authorization();
      const { response, url: finalUrl } = await this.followRedirects(request, url, authorization);
      if (response.status === 401 && finalUrl.origin === this.baseUrl.origin && authAttempt < 2) {
        // Refused after a cancellation: not stored, and no credentials are renewed to send it again.
        if (request.finishOnCancel) this.options.signal?.throwIfAborted();
        const retry = await this.authenticator.onUnauthorized(
          parseChallenges(response.headers['www-authenticate']),
          authorizedOnce || authorization !== undefined,
          authorization,
        );
        authorizedOnce = true;
        if (retry) continue;
      }
      if (request.ok.includes(response.status)) return { ...response, url: finalUrl };
      if (response.status === 401 && finalUrl.origin !== this.baseUrl.origin) {
        throw this.errorFor(
          request.method,
          pathOf(url),
          response,
          `${request.what}: the registry sent it to ${finalUrl.host}, which asks for credentials; dockpush does not send ` +
            'credentials to another host. Push to the host that serves the upload, or ask its operator',
        );
      }
      if (response.status === 401 || response.status === 403) {
        const detail = `for ${request.what} (${registryMessage(response).replace(/^\((.*)\)$/, '$1')})`;
        throw new RegistryAuthError(
          this.options.registry,
          this.authenticator.hasCredential
            ? `${response.status === 401 ? 'it refused the credentials' : 'access denied'} ${detail}. ` + LOGIN_ADVICE
            : `it refused anonymous access ${detail}. Log in to it or give credentials.`,
        );
      }
      throw this.errorFor(request.method, pathOf(url), response, request.what);
    }
  }

  /** Follows 3xx answers; the Authorization header goes only to the registry's own origin. */
  private async followRedirects(
    request: RegistryRequest,
    start: URL,
    authorization: string | undefined,
  ): Promise<{ response: HttpResponse; url: URL }> {
    let url = start;
    let method = request.method;
    let body = request.body;
    for (let hop = 0; ; hop++) {
      if (hop > 0 && request.finishOnCancel) this.options.signal?.throwIfAborted();
      const headers: Record<string, string> = { ...request.headers };
      if (authorization && url.origin === this.baseUrl.origin) headers.Authorization = authorization;
      const response = await this.sendWithRetries({ method, url, headers, body }, request.what, {
        retry: request.retry !== false,
        finishOnCancel: request.finishOnCancel === true,
        ...(request.onRetry ? { onRetry: request.onRetry } : {}),
      });
      const location = response.headers.location;
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return { response, url };
      if (hop >= MAX_REDIRECTS) {
        throw this.errorFor(method, pathOf(start), response, `${request.what}: more than ${MAX_REDIRECTS} redirects`);
      }
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw this.errorFor(method, pathOf(start), response, `${request.what}: redirected to a ${next.protocol} URL`);
      }
      if (
        url.protocol === 'https:' &&
        next.protocol === 'http:' &&
        !isInsecureHost(next.host, this.options.insecureRegistries)
      ) {
        throw this.errorFor(
          method,
          pathOf(start),
          response,
          `${request.what}: redirected from HTTPS to plain HTTP (${next.host})`,
        );
      }
      debug('%s %s redirected (%d) to %s', method, pathOf(url), response.status, next.host);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  /**
   * Sends one request, again after a transient failure while retries remain. Each attempt ends
   * at its deadline, shortened to what is left of `deadline` (the registry check's). Once the
   * registry has answered nothing for `(retries + 1) × timeoutMs`, no request starts another
   * attempt. An attempt's deadline is never shortened by that silence: it is an idle deadline,
   * restarted by progress, and a short one would fail an upload that is moving.
   */
  private async sendWithRetries(
    request: { method: string; url: URL; headers: Record<string, string>; body?: RequestBody },
    what: string,
    {
      retry = true,
      deadline = Infinity,
      signal,
      finishOnCancel = false,
      onFailedAttempt,
      onRetry,
    }: {
      retry?: boolean;
      deadline?: number;
      /** Ends this request's attempts alone (the push's signal ends every request). */
      signal?: AbortSignal;
      /** The push's cancellation ends the waits and stops further attempts, not the attempt under way. */
      finishOnCancel?: boolean;
      /** Told of each attempt that failed (no answer, or a 5xx or 429), whether or not another follows. */
      onFailedAttempt?: () => void;
      onRetry?: RegistryRequest['onRetry'];
    } = {},
  ): Promise<HttpResponse> {
    const pushSignal = this.options.signal;
    const cancel = signal && pushSignal ? AbortSignal.any([signal, pushSignal]) : (signal ?? pushSignal);
    const kept = [signal, this.options.bound].filter((s): s is AbortSignal => s !== undefined);
    const attemptSignal = finishOnCancel ? (kept.length > 1 ? AbortSignal.any(kept) : kept[0]) : cancel;
    const attempts = retry ? this.options.retries + 1 : 1;
    const silenceAllowedMs = (this.options.retries + 1) * this.options.timeoutMs;
    let failure: RegistryRequestError | undefined;
    let response: HttpResponse | undefined;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      const silentFor = this.silentSince === undefined ? 0 : started - this.silentSince;
      const timeoutMs = Math.min(this.options.timeoutMs, deadline - started);
      if (timeoutMs <= 0 || silentFor >= silenceAllowedMs) {
        if (response) return response;
        throw (
          failure ??
          new RegistryRequestError(
            this.options.registry,
            request.method,
            pathOf(request.url),
            undefined,
            `${what}: not sent, the registry has answered nothing for ${formatDuration(silentFor)}. Check that it is ` +
              'up and answering, or allow it longer with timeout (--timeout).',
            true,
          )
        );
      }
      if (attempt > 1 && finishOnCancel) pushSignal?.throwIfAborted();
      response = undefined;
      failure = undefined;
      try {
        response = await this.options.http.send({ ...request, timeoutMs, signal: attemptSignal });
        this.silentSince = undefined;
        if (response.status >= 500 || response.status === 429) {
          failure = this.errorFor(request.method, pathOf(request.url), response, what);
        }
      } catch (error) {
        if (!(error instanceof HttpNetworkError) || error.kind === 'aborted')
          throw this.options.signal?.reason ?? error;
        // A TLS failure is an answer of sorts (the peer speaks, just not as we need).
        if (error.kind !== 'tls') {
          const now = Date.now();
          const since = error.kind === 'timeout' ? now - timeoutMs : now;
          this.silentSince = Math.min(this.silentSince ?? since, since);
        }
        failure = new RegistryRequestError(
          this.options.registry,
          request.method,
          pathOf(request.url),
          undefined,
          `${what}: ${error.message}`,
          error.kind !== 'tls',
          { cause: error },
        );
        if (error.kind === 'tls') throw failure;
      }
      if (!failure) return response as HttpResponse;
      onFailedAttempt?.();
      if (attempt >= attempts) {
        if (response) return response;
        throw failure;
      }
      const delay = Math.min(
        this.options.delay?.(attempt) ?? backoffDelay(attempt, 200, 5000),
        Math.max(0, deadline - Date.now()),
      );
      debug('%s %s failed (%s), retrying in %d ms', request.method, pathOf(request.url), failure.message, delay);
      onRetry?.({ attempt: attempt + 1, delayMs: delay, reason: failure.message });
      await sleep(delay, cancel);
    }
  }

  errorFor(method: string, path: string, response: HttpResponse, what: string): RegistryRequestError {
    const transient = response.status >= 500 || response.status === 429;
    return new RegistryRequestError(
      this.options.registry,
      method,
      path,
      response.status,
      `${what}: ${response.status} ${registryMessage(response)}`,
      transient,
    );
  }
}

/** The path of a URL without its query (upload URLs carry long state tokens). */
export function pathOf(url: URL): string {
  return url.pathname;
}

/** `CODE: message` from a registry's error body, else the start of the body. */
export function registryMessage(response: HttpResponse): string {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as {
      errors?: Array<{ code?: string; message?: string }>;
    };
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    // not a registry error body
  }
  return response.body.toString('utf8').slice(0, 200).trim() || '(no details)';
}

type CheckOutcome = { base: URL; response: HttpResponse } | { error: unknown };

/** How long plain HTTP has a loopback registry to itself before HTTPS is asked as well. */
export const PLAIN_HTTP_HEAD_START_MS = 250;

/** An answer that only a registry gives to `GET /v2/`: it serves the API (2xx) or asks for credentials (401). */
function answersAsRegistry(outcome: CheckOutcome): boolean {
  if ('error' in outcome) return false;
  const { status } = outcome.response;
  return status === 401 || (status >= 200 && status < 300);
}

/**
 * A loopback registry's check: plain HTTP, then HTTPS as well once HTTP has had its head start,
 * failed an attempt (a TLS port may cut plain HTTP) or answered other than as a registry (a TLS
 * port may answer it with a 400). Resolves to the check to use: HTTP if it answered as a
 * registry, HTTPS if it answered at all; else both outcomes, HTTPS first, as the registry check
 * weighs them.
 */
function plainHttpFirst(
  ask: (scheme: string, onFailedAttempt?: () => void) => Promise<CheckOutcome>,
): Promise<CheckOutcome[]> {
  return new Promise((resolve) => {
    let askSecure!: () => void;
    const secure = new Promise<void>((start) => (askSecure = start))
      .then(() => ask('https:'))
      .catch((error: unknown): CheckOutcome => ({ error }));
    const plain = ask('http:', () => askSecure()).catch((error: unknown): CheckOutcome => ({ error }));
    const headStart = setTimeout(askSecure, PLAIN_HTTP_HEAD_START_MS);
    const use = (outcomes: CheckOutcome[]) => {
      clearTimeout(headStart);
      resolve(outcomes);
    };
    void plain.then((outcome) => (answersAsRegistry(outcome) ? use([outcome]) : askSecure()));
    void secure.then((outcome) => 'response' in outcome && use([outcome]));
    void Promise.all([secure, plain]).then(use);
  });
}
