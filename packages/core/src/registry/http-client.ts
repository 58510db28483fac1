import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { formatDuration } from '../deadline';
import { proxyFor, type HostTls } from './transport-policy';

/**
 * A request's bytes: one buffer, or several sent back to back (a blob's chunk, gathered from the
 * compressor's output without a copy).
 */
export type RequestBody = Buffer | readonly Buffer[];

export function bodyLength(body: RequestBody): number {
  return Buffer.isBuffer(body) ? body.length : body.reduce((n, part) => n + part.length, 0);
}

/** The bytes of `body` from `offset` on. */
export function bodyFrom(body: RequestBody, offset: number): RequestBody {
  if (Buffer.isBuffer(body)) return body.subarray(offset);
  const rest: Buffer[] = [];
  let skip = offset;
  for (const part of body) {
    if (skip >= part.length) skip -= part.length;
    else {
      rest.push(skip ? part.subarray(skip) : part);
      skip = 0;
    }
  }
  return rest;
}

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** The request fails when nothing moves for this long (connect, TLS, upload, answer): one deadline, never two. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called whenever the request moves forward (connected, TLS done, body bytes taken, answer bytes). */
  onProgress?: () => void;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** No answer came: connection refused or cut, TLS failure, silence past the deadline. */
export class HttpNetworkError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'tls' | 'aborted',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpNetworkError';
  }
}

/** Sends one HTTP request (no redirects followed); the answer's body is read whole (registry answers are small). */
export interface HttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
}

export interface NodeHttpClientOptions {
  env?: Record<string, string | undefined>;
  /** TLS settings for a `host[:port]`. */
  tlsFor?: (host: string) => HostTls & { insecure?: boolean };
  /** Cap on a response body, against a misbehaving server. */
  maxResponseBytes?: number;
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|EPROTO/;

/** HttpClient over node:http/https with keep-alive agents per origin, certs.d TLS and HTTP(S)_PROXY. */
export class NodeHttpClient implements HttpClient {
  private readonly agents = new Map<string, http.Agent>();
  private readonly env: Record<string, string | undefined>;

