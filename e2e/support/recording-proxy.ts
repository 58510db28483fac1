import http, { type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback, type LoopbackServer } from './loopback-server';

/** One request that went through the proxy, with the headers it came with and the answer. */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  status: number | 'cut' | 'redirected';
  responseHeaders: IncomingHttpHeaders;
}

/** What to do with a request: forward it (undefined), answer a redirect, or cut it. */
export type ProxyAction =
  | { kind: 'redirect'; status: 307 | 308; location: string }
  /**
   * Reads this many bytes of the body, then drops the connection without forwarding anything (as a
   * buffering load balancer whose client went away). With `dropUpload`, it first cancels the
   * upload in the registry (`DELETE`), so that the registry no longer knows it, as registry:2
   * sometimes forgets an upload whose PATCH was cut.
   */
  | { kind: 'cut'; afterBytes: number; dropUpload?: boolean };

/**
 * A loopback HTTP proxy of the tests' own in front of a registry that records every request with
 * its headers (so tests can see whether `Authorization` was sent, and which `Content-Range`), and
 * can answer with a redirect or cut an upload. The `Host` header is passed on, so the registry's
 * `Location` URLs point back through the proxy.
 */
export class RecordingProxy {
  readonly requests: ProxiedRequest[] = [];
  decide: (req: http.IncomingMessage, index: number) => ProxyAction | undefined = () => undefined;
  private readonly server: http.Server;
  private listening?: LoopbackServer;

  private constructor(private readonly upstream: { host: string; port: number }) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Starts on a free port of `address` (any loopback address: 127.0.0.2 is another host) forwarding to `upstream`. */
  static async start(upstream: string, address = '127.0.0.1'): Promise<RecordingProxy> {
    const [host, port] = upstream.split(':');
    const proxy = new RecordingProxy({ host: host ?? '127.0.0.1', port: Number(port) });
    proxy.listening = await listenOnLoopback(proxy.server, { address });
    return proxy;
  }

  get host(): string {
    return this.listening?.host ?? '';
  }

  async close(): Promise<void> {
    await this.listening?.close();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const record: ProxiedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: { ...req.headers },
      status: 0,
      responseHeaders: {},
    };
    const index = this.requests.push(record) - 1;
    const action = this.decide(req, index);
    if (action?.kind === 'redirect') {
      record.status = 'redirected';
      req.resume();
      req.on('end', () => {
        res.writeHead(action.status, { Location: action.location, 'Content-Length': '0' });
        res.end();
      });
      return;
    }
    if (action?.kind === 'cut') {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= action.afterBytes && record.status !== 'cut') {
          record.status = 'cut';
          if (!action.dropUpload) {
            req.socket.destroy();
            return;
          }
          // The whole URL: registry:2 finds the upload by its `_state` query.
          http
            .request(
              { ...this.upstream, method: 'DELETE', path: req.url, headers: { host: req.headers.host ?? '' } },
              (upRes) => upRes.resume().on('end', () => req.socket.destroy()),
            )
            .on('error', () => req.socket.destroy())
            .end();
        }
      });
      return;
    }
    const upstream = http.request(
      { host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        record.status = upRes.statusCode ?? 0;
        record.responseHeaders = upRes.headers;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    upstream.on('error', () => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}
