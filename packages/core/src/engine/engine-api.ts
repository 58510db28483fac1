import http from 'node:http';
import type { Readable } from 'node:stream';
import { debugLog } from '../debug-log';
import type { EngineAuthConfig } from '../auth/registry-auth';
import { cancellationReason } from '../deadline';
import type { EngineImageInfo } from './engine-port';

const debug = debugLog('dockpush:engine:api');

/** An error answer's body is read up to this much: enough for any message the engine writes. */
const MAX_ERROR_BODY = 64 * 1024;

/** What one request may wait for. */
export interface EngineRequestLimits {
  /** Aborts the request until the engine answers; an answer already streaming is its reader's. */
  signal?: AbortSignal;
  /** The socket is destroyed after this long without a byte either way (none when not given). */
  socketTimeoutMs?: number;
}

/** What the engine says about where it keeps its images (`GET /info`), as far as dockpush reads it. */
export interface EngineInfo {
  DockerRootDir?: unknown;
  Driver?: unknown;
}

/**
 * The engine's answer other than success: its HTTP status and its own message (the `message`
 * of its JSON error body), also as `json.message`, where dockerode's errors keep it.
 */
export class EngineApiError extends Error {
  override readonly name = 'EngineApiError';
  readonly json: { message: string };

  constructor(
    what: string,
    readonly statusCode: number,
    engineMessage: string,
    options?: ErrorOptions,
  ) {
    super(`${what}: ${engineMessage || 'no message'} (HTTP ${statusCode})`, options);
    this.json = { message: engineMessage || `HTTP ${statusCode}` };
  }
}

/**
 * The Docker engine's HTTP API, spoken directly with `node:http`: the requests a push makes.
 * Paths and headers are those dockerode sends (no API version prefix: the engine's own), so
 * the engine sees the same requests whichever client made them.
 */
export interface EngineApi {
  /** `GET /_ping`. */
  ping(limits?: EngineRequestLimits): Promise<void>;
  /** `GET /images/{name}/json`. */
  inspect(reference: string, limits?: EngineRequestLimits): Promise<EngineImageInfo>;
  /** `GET /info`. */
  info(limits?: EngineRequestLimits): Promise<EngineInfo>;
  /** `GET /images/{name}/get`: the image as a `docker save` tar stream, the response body itself. */
  export(reference: string, limits?: EngineRequestLimits): Promise<Readable>;
  /** `POST /images/{name}/tag?repo=&tag=`. */
  tag(imageId: string, repository: string, tag: string, limits?: EngineRequestLimits): Promise<void>;
  /** `DELETE /images/{name}?noprune=true`: removes the tag, never the layers. */
  untag(reference: string, limits?: EngineRequestLimits): Promise<void>;
  /**
   * `POST /images/{name}/push?tag=` with the `X-Registry-Auth` header: resolves to the response
   * body, the engine's JSON-lines progress, once the engine answers 200.
   */
  push(repository: string, tag: string, authconfig: EngineAuthConfig, limits?: EngineRequestLimits): Promise<Readable>;
}

/**
 * The engine API client for `DOCKER_HOST` as read from `env` (a `unix://` socket, by default
 * `/var/run/docker.sock`, or plain `tcp://`), or undefined for an engine it does not speak to
 * (`ssh://`, TLS, a Windows named pipe): dockerode then does.
 */
export function engineApi(env: NodeJS.ProcessEnv = process.env): EngineApi | undefined {
  const target = engineTarget(env);
  return target ? new HttpEngineApi(target) : undefined;
}

/** Where the requests go, or undefined when this client cannot reach the engine named. */
function engineTarget(env: NodeJS.ProcessEnv): http.RequestOptions | undefined {
  const dockerHost = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (dockerHost.startsWith('unix://')) {
    // `servername` (unused: no TLS here) spares Node's agent working one out from the `Host`
    // placeholder, whose IP check compiles a large regular expression: ~11 ms of a CLI's start.
    const socket: http.RequestOptions & { servername: string } = {
      socketPath: dockerHost.slice('unix://'.length) || DEFAULT_SOCKET,
      servername: '',
    };
    return socket;
  }
  // Any DOCKER_TLS_VERIFY, as the docker CLI reads it: TLS is dockerode's.
  const tls = Boolean(env.DOCKER_TLS_VERIFY);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(dockerHost)?.[1]?.toLowerCase() ?? 'tcp';
  if (scheme !== 'tcp' || tls) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${dockerHost.replace(/^tcp:\/\//i, '')}`);
  } catch {
    return undefined; // dockerode's connection reading names the bad DOCKER_HOST
  }
  // Port 2376 is the engine's TLS port (docker-modem speaks TLS to it): not plain HTTP.
  if (url.port === '2376') return undefined;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 2375) };
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** An image reference or ID in a path, escaped as a URL path segment would be, its `/`, `:` and `@` kept. */
function imagePath(reference: string): string {
  return `/images/${encodeURIComponent(reference).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/gi, '@')}`;
}

/**
 * `X-Registry-Auth`: the JSON auth config in base64 with the URL alphabet's `-` and `_` (the
 * padding kept), byte for byte what docker-modem sends and the engine decodes.
 */
