import http from 'node:http';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';

/**
 * A loopback HTTP proxy of the tests' own, put between the Docker engine and a
 * registry:2 (the engine pushes to the proxy's port), that injects faults:
 *
 * - `reset`: destroy the client connection of matching requests (ECONNRESET);
 * - `cut`: cut the connection after N bytes of the request body (uploads) or, for
 *   requests without a body, of the response;
 * - `stall`: hold matching requests for a while before forwarding them;
 * - `status`: answer matching requests itself with a status and a registry-style error body.
 *
 * Each rule applies to at most `times` matching requests, then lets traffic through.
 * Every request is recorded, so tests can count attempts.
 */
export type FaultAction =
  | { kind: 'reset' }
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'stall'; ms: number }
  | { kind: 'status'; status: number; code: string; message: string };

export interface FaultRule {
  /** One method, or any of several. */
  method?: string | readonly string[];
  /** Matched against the request path. */
  path?: RegExp;
  /** Only requests whose body is at least this long (a chunked body, of unknown length, counts). */
  minBytes?: number;
  action: FaultAction;
  /** How many matching requests this rule hits (default: all). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number | 'reset' | 'cut' | 'client-gone';
  injected: boolean;
  /** ms since the proxy started, when the request arrived. */
  at: number;
}

export class FaultProxy {
  readonly requests: RecordedRequest[] = [];
  private rules: Array<FaultRule & { hits: number }> = [];
  private readonly server: http.Server;
  private listening?: LoopbackServer;
  private readonly startedAt = Date.now();

  private constructor(private readonly upstream: { host: string; port: number }) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** Starts a proxy on a free loopback port forwarding to `upstream` (`127.0.0.1:PORT`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const [host, port] = upstream.split(':');
    const proxy = new FaultProxy({ host: host ?? '127.0.0.1', port: Number(port) });
    proxy.listening = await listenOnLoopback(proxy.server);
    return proxy;
  }

  /** `127.0.0.1:PORT` of the proxy: push to `<host>/<name>`. */
  get host(): string {
    return this.listening?.host ?? '';
  }

  /** Replaces the fault rules (and forgets earlier hits). */
  setFaults(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r, hits: 0 }));
  }

  clearRecord(): void {
    this.requests.length = 0;
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  async close(): Promise<void> {
    await this.listening?.close();
  }

  private match(req: http.IncomingMessage): FaultAction | undefined {
    for (const rule of this.rules) {
      if (rule.method && ![rule.method].flat().includes(req.method ?? '')) continue;
      if (rule.path && !rule.path.test(req.url ?? '')) continue;
      const length = req.headers['content-length'];
      const chunked = length === undefined && /chunked/i.test(req.headers['transfer-encoding'] ?? '');
      if (rule.minBytes !== undefined && !chunked && !(Number(length) >= rule.minBytes)) continue;
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      rule.hits++;
      return rule.action;
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      status: 0,
      injected: false,
      at: Date.now() - this.startedAt,
    };
    this.requests.push(record);
    const action = this.match(req);
    if (action) record.injected = true;
    if (action?.kind === 'reset') {
      record.status = 'reset';
      req.socket.destroy();
      return;
    }
    if (action?.kind === 'status') {
      record.status = action.status;
      req.resume();
      const body = JSON.stringify({ errors: [{ code: action.code, message: action.message, detail: null }] });
      res.writeHead(action.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (action?.kind === 'stall') {
      let gone = false;
      req.socket.once('close', () => (gone = true));
      // unref: a request still held when the tests end must not keep their process alive.
      await new Promise((r) => setTimeout(r, action.ms).unref());
      // The client gave up while it was held: forward nothing, as a real network would.
      if (gone) {
        record.status = 'client-gone';
        return;
      }
    }

    const upstream = http.request(
      { host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        record.status = upRes.statusCode ?? 0;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (action?.kind === 'cut' && req.method !== 'PATCH' && req.method !== 'PUT') {
          let sent = 0;
          upRes.on('data', (chunk: Buffer) => {
            const room = action.afterBytes - sent;
            if (room <= 0) return;
            res.write(room >= chunk.length ? chunk : chunk.subarray(0, room));
            sent += Math.min(room, chunk.length);
            if (sent >= action.afterBytes) {
              record.status = 'cut';
              upRes.destroy();
              req.socket.destroy();
            }
          });
          upRes.on('end', () => res.end());
        } else {
          upRes.pipe(res);
        }
      },
    );
    upstream.on('error', () => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('registry unreachable');
    });
    if (action?.kind === 'cut' && (req.method === 'PATCH' || req.method === 'PUT')) {
      let sent = 0;
      req.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent >= action.afterBytes && record.status !== 'cut') {
          record.status = 'cut';
          upstream.destroy();
          req.socket.destroy();
        }
      });
    }
    req.pipe(upstream);
  }
}
