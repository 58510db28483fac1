import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import type { EngineAuthConfig } from '../auth/registry-auth';
import { cancellationReason } from '../deadline';
import { redactClientDebugOutput, redactLibraryDebugOutput } from '../debug-redaction';
import { EngineApiError, type EngineApi, type EngineInfo, type EngineRequestLimits } from './engine-api';
import type { EngineImageInfo } from './engine-port';

/** Said once a process: every client made after it is in the same case. */
let warned = false;

/**
 * Debug output is on and the caller's dockerode client logs through a `debug` dockpush cannot
 * reach (bundled into one file): its docker-modem may print an engine push's X-Registry-Auth.
 * A Node warning shows on stderr whatever namespaces DEBUG names.
 */
function warnUnredactedClient(): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    "dockpush cannot redact the debug output of the dockerode client it was given (its docker-modem is not a module dockpush can find, as in a bundle): with DEBUG set, docker-modem's lines may show the registry credentials of an engine push (X-Registry-Auth). Unset DEBUG, or leave `docker` out of the push options so that dockpush makes its own client.",
    { code: 'DOCKPUSH_UNREDACTED_DEBUG' },
  );
}

/**
 * The engine API spoken through dockerode, for the engines `engineApi` does not reach (ssh://,
 * TLS, a Windows named pipe) and for a dockerode client the caller gives. It answers as
 * `engineApi` does: the same bodies, an error answer as `EngineApiError` (the HTTP status and
 * the engine's own message), no answer as the socket's error, an aborted request with its
 * signal's reason.
 *
 * `connect` makes the client on the first request, so dockerode (with its SSH and gRPC
 * dependencies, some 150 ms of start-up) is loaded only by an engine that needs it. A request's
 * signal reaches dockerode where it takes one (ping, tag); the client's own socket timeout, set
 * where it is made, ends the others.
 */
export function dockerodeEngineApi(connect: () => Dockerode): EngineApi {
  // docker-modem logs each request with its X-Registry-Auth header.
  redactLibraryDebugOutput();
  return new DockerodeEngineApi(connect);
}

class DockerodeEngineApi implements EngineApi {
  private client: Dockerode | undefined;

  constructor(private readonly connect: () => Dockerode) {}

  async ping({ signal }: EngineRequestLimits = {}): Promise<void> {
    // dockerode's ping takes an AbortSignal, though its typings do not say so.
    await this.request('ping', signal, (docker) =>
      (docker.ping as unknown as (opts: { abortSignal?: AbortSignal }) => Promise<unknown>).call(
        docker,
        withSignal({}, signal),
      ),
    );
  }

  inspect(reference: string, { signal }: EngineRequestLimits = {}): Promise<EngineImageInfo> {
    return this.request(`inspecting ${reference}`, signal, (docker) => docker.getImage(reference).inspect());
  }

  info({ signal }: EngineRequestLimits = {}): Promise<EngineInfo> {
    return this.request('the engine info', signal, (docker) => docker.info() as Promise<EngineInfo>);
  }

  export(reference: string, { signal }: EngineRequestLimits = {}): Promise<Readable> {
    return this.request(
      `exporting ${reference}`,
      signal,
      async (docker) => (await docker.getImage(reference).get()) as Readable,
    );
  }

  async tag(imageId: string, repository: string, tag: string, { signal }: EngineRequestLimits = {}): Promise<void> {
    await this.request(`tagging ${imageId} as ${repository}:${tag}`, signal, (docker) =>
      docker.getImage(imageId).tag(withSignal({ repo: repository, tag }, signal)),
    );
  }

  async untag(reference: string, { signal }: EngineRequestLimits = {}): Promise<void> {
    await this.request(`removing ${reference}`, signal, (docker) =>
      docker.getImage(reference).remove({ noprune: true }),
    );
  }

  push(
    repository: string,
    tag: string,
    authconfig: EngineAuthConfig,
    { signal }: EngineRequestLimits = {},
  ): Promise<Readable> {
    // Always the tag: without it the engine pushes every local tag of the repository.
    return this.request(
      `pushing ${repository}:${tag}`,
      signal,
      async (docker) => (await docker.getImage(repository).push({ tag, authconfig })) as unknown as Readable,
    );
  }

  /** One request through the client (made now if not yet), its failure as `engineApi`'s would be. */
  private async request<T>(
    what: string,
    signal: AbortSignal | undefined,
    send: (docker: Dockerode) => Promise<T>,
  ): Promise<T> {
    if (!this.client) {
      this.client = this.connect();
      // The caller's own client logs through its own docker-modem and `debug`; where that cannot
      // be reached and debug output is on, say so where it shows, whatever DEBUG names.
      if (!redactClientDebugOutput(this.client) && process.env.DEBUG) warnUnredactedClient();
    }
    try {
      return await send(this.client);
    } catch (error) {
      if (signal?.aborted) throw cancellationReason(signal);
      const statusCode = (error as { statusCode?: unknown }).statusCode;
      if (typeof statusCode !== 'number') throw error;
      throw new EngineApiError(what, statusCode, modemMessage(error as ModemError), { cause: error });
    }
  }
}

/** docker-modem's error for an answer other than success. */
interface ModemError {
  message: string;
  /** The answer's body: parsed JSON, its text, or null for a streamed answer. */
  json?: unknown;
}

/**
 * The engine's own message in docker-modem's error: the `message` of its JSON body, else the
 * body's text, else what docker-modem quoted of it in its message
 * (`(HTTP code 500) server error - <the engine's message> `).
 */
function modemMessage(error: ModemError): string {
  const { json } = error;
  if (typeof (json as { message?: unknown } | null)?.message === 'string') return (json as { message: string }).message;
  if (typeof json === 'string' || Buffer.isBuffer(json)) return json.toString().trim();
  return /^\(HTTP code \d+\) .*? - ([\s\S]*)$/.exec(error.message)?.[1]?.trim() ?? error.message;
}

/** Options with `abortSignal` where there is one: docker-modem puts a key it is given as undefined in the query. */
function withSignal<T extends object>(options: T, signal: AbortSignal | undefined): T & { abortSignal?: AbortSignal } {
  return signal ? { ...options, abortSignal: signal } : options;
}
