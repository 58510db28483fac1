import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { RegistryAuthError } from '../errors';
import { selfSignedCertificate } from '@dockpush/core/testing';
import { HttpNetworkError, NodeHttpClient, type HttpClient, type HttpRequest, type HttpResponse } from './http-client';
import { PLAIN_HTTP_HEAD_START_MS, RegistryClient } from './registry-client';
import type { RegistryCredentialSource } from './registry-credentials';
import { CredentialPolicyError, RegistryRequestError } from './registry-errors';

type Handler = (req: HttpRequest) => Partial<HttpResponse> | Error;

/** An HttpClient answering from a table of `METHOD URL` → handler, recording every request. */
class FakeHttp implements HttpClient {
  readonly sent: HttpRequest[] = [];
  constructor(private readonly routes: Record<string, Handler>) {}
  async send(req: HttpRequest): Promise<HttpResponse> {
    this.sent.push(req);
    const key = `${req.method} ${req.url.origin}${req.url.pathname}`;
    const handler = this.routes[key] ?? this.routes[`* ${req.url.origin}${req.url.pathname}`];
    if (!handler) throw new HttpNetworkError(`ECONNREFUSED ${key}`, 'network');
    const answer = handler(req);
    if (answer instanceof Error) throw answer;
    return { status: 200, headers: {}, body: Buffer.alloc(0), ...answer };
  }
  to(origin: string) {
    return this.sent.filter((r) => r.url.origin === origin);
  }
}

const basicChallenge = { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } };
const userPass: RegistryCredentialSource = { get: async () => ({ username: 'u', password: 'p-secret' }) };
const basicHeader = `Basic ${Buffer.from('u:p-secret').toString('base64')}`;
const withAuth = (req: HttpRequest) => req.headers?.Authorization;

function client(
  http: HttpClient,
  registry = 'reg.example.com',
  credentials: RegistryCredentialSource = userPass,
  extra = {},
) {
  return new RegistryClient({
    registry,
    http,
    credentials,
    scopes: ['repository:team/app:pull,push'],
    timeoutMs: 1000,
    retries: 2,
    delay: () => 0,
    ...extra,
  });
}

