import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';

/**
 * The TLS front of the ECR e2e registry: what the engine reaches as
 * `<account>.dkr.ecr.<region>.amazonaws.com` and `public.ecr.aws` on port 443. It forwards
 * everything to a plain `registry:2` (htpasswd user `AWS`), which does the real work, and adds
 * the one ECR behaviour `registry:2` lacks: a repository must exist before anything is pushed
 * to it. `registry:2` creates repositories on the first push, so without this front a missing
 * ECR repository (and `createRepository`) could not be tested at all.
 *
 * For a repository the stand-in does not know, an authenticated request gets ECR's own answer,
 * `404 {"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name '…' does not exist
 * in the registry with id '…'"}]}`; as in ECR, credentials are checked first (by the registry:
 * an `Authorization` it rejects is passed through to get its 401).
 */

export interface RegistryFrontOptions {
  /** Address to listen on, port 443. */
  address: string;
  port?: number;
  /** The plain `registry:2` behind, `127.0.0.1:PORT`. */
  backend: string;
  repositoryExists(host: string, path: string): boolean;
  /** What a NAME_UNKNOWN error says the registry ID is. */
  registryIdOf(host: string): string;
}

export interface FrontRequest {
  method: string;
  host: string;
  path: string;
  status: number;
}

export class EcrRegistryFront {
  readonly requests: FrontRequest[] = [];
  /** Whether the registry accepts an `Authorization` value, asked once per value. */
  private readonly accepted = new Map<string, Promise<boolean>>();

  private constructor(
    private readonly server: https.Server,
    private readonly options: RegistryFrontOptions,
  ) {}

  static async start(options: RegistryFrontOptions): Promise<EcrRegistryFront> {
    // No certificate yet: the port is taken first, as the lock of the machine set-up (see
    // EcrE2eEnvironment), and the certificate made afterwards is set with useCertificate.
    const server = https.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(
                `${options.address}:${options.port ?? 443} is taken, by another ECR e2e run or a web server; nothing ` +
                  `was changed on the machine. See ss -ltnp 'sport = :${options.port ?? 443}'`,
                { cause: error },
              )
            : error,
        ),
      );
      server.listen(options.port ?? 443, options.address, () => resolve());
    });
    const front = new EcrRegistryFront(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      front.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`dockpush e2e registry front: ${String(error)}`);
      });
    });
    return front;
  }

  /** PEM certificate (with SANs for every host) and key. */
  useCertificate(cert: string, key: string): void {
    this.server.setSecureContext({ cert, key });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const path = req.url ?? '/';
    const record = (status: number) => this.requests.push({ method: req.method ?? '', host, path, status });
    const name = /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(path)?.[1];
    if (name && !this.options.repositoryExists(host, name) && (await this.authenticated(req))) {
      req.resume();
      record(404);
      const message = `The repository with name '${name}' does not exist in the registry with id '${this.options.registryIdOf(host)}'`;
      res.writeHead(404, {
        'content-type': 'application/json; charset=utf-8',
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message }] }));
      return;
    }
    await this.forward(req, res, record);
  }

  /** Streams the request to the registry and its answer back; Location URLs stay https://<host>. */
  private forward(req: IncomingMessage, res: ServerResponse, record: (status: number) => void): Promise<void> {
    const [backendHost = '127.0.0.1', backendPort = '80'] = this.options.backend.split(':');
    return new Promise((resolve, reject) => {
      const upstream = http.request(
        {
          host: backendHost,
          port: Number(backendPort),
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'x-forwarded-proto': 'https' },
        },
        (answer) => {
          record(answer.statusCode ?? 0);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }

  private authenticated(req: IncomingMessage): Promise<boolean> {
    const authorization = req.headers.authorization;
    if (!authorization) return Promise.resolve(false);
    let pending = this.accepted.get(authorization);
    if (!pending) {
      pending = new Promise<boolean>((resolve) => {
        const probe = http.get(`http://${this.options.backend}/v2/`, { headers: { authorization } }, (answer) => {
          answer.resume();
          resolve(answer.statusCode === 200);
        });
        probe.on('error', () => resolve(false));
      });
      this.accepted.set(authorization, pending);
    }
    return pending;
  }
}