export function registryAuthHeader(authconfig: EngineAuthConfig): string {
  return Buffer.from(JSON.stringify(authconfig)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

interface Request {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Says what was asked, in an error. */
  what: string;
  headers?: http.OutgoingHttpHeaders;
  /** Statuses that are success. */
  ok: number[];
  /** Keep the socket timeout while the answer streams (else it ends with the headers). */
  timeoutWhileStreaming?: boolean;
}

class HttpEngineApi implements EngineApi {
  constructor(private readonly target: http.RequestOptions) {}

  async ping(limits: EngineRequestLimits = {}): Promise<void> {
    await this.text({ method: 'GET', path: '/_ping', what: 'ping', ok: [200] }, limits);
  }

  async inspect(reference: string, limits: EngineRequestLimits = {}): Promise<EngineImageInfo> {
    const what = `inspecting ${reference}`;
    return parseJson<EngineImageInfo>(
      await this.text({ method: 'GET', path: `${imagePath(reference)}/json`, what, ok: [200] }, limits),
      what,
    );
  }

  async info(limits: EngineRequestLimits = {}): Promise<EngineInfo> {
    const what = 'the engine info';
    return parseJson<EngineInfo>(await this.text({ method: 'GET', path: '/info', what, ok: [200] }, limits), what);
  }

  export(reference: string, limits: EngineRequestLimits = {}): Promise<Readable> {
    // No socket timeout while the tar streams: its reader may pause it for as long as an upload takes.
    return this.request(
      { method: 'GET', path: `${imagePath(reference)}/get`, what: `exporting ${reference}`, ok: [200] },
      limits,
    );
  }

  async tag(imageId: string, repository: string, tag: string, limits: EngineRequestLimits = {}): Promise<void> {
    const query = new URLSearchParams({ repo: repository, tag });
    await this.text(
      {
        method: 'POST',
        path: `${imagePath(imageId)}/tag?${query}`,
        what: `tagging ${imageId} as ${repository}:${tag}`,
        // 200: not the engine's answer, but proxies give it.
        ok: [200, 201],
      },
      limits,
    );
  }

  async untag(reference: string, limits: EngineRequestLimits = {}): Promise<void> {
    await this.text(
      { method: 'DELETE', path: `${imagePath(reference)}?noprune=true`, what: `removing ${reference}`, ok: [200] },
      limits,
    );
  }

  push(
    repository: string,
    tag: string,
    authconfig: EngineAuthConfig,
    limits: EngineRequestLimits = {},
  ): Promise<Readable> {
    return this.request(
      {
        method: 'POST',
        path: `${imagePath(repository)}/push?${new URLSearchParams({ tag })}`,
        what: `pushing ${repository}:${tag}`,
        headers: { 'X-Registry-Auth': registryAuthHeader(authconfig) },
        ok: [200],
        timeoutWhileStreaming: true,
      },
      limits,
    );
  }

  /** The answer's body as text, read under the same limits. */
  private async text(request: Request, limits: EngineRequestLimits): Promise<string> {
    const body = await this.request({ ...request, timeoutWhileStreaming: true }, limits);
    const { signal } = limits;
    const onAbort = () => body.destroy(cancellationReason(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await readText(body, Infinity);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Sends the request and resolves to the response body once a success status comes; any other
   * status rejects with `EngineApiError`, no answer with the socket's error (its `code`).
   */
  private request(request: Request, { signal, socketTimeoutMs }: EngineRequestLimits): Promise<Readable> {
    if (signal?.aborted) return Promise.reject(cancellationReason(signal));
    // Never the headers: X-Registry-Auth holds credentials.
    debug('%s %s', request.method, request.path);
    return new Promise<Readable>((resolve, reject) => {
      const req = http.request({
        ...this.target,
        // A connection per request: a kept-alive socket the engine closed meanwhile would fail
        // the next request as if the engine were gone, and a push makes only a handful.
        agent: false,
        method: request.method,
        path: request.path,
        headers: {
          // On a socket there is no host to name; over TCP node sends the engine's own, as the docker CLI does.
          ...('socketPath' in this.target ? { Host: 'docker' } : {}),
          ...(request.method === 'GET' ? {} : { 'Content-Length': 0 }),
          ...request.headers,
        },
      });
      const onAbort = () => req.destroy(cancellationReason(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      if (socketTimeoutMs) {
        req.setTimeout(socketTimeoutMs, () => {
          debug('%s %s: no byte for %d ms; closing the socket', request.method, request.path, socketTimeoutMs);
          req.destroy(Object.assign(new Error(`no answer within ${socketTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
        });
      }
      req.on('error', (error) => {
        done();
        reject(error);
      });
      req.on('response', (res) => {
        done();
        const status = res.statusCode ?? 0;
        if (!request.timeoutWhileStreaming) req.setTimeout(0);
        if (request.ok.includes(status)) {
          resolve(res);
          return;
        }
        readText(res, MAX_ERROR_BODY).then(
          (text) => reject(new EngineApiError(request.what, status, engineMessage(text))),
          reject,
        );
      });
      req.end();
    });
  }
}

/** The text of a body, at most `max` bytes of it (then the rest is not read and the socket closed). */
async function readText(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= max) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max);
}

/** The `message` of the engine's JSON error body, else the body's text. */
function engineMessage(text: string): string {
  const trimmed = text.trim();
  try {
    const parsed = JSON.parse(trimmed) as { message?: unknown };
    if (typeof parsed?.message === 'string') return parsed.message;
  } catch {
    // not JSON: the text is the message
  }
  return trimmed;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(
      `${what}: the engine answered with something other than JSON: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
}