describe('RegistryClient.ping', () => {
  it('uses HTTPS for a registry that is not loopback or insecure, and says what to do when it fails', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => new HttpNetworkError('self-signed certificate', 'tls'),
      'GET http://reg.example.com/v2/': () => ({ status: 200 }),
    });
    await expect(client(http).ping()).rejects.toThrow(
      /did not answer over HTTPS .*put the CA in \/etc\/docker\/certs\.d\/reg\.example\.com\/ca\.crt; if it serves plain HTTP, list it in the Docker engine's insecure-registries \(\/etc\/docker\/daemon\.json\) or in DOCKPUSH_INSECURE_REGISTRIES/,
    );
    expect(http.sent.map((r) => r.url.protocol)).toEqual(['https:']);
  });

  it.each([['127.0.0.1:5000'], ['localhost:5000']])(
    'asks loopback %s over plain HTTP, and not over HTTPS once it answers as a registry',
    async (registry) => {
      const http = new FakeHttp({
        [`GET https://${registry}/v2/`]: () => new HttpNetworkError('wrong version number', 'tls'),
        [`GET http://${registry}/v2/`]: () => ({ status: 200 }),
      });
      const c = client(http, registry);
      await c.ping();
      expect(c.baseUrl.protocol).toBe('http:');
      expect(http.sent.map((r) => r.url.protocol)).toEqual(['http:']);
    },
  );

  it('asks a loopback registry over HTTPS at once when plain HTTP gets an answer no registry gives', async () => {
    const http = new FakeHttp({
      'GET https://127.0.0.1:5000/v2/': () => basicChallenge,
      // What a Go TLS server answers to plain HTTP.
      'GET http://127.0.0.1:5000/v2/': () => ({ status: 400 }),
    });
    const c = client(http, '127.0.0.1:5000', userPass, { timeoutMs: 5000 });
    const started = Date.now();
    await c.ping();
    expect(c.baseUrl.href).toBe('https://127.0.0.1:5000/');
    expect(http.sent.map((r) => r.url.protocol)).toEqual(['http:', 'https:']);
    expect(Date.now() - started).toBeLessThan(PLAIN_HTTP_HEAD_START_MS);
  });

  it('asks a loopback registry over HTTPS too when plain HTTP is slow, and uses the first to answer as a registry', async () => {
    const signals: Record<string, AbortSignal> = {};
    const http: HttpClient = {
      send: (req) => {
        signals[req.url.protocol] = req.signal as AbortSignal;
        if (req.url.protocol === 'https:') return Promise.resolve({ status: 200, headers: {}, body: Buffer.alloc(0) });
        return new Promise((_resolve, reject) =>
          req.signal?.addEventListener('abort', () => reject(new HttpNetworkError('cancelled', 'aborted'))),
        );
      },
    };
    const c = client(http, '127.0.0.1:5000', userPass, { timeoutMs: 5000 });
    const started = Date.now();
    await c.ping();
    expect(c.baseUrl.href).toBe('https://127.0.0.1:5000/');
    expect(Date.now() - started).toBeGreaterThanOrEqual(PLAIN_HTTP_HEAD_START_MS - 5);
    expect(signals['http:']?.aborted).toBe(true);
  });

  it('asks a loopback registry over HTTPS at once when a plain HTTP attempt is cut', async () => {
    const http = new FakeHttp({
      'GET https://127.0.0.1:5000/v2/': () => ({ status: 200 }),
      // What a Node TLS server does with plain HTTP: it closes the connection.
      'GET http://127.0.0.1:5000/v2/': () => new HttpNetworkError('socket hang up', 'network'),
    });
    const c = client(http, '127.0.0.1:5000', userPass, { timeoutMs: 5000, delay: () => 1000 });
    const started = Date.now();
    await c.ping();
    expect(c.baseUrl.href).toBe('https://127.0.0.1:5000/');
    expect(http.sent.map((r) => r.url.protocol)).toEqual(['http:', 'https:']);
    expect(Date.now() - started).toBeLessThan(PLAIN_HTTP_HEAD_START_MS);
  });

  it('asks localhost without a port over both schemes at once (two ports), and uses HTTPS if it answers', async () => {
    const http = new FakeHttp({
      'GET https://localhost/v2/': () => ({ status: 200 }),
      'GET http://localhost/v2/': () => ({ status: 200 }),
    });
    const c = client(http, 'localhost');
    await c.ping();
    expect(c.baseUrl.href).toBe('https://localhost/');
    expect(http.sent.map((r) => r.url.protocol)).toEqual(['https:', 'http:']);
  });

  it('sends no check once the push is cancelled', async () => {
    const http = new FakeHttp({ 'GET http://127.0.0.1:5000/v2/': () => ({ status: 200 }) });
    const cancel = new AbortController();
    cancel.abort(new Error('cancelled by SIGINT'));
    const c = client(http, '127.0.0.1:5000', userPass, { signal: cancel.signal });
    await expect(c.ping()).rejects.toThrow('cancelled by SIGINT');
    expect(http.sent).toEqual([]);
  });

  it('says over which schemes a refused check failed, and to check that the registry is up', async () => {
    const http = new FakeHttp({});
    const error = (await client(http, '127.0.0.1:5000')
      .ping()
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      'GET /v2/ on 127.0.0.1:5000 failed: the registry did not answer over HTTPS or HTTP (GET /v2/ on ' +
        '127.0.0.1:5000 failed: the registry check: ECONNREFUSED GET http://127.0.0.1:5000/v2/). Check that the ' +
        'registry at 127.0.0.1:5000 is up.',
    );
    // HTTPS is asked as soon as the first plain HTTP attempt fails; HTTP's retries go on.
    expect(http.sent.map((r) => r.url.protocol)).toEqual(['http:', 'https:', 'http:', 'http:']);
  });

  it('asks an insecure registry over both schemes at once, and uses HTTP once HTTPS has failed', async () => {
    const sent: string[] = [];
    const slowly = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const http: HttpClient = {
      send: async (req) => {
        sent.push(req.url.protocol);
        await slowly(300);
        if (req.url.protocol === 'https:') throw new HttpNetworkError('wrong version number', 'tls');
        return { status: 200, headers: {}, body: Buffer.alloc(0) };
      },
    };
    const c = client(http, 'reg.example.com', userPass, { insecureRegistries: ['reg.example.com'], timeoutMs: 5000 });
    const started = Date.now();
    await c.ping();
    expect(c.baseUrl.href).toBe('http://reg.example.com/');
    expect(sent).toEqual(['https:', 'http:']);
    // One after the other, the two would take 600 ms.
    expect(Date.now() - started).toBeLessThan(550);
  });

  it('uses HTTPS when an insecure registry answers it, and ends the plain HTTP request', async () => {
    const signals: AbortSignal[] = [];
    const http: HttpClient = {
      send: (req) => {
        if (req.url.protocol === 'https:') return Promise.resolve({ ...basicChallenge, body: Buffer.alloc(0) });
        signals.push(req.signal as AbortSignal);
        return new Promise((_resolve, reject) =>
          req.signal?.addEventListener('abort', () => reject(new HttpNetworkError('cancelled', 'aborted'))),
        );
      },
    };
    const c = client(http, 'reg.example.com', userPass, { insecureRegistries: ['reg.example.com'], timeoutMs: 5000 });
    await c.ping();
    expect(c.baseUrl.href).toBe('https://reg.example.com/');
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
  });

  it('falls back to plain HTTP for a registry listed as insecure', async () => {
    const http = new FakeHttp({ 'GET http://reg.example.com/v2/': () => ({ status: 200 }) });
    const c = client(http, 'reg.example.com', userPass, { insecureRegistries: ['reg.example.com'] });
    await c.ping();
    expect(c.baseUrl.href).toBe('http://reg.example.com/');
  });
});