  constructor(private readonly options: NodeHttpClientOptions = {}) {
    this.env = options.env ?? process.env;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(url: URL): { agent: http.Agent; viaProxy?: URL } {
    const proxy = proxyFor(url, this.env);
    const key = `${url.protocol}//${url.host}|${proxy?.href ?? ''}`;
    const existing = this.agents.get(key);
    if (existing) return { agent: existing, viaProxy: url.protocol === 'http:' ? proxy : undefined };
    let agent: http.Agent;
    if (url.protocol === 'https:') {
      const hostTls = this.options.tlsFor?.(url.host) ?? {};
      const tlsOptions: tls.ConnectionOptions = {
        ...(hostTls.ca ? { ca: [...tls.rootCertificates, ...hostTls.ca.map(String)] } : {}),
        ...(hostTls.cert ? { cert: hostTls.cert, key: hostTls.key } : {}),
        rejectUnauthorized: !hostTls.insecure,
        ...(net.isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }),
      };
      agent = proxy ? new TunnelAgent(proxy, tlsOptions) : new https.Agent({ keepAlive: true, ...tlsOptions });
    } else {
      agent = new http.Agent({ keepAlive: true });
    }
    this.agents.set(key, agent);
    return { agent, viaProxy: url.protocol === 'http:' ? proxy : undefined };
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    const { url, method, body, timeoutMs, signal } = request;
    const { agent, viaProxy } = this.agentFor(url);
    const maxBytes = this.options.maxResponseBytes ?? 16 * 1024 * 1024;
    return new Promise<HttpResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(new HttpNetworkError('cancelled', 'aborted', { cause: signal.reason }));
      const headers: Record<string, string> = { ...request.headers };
      if (body !== undefined) headers['Content-Length'] = String(bodyLength(body));
      const options: http.RequestOptions = viaProxy
        ? {
            host: viaProxy.hostname,
            port: viaProxy.port || 80,
            path: url.href,
            method,
            headers: { ...headers, Host: url.host },
            agent,
          }
        : { method, headers, agent };
      const transport = url.protocol === 'https:' ? https : http;
      const req = viaProxy ? http.request(options) : transport.request(url, options);
      // One timer for the whole request, restarted by each step forward (connected, TLS done, a
      // slice of the body written, the answer's head, a piece of it). Node's socket timeout is not
      // used: it starts only once TCP connects and lets a write still queued at its first expiry
      // (a TLS hello to a peer that never answers) run a second period.
      const idle = setTimeout(
        () => fail(new HttpNetworkError(`no answer within ${formatDuration(timeoutMs)}`, 'timeout')),
        timeoutMs,
      );
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(idle);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: Error) => {
        if (settled) return;
        settle();
        req.destroy();
        reject(error);
      };
      const onAbort = () => fail(new HttpNetworkError('cancelled', 'aborted', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      const moved = () => {
        if (settled) return;
        idle.refresh();
        request.onProgress?.();
      };
      req.on('socket', (socket) => {
        if (socket.connecting) socket.once('connect', moved);
        if (socket instanceof tls.TLSSocket) socket.once('secureConnect', moved);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? '';
        const kind = TLS_CODES.test(code) || TLS_CODES.test(error.message) ? 'tls' : 'network';
        fail(new HttpNetworkError(code ? `${code}: ${error.message}` : error.message, kind, { cause: error }));
      });
      req.on('response', (res) => {
        moved();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          moved();
          size += chunk.length;
          if (size <= maxBytes) chunks.push(chunk);
        });
        res.on('error', (error) => fail(new HttpNetworkError(error.message, 'network', { cause: error })));
        res.on('aborted', () => fail(new HttpNetworkError('the answer was cut off', 'network')));
        res.on('end', () => {
          if (settled) return;
          settle();
          // Answered before its body was all sent (a 401 or 5xx midway): the rest is not sent, so
          // no buffer of the body is read once its request has settled, and no write waits on.
          if (!req.writableFinished) req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      writeBody(req, body, moved);
    });
  }
}

/**
 * How much of a body is handed to the socket at a time; each slice the socket takes counts as
 * progress, so an upload moving at 64 KiB per `timeout` or more does not time out.
 */
const BODY_SLICE_BYTES = 64 * 1024;

/** Writes the body a slice at a time, the next when the socket has taken the last, and ends the request. */
function writeBody(req: http.ClientRequest, body: RequestBody | undefined, moved: () => void): void {
  if (body === undefined || (Buffer.isBuffer(body) && body.length <= BODY_SLICE_BYTES)) {
    req.end(body);
    return;
  }
  const parts = (Buffer.isBuffer(body) ? [body] : body).filter((part) => part.length > 0);
  let index = 0;
  let offset = 0;
  const pump = () => {
    while (!req.destroyed) {
      // The next slice: parts, or pieces of them, up to BODY_SLICE_BYTES, corked so that they
      // go out together (one writev).
      const slice: Buffer[] = [];
      for (let room = BODY_SLICE_BYTES; room > 0 && index < parts.length;) {
        const part = parts[index] as Buffer;
        const take = Math.min(room, part.length - offset);
        slice.push(take === part.length ? part : part.subarray(offset, offset + take));
        offset += take;
        room -= take;
        if (offset === part.length) {
          index++;
          offset = 0;
        }
      }
      let flowing = true;
      req.cork();
      // The slice's last write tells when the socket has taken the slice: progress.
      slice.forEach((piece, i) => {
        flowing = (i === slice.length - 1 ? req.write(piece, moved) : req.write(piece)) && flowing;
      });
      req.uncork();
      if (index === parts.length) {
        req.end();
        return;
      }
      if (!flowing) {
        req.once('drain', () => {
          moved();
          pump();
        });
        return;
      }
    }
  };
  pump();
}

/** HTTPS through an HTTP proxy: a CONNECT tunnel, then TLS to the registry inside it. */
class TunnelAgent extends https.Agent {
  /**
   * Tunnels still being opened. A request that fails at its deadline leaves its tunnel to the
   * agent; `destroy()` ends those too, so a proxy that never answers holds no socket open.
   */
  private readonly opening = new Set<{ destroy(): unknown }>();

  constructor(
    private readonly proxy: URL,
    private readonly tlsOptions: tls.ConnectionOptions,
  ) {
    super({ keepAlive: true, ...tlsOptions });
  }

  override destroy(): void {
    for (const pending of this.opening) pending.destroy();
    this.opening.clear();
    super.destroy();
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const target = `${options.host ?? options.hostname}:${options.port ?? 443}`;
    const headers: Record<string, string> = { Host: target };
    if (this.proxy.username) {
      const user = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    const connect = http.request({
      host: this.proxy.hostname,
      port: this.proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers,
    });
    this.opening.add(connect);
    connect.once('connect', (res, socket) => {
      this.opening.delete(connect);
      if (res.statusCode !== 200) {
        socket.destroy();
        callback?.(
          new Error(`the proxy ${this.proxy.host} refused the tunnel to ${target}: ${res.statusCode}`),
          socket,
        );
        return;
      }
      const host = String(options.host ?? '');
      const secure = tls.connect({ ...this.tlsOptions, socket, ...(net.isIP(host) ? {} : { servername: host }) });
      this.opening.add(secure);
      secure.once('secureConnect', () => {
        this.opening.delete(secure);
        callback?.(null, secure);
      });
      secure.once('error', (error) => {
        this.opening.delete(secure);
        callback?.(error, secure);
      });
    });
    connect.once('error', (error) => {
      this.opening.delete(connect);
      callback?.(error, undefined as unknown as Duplex);
    });
    connect.end();
    return undefined;
  }
}