describe('RegistryClient.request', () => {
  it('answers a Basic challenge with the credentials', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => basicChallenge,
      'HEAD https://reg.example.com/v2/team/app/blobs/sha256:x': (req) =>
        withAuth(req) === basicHeader ? { status: 200 } : basicChallenge,
    });
    const c = client(http);
    await c.ping();
    const res = await c.request({ method: 'HEAD', target: '/v2/team/app/blobs/sha256:x', ok: [200], what: 'check' });
    expect(res.status).toBe(200);
  });

  it('sends no Authorization header on a redirect to another host, and keeps it on the same origin', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => basicChallenge,
      'PATCH https://reg.example.com/v2/team/app/blobs/uploads/1': () => ({
        status: 307,
        headers: { location: '/v2/team/app/blobs/uploads/2' },
      }),
      'PATCH https://reg.example.com/v2/team/app/blobs/uploads/2': () => ({
        status: 307,
        headers: { location: 'https://storage.example.net/bucket/part?sig=abc' },
      }),
      'PATCH https://storage.example.net/bucket/part': () => ({ status: 202 }),
    });
    const c = client(http);
    await c.ping();
    await c.request({
      method: 'PATCH',
      target: '/v2/team/app/blobs/uploads/1',
      body: Buffer.from('data'),
      ok: [202],
      what: 'upload',
    });
    expect(http.to('https://reg.example.com').slice(1).map(withAuth)).toEqual([basicHeader, basicHeader]);
    expect(http.to('https://storage.example.net').map(withAuth)).toEqual([undefined]);
    expect(http.to('https://storage.example.net')[0]?.body?.toString()).toBe('data');
  });

  it('refuses a redirect from HTTPS to plain HTTP on a host that is not insecure', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => ({ status: 200 }),
      'GET https://reg.example.com/v2/team/app/manifests/x': () => ({
        status: 302,
        headers: { location: 'http://cdn.example.net/m' },
      }),
    });
    const c = client(http);
    await c.ping();
    await expect(
      c.request({ method: 'GET', target: '/v2/team/app/manifests/x', ok: [200], what: 'read' }),
    ).rejects.toThrow('redirected from HTTPS to plain HTTP (cdn.example.net)');
  });

  it('gets a Bearer token with service and scope, sending the credentials to an HTTPS realm', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => ({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://auth.example.com/token",service="reg"' },
      }),
      'GET https://auth.example.com/token': () => ({ status: 200, body: Buffer.from('{"token":"tok-123456"}') }),
      'PUT https://reg.example.com/v2/team/app/manifests/1': (req) =>
        withAuth(req) === 'Bearer tok-123456' ? { status: 201 } : { status: 401 },
    });
    const c = client(http);
    await c.ping();
    await c.request({
      method: 'PUT',
      target: '/v2/team/app/manifests/1',
      body: Buffer.from('{}'),
      ok: [201],
      what: 'm',
    });
    const tokenRequest = http.to('https://auth.example.com')[0] as HttpRequest;
    expect(tokenRequest.url.searchParams.get('service')).toBe('reg');
    expect(tokenRequest.url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull,push']);
    expect(withAuth(tokenRequest)).toBe(basicHeader);
  });

  it('posts an identity token to the realm as a refresh token', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => ({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://auth.example.com/token",service="reg"' },
      }),
      'POST https://auth.example.com/token': () => ({
        status: 200,
        body: Buffer.from('{"access_token":"acc-123456"}'),
      }),
    });
    await client(http, 'reg.example.com', { get: async () => ({ identityToken: 'refresh-abcdef' }) }).ping();
    const form = new URLSearchParams(http.to('https://auth.example.com')[0]?.body?.toString());
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-abcdef',
      client_id: 'dockpush',
      service: 'reg',
      scope: 'repository:team/app:pull,push',
    });
  });

  it('refuses a token realm on another host over plain HTTP, before sending it anything', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => ({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="reg"' },
      }),
    });
    const ping = client(http).ping();
    await expect(ping).rejects.toThrow(CredentialPolicyError);
    await expect(client(http).ping()).rejects.toThrow(
      'Refusing to send credentials for reg.example.com: its token service http://auth.example.com is not HTTPS',
    );
    expect(http.to('http://auth.example.com')).toEqual([]);
  });

  it('asks the credential source again when the registry refuses what it gave (a renewed ECR token)', async () => {
    let renewed = 0;
    const credentials: RegistryCredentialSource = {
      get: async () => ({ username: 'AWS', password: 'old-token' }),
      refused: async () => (renewed++, { username: 'AWS', password: 'new-token' }),
    };
    const fresh = `Basic ${Buffer.from('AWS:new-token').toString('base64')}`;
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => basicChallenge,
      'HEAD https://reg.example.com/v2/team/app/blobs/sha256:x': (req) =>
        withAuth(req) === fresh ? { status: 200 } : basicChallenge,
    });
    const c = client(http, 'reg.example.com', credentials);
    await c.ping();
    await c.request({ method: 'HEAD', target: '/v2/team/app/blobs/sha256:x', ok: [200], what: 'check' });
    expect(renewed).toBe(1);
  });

  it('renews refused credentials once for requests refused together, which all wait for it and go through', async () => {
    let renewals = 0;
    const credentials: RegistryCredentialSource = {
      get: async () => ({ username: 'AWS', password: 'old-token' }),
      // Renews once per registry, as the push's credential session does; slowly, as STS is.
      refused: async () => {
        if (renewals++ > 0) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { username: 'AWS', password: 'new-token' };
      },
    };
    const fresh = `Basic ${Buffer.from('AWS:new-token').toString('base64')}`;
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => basicChallenge,
      '* https://reg.example.com/v2/team/app/blobs/sha256:x': (req) =>
        withAuth(req) === fresh ? { status: 200 } : basicChallenge,
    });
    const c = client(http, 'reg.example.com', credentials);
    await c.ping();
    const check = () => c.request({ method: 'HEAD', target: '/v2/team/app/blobs/sha256:x', ok: [200], what: 'check' });
    const answers = await Promise.all([check(), check(), check()]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(renewals).toBe(1);
  });

  it('fails with RegistryAuthError when the credentials are refused, without the secret in the message', async () => {
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => basicChallenge,
      'HEAD https://reg.example.com/v2/team/app/blobs/sha256:x': () => basicChallenge,
    });
    const c = client(http);
    await c.ping();
    const error = await c
      .request({ method: 'HEAD', target: '/v2/team/app/blobs/sha256:x', ok: [200], what: 'check' })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toContain('it refused the credentials for check (no details).');
    expect((error as Error).message).not.toContain('p-secret');
  });

  it('retries 5xx and network errors with backoff, and not 4xx', async () => {
    let calls = 0;
    const http = new FakeHttp({
      'GET https://reg.example.com/v2/': () => ({ status: 200 }),
      'GET https://reg.example.com/v2/flaky': () =>
        ++calls === 1 ? new HttpNetworkError('ECONNRESET', 'network') : calls === 2 ? { status: 503 } : { status: 200 },
      'GET https://reg.example.com/v2/missing': () => ({
        status: 404,
        body: Buffer.from('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}'),
      }),
    });
    const c = client(http);
    await c.ping();
    await c.request({ method: 'GET', target: '/v2/flaky', ok: [200], what: 'flaky' });
    expect(calls).toBe(3);
    const error = await c
      .request({ method: 'GET', target: '/v2/missing', ok: [200], what: 'read' })
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(RegistryRequestError);
    expect((error as Error).message).toBe(
      'GET /v2/missing on reg.example.com failed: read: 404 NAME_UNKNOWN: repository name not known',
    );
    expect(http.sent.filter((r) => r.url.pathname === '/v2/missing')).toHaveLength(1);
  });
});

describe('RegistryClient: a request that runs to its end after a cancellation (finishOnCancel)', () => {
  /** An HttpClient whose PUTs answer after `ms`, unless their signal ends them first. */
  function slowPuts(ms: number, answers: number[]) {
    const sent: HttpRequest[] = [];
    const http: HttpClient = {
      send: (req) => {
        sent.push(req);
        if (req.method !== 'PUT') return Promise.resolve({ status: 200, headers: {}, body: Buffer.alloc(0) });
        const status = answers.shift() ?? 201;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => resolve({ status, headers: {}, body: Buffer.alloc(0) }), ms);
          req.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new HttpNetworkError('aborted', 'aborted'));
          });
        });
      },
    };
    return { http, sent };
  }
  const put = (finishOnCancel: boolean) => ({
    method: 'PUT',
    target: '/v2/app/manifests/1',
    ok: [201],
    what: 'manifest 1',
    finishOnCancel,
  });

  it('is awaited to its answer when the push is cancelled while it is on its way', async () => {
    const { http } = slowPuts(150, []);
    const cancel = new AbortController();
    const c = client(http, 'reg.example.com', userPass, { signal: cancel.signal });
    await c.ping();
    const pending = c.request(put(true));
    setTimeout(() => cancel.abort(new Error('cancelled by SIGINT')), 20);
    expect((await pending).status).toBe(201);
    // Without it, the same request ends with the cancellation.
    const cancel2 = new AbortController();
    const c2 = client(slowPuts(150, []).http, 'reg.example.com', userPass, { signal: cancel2.signal });
    await c2.ping();
    const aborted = c2.request(put(false));
    setTimeout(() => cancel2.abort(new Error('cancelled by SIGINT')), 20);
    await expect(aborted).rejects.toThrow('cancelled by SIGINT');
  });

  it('is not sent again after a cancellation, though it failed in a way that is retried', async () => {
    const { http, sent } = slowPuts(100, [503, 201]);
    const cancel = new AbortController();
    const c = client(http, 'reg.example.com', userPass, { signal: cancel.signal });
    await c.ping();
    const pending = c.request(put(true));
    setTimeout(() => cancel.abort(new Error('cancelled by SIGINT')), 20);
    await expect(pending).rejects.toThrow('cancelled by SIGINT');
    expect(sent.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it("is still ended by the push's total time", async () => {
    const { http } = slowPuts(5000, []);
    const cancel = new AbortController();
    const bound = new AbortController();
    const c = client(http, 'reg.example.com', userPass, {
      signal: AbortSignal.any([cancel.signal, bound.signal]),
      bound: bound.signal,
      timeoutMs: 10_000,
    });
    await c.ping();
    const started = Date.now();
    const pending = c.request(put(true));
    setTimeout(() => bound.abort(new Error('out of time')), 50);
    await expect(pending).rejects.toThrow('out of time');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('RegistryClient deadlines against a registry that accepts and never answers', () => {
  const servers: net.Server[] = [];
  const held: net.Socket[] = [];
  const clients: NodeHttpClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const socket of held.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function listen<T extends net.Server>(server: T, port = 0): Promise<number> {
    server.on('connection', (socket: net.Socket) => held.push(socket));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  /** A TCP server that accepts, reads whatever comes, and never writes a byte. */
  const silentServer = () => net.createServer((socket) => socket.on('data', () => undefined));

  /** The real HTTP client, with every request sent to 127.0.0.1:port whatever host it names. */
  function realHttp(port: number): HttpClient {
    const inner = new NodeHttpClient({ env: {}, tlsFor: () => ({ insecure: true }) });
    clients.push(inner);
    return {
      send: (req) => {
        const url = new URL(req.url);
        url.hostname = '127.0.0.1';
        url.port = String(port);
        return inner.send({ ...req, url });
      },
    };
  }

  const anonymous: RegistryCredentialSource = { get: async () => undefined };
  const timeoutMs = 400;
  const slackMs = 300;

  async function timedPing(c: RegistryClient): Promise<{ error: Error; elapsed: number }> {
    const started = Date.now();
    const error = (await c.ping().catch((e: unknown) => e)) as Error;
    return { error, elapsed: Date.now() - started };
  }

  it('ends the check of a loopback registry (plain HTTP, then HTTPS too) within one timeout, saying what to do', async () => {
    const port = await listen(silentServer());
    const registry = `127.0.0.1:${port}`;
    const c = client(realHttp(port), registry, anonymous, { timeoutMs, retries: 3, delay: undefined });
    const { error, elapsed } = await timedPing(c);
    expect(error).toBeInstanceOf(RegistryRequestError);
    expect(error.message).toBe(
      `GET /v2/ on ${registry} failed: the registry check got no answer within 400 ms over HTTPS or HTTP. ` +
        `Check that the registry at ${registry} is up and answering, or allow it longer with timeout (--timeout).`,
    );
    expect(elapsed).toBeLessThan(timeoutMs + slackMs);
  });

  it('ends the check of an HTTPS registry, retries included, within one timeout', async () => {
    const port = await listen(silentServer());
    const c = client(realHttp(port), 'reg.example.com', anonymous, { timeoutMs, retries: 3, delay: undefined });
    const { error, elapsed } = await timedPing(c);
    expect(error.message).toMatch(
      /^GET \/v2\/ on reg\.example\.com failed: the registry check got no answer within 400 ms over HTTPS\. .*put the CA in \/etc\/docker\/certs\.d\/reg\.example\.com\/ca\.crt/,
    );
    expect(elapsed).toBeLessThan(timeoutMs + slackMs);
  });

  it('ends the check within one timeout when the registry completes the TLS handshake and never answers', async () => {
    const { key, cert } = selfSignedCertificate('reg.example.com');
    const port = await listen(https.createServer({ key, cert }, () => {}));
    const c = client(realHttp(port), 'reg.example.com', anonymous, { timeoutMs, retries: 3, delay: undefined });
    const { error, elapsed } = await timedPing(c);
    expect(error.message).toMatch(/the registry check got no answer within 400 ms over HTTPS\./);
    expect(elapsed).toBeLessThan(timeoutMs + slackMs);
  });

  it('retries a refused check within its timeout, for a registry that is starting up', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    servers.splice(servers.indexOf(probe), 1);
    const registry = `127.0.0.1:${port}`;
    const c = client(realHttp(port), registry, anonymous, { timeoutMs: 2000, retries: 3, delay: () => 150 });
    const ping = c.ping();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await listen(
      http.createServer((_req, res) => res.end()),
      port,
    );
    await ping;
    expect(c.baseUrl.href).toBe(`http://${registry}/`);
  });

  it('gives a registry that stops answering after the check (retries + 1) timeouts in all, across requests', async () => {
    const port = await listen(
      http.createServer((req, res) => {
        if (req.url === '/v2/') res.end();
      }),
    );
    const registry = `127.0.0.1:${port}`;
    const c = client(realHttp(port), registry, anonymous, { timeoutMs, retries: 2, delay: () => 50 });
    await c.ping();
    const started = Date.now();
    const check = (await c
      .request({ method: 'HEAD', target: '/v2/team/app/blobs/sha256:abc', ok: [200, 404], what: 'check of blob' })
      .catch((e: unknown) => e)) as Error;
    const next = (await c
      .request({ method: 'GET', target: '/v2/team/app/blobs/uploads/x', ok: [204], what: 'status of a blob upload' })
      .catch((e: unknown) => e)) as Error;
    const elapsed = Date.now() - started;
    // Each attempt of the first request gets its whole deadline (retries + 1 of them, 50 ms apart).
    expect(check.message).toMatch(
      /^HEAD \/v2\/team\/app\/blobs\/sha256:abc on 127\.0\.0\.1:\d+ failed: check of blob: no answer within 400 ms$/,
    );
    expect(next.message).toMatch(
      /^GET \/v2\/team\/app\/blobs\/uploads\/x on 127\.0\.0\.1:\d+ failed: status of a blob upload: not sent, the registry has answered nothing for 1\.\d s\. Check that it is up and answering, or allow it longer with timeout \(--timeout\)\.$/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(3 * timeoutMs - 20);
    expect(elapsed).toBeLessThan(3 * timeoutMs + 2 * 50 + slackMs);
  });
});
