import type Dockerode from 'dockerode';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { EngineAuthConfig } from '../auth/registry-auth';
import { formatDuration, timeoutMsOf, type WaitLimits } from '../deadline';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import type { EngineStoreLocation } from '../image-source/engine-store';
import { createDockerClient, describeDockerHost, engineCall, SOCKET_MARGIN_MS } from './docker-client';
import { dockerodeEngineApi } from './dockerode-engine-api';
import { engineApi, type EngineApi, type EngineRequestLimits } from './engine-api';
import type { EngineImageInfo, EnginePort } from './engine-port';

/** Where a rootful engine keeps its images unless configured otherwise (`data-root`). */
const DEFAULT_ROOT = '/var/lib/docker';

/** A running engine answers a ping at once; this long is already a sick one. */
const PING_TIMEOUT_MS = 10_000;

const DEFAULT_HINT = 'Build it or pull it first (docker images lists what is there).';

export interface DockerEngineOptions {
  /**
   * A dockerode client to speak through; by default the engine's API is spoken directly, and a
   * dockerode client for `DOCKER_HOST` is made on first use only where it cannot be (ssh://, TLS).
   */
  docker?: Dockerode;
  /** Where `DOCKER_HOST` is read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The socket timeout of the client made here. */
  limits?: WaitLimits;
}

/**
 * The Docker engine behind the engine port, and the one place where the engine's failures
 * become dockpush's errors. It speaks to the engine through one `EngineApi`, chosen once: the
 * HTTP API spoken directly (`engineApi`) on a local socket or plain TCP, dockerode
 * (`dockerodeEngineApi`) where that cannot be (ssh://, TLS) or when the caller gives a dockerode
 * client. Each method sets the call's deadline, makes the call and maps its failure.
 */
export class DockerEngine implements EnginePort {
  private readonly api: EngineApi;
  /** The engine runs on this host and is spoken to directly over its socket: only then is its store read. */
  private readonly onThisHost: boolean;
  /**
   * Every request ends when its signal is aborted: true of the direct API, not of dockerode,
   * whose image lookups and exports take no signal and end only at its socket timeout.
   */
  readonly endsEveryRequestOnAbort: boolean;

  constructor(private readonly options: DockerEngineOptions = {}) {
    const env = options.env ?? process.env;
    const direct = options.docker ? undefined : engineApi(env);
    this.api = direct ?? dockerodeEngineApi(() => options.docker ?? createDockerClient(options.limits, options.env));
    this.onThisHost = direct !== undefined && (!env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://'));
    this.endsEveryRequestOnAbort = direct !== undefined;
  }

  private get env(): NodeJS.ProcessEnv | undefined {
    return this.options.env;
  }

  async ping(limits: WaitLimits): Promise<void> {
    const ms = Math.min(PING_TIMEOUT_MS, timeoutMsOf(limits));
    try {
      // A running engine answers a ping at once: past PING_TIMEOUT_MS a longer timeout would not help.
      const advice =
        ms < timeoutMsOf(limits)
          ? `a running engine answers at once (this wait is at most ${formatDuration(PING_TIMEOUT_MS)}, whatever timeout says): check that the engine is running and answering there`
          : undefined;
      await engineCall(this.env, limits, 'a ping', (signal) => this.api.ping(requestLimits(signal, ms)), ms, advice);
    } catch (error) {
      if (error instanceof DockerUnavailableError || limits.signal?.aborted) throw error;
      const e = error as NodeJS.ErrnoException;
      throw new DockerUnavailableError(describeDockerHost(this.env), e.code ?? e.message, { cause: error });
    }
  }

  async inspect(reference: string, limits: WaitLimits, hint = DEFAULT_HINT): Promise<EngineImageInfo> {
    return this.call(limits, `looking up the image "${reference}"`, reference, hint, (request) =>
      this.api.inspect(reference, request),
    );
  }

  async tag(imageId: string, repository: string, tag: string, limits: WaitLimits): Promise<void> {
    await this.call(limits, `tagging ${repository}:${tag}`, imageId, DEFAULT_HINT, (request) =>
      this.api.tag(imageId, repository, tag, request),
    );
  }

  async untag(reference: string, limits: WaitLimits): Promise<void> {
    await this.call(limits, `removing the tag ${reference}`, reference, DEFAULT_HINT, (request) =>
      this.api.untag(reference, request),
    );
  }

  async push(repository: string, tag: string, authconfig: EngineAuthConfig, limits: WaitLimits): Promise<Readable> {
    const ms = timeoutMsOf(limits);
    // No cancellation signal: a push the engine has begun is watched to its end (the deadline's
    // signal only ends a request the engine has not answered). An HTTP error (the engine's 404
    // for a missing tag, 500…) is classified by the tag pusher.
    return engineCall(this.env, { timeoutMs: ms }, `the push of ${repository}:${tag}`, (signal) =>
      this.api.push(repository, tag, authconfig, requestLimits(signal, ms)),
    );
  }

  async export(reference: string, limits: WaitLimits): Promise<NodeJS.ReadableStream> {
    return this.call(limits, `exporting the image "${reference}"`, reference, DEFAULT_HINT, (request) =>
      this.api.export(reference, request),
    );
  }

  async localStore(limits: WaitLimits, driver?: string): Promise<EngineStoreLocation | undefined> {
    // DOCKPUSH_ENGINE_STORE=0: read local images through the engine's export only.
    if ((this.env ?? process.env).DOCKPUSH_ENGINE_STORE === '0' || !this.onThisHost) return undefined;
    if (driver !== undefined) {
      // A driver whose layers dockpush cannot find (the containerd image store's snapshotters,
      // btrfs, zfs): the engine need not be asked where it keeps them.
      // Loaded here: only the registry engine reads the store.
      const { EngineStore } = require('../image-source/engine-store') as typeof import('../image-source/engine-store');
      if (!EngineStore.readsDriver(driver)) return undefined;
      if (existsSync(path.join(DEFAULT_ROOT, 'image', driver, 'repositories.json'))) {
        return { root: DEFAULT_ROOT, driver };
      }
    }
    try {
      const info = await engineCall(this.env, limits, 'the engine info', (signal) =>
        this.api.info(requestLimits(signal, timeoutMsOf(limits))),
      );
      return typeof info.DockerRootDir === 'string' && typeof info.Driver === 'string'
        ? { root: info.DockerRootDir, driver: info.Driver }
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** One engine call under the deadline, with the engine's 404 for `reference` as `ImageNotFoundError`. */
  private async call<T>(
    limits: WaitLimits,
    what: string,
    reference: string,
    hint: string,
    call: (request: EngineRequestLimits) => Promise<T>,
  ): Promise<T> {
    const ms = timeoutMsOf(limits);
    try {
      return await engineCall(this.env, limits, what, (signal) => call(requestLimits(signal, ms)), ms);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        throw new ImageNotFoundError(reference, hint, { cause: error });
      }
      throw error;
    }
  }
}

/**
 * A request's limits: the deadline's signal, and a socket that closes a little after the
 * deadline, so a hung engine leaves no open socket behind.
 */
function requestLimits(signal: AbortSignal, ms: number): EngineRequestLimits {
  return { signal, socketTimeoutMs: ms + SOCKET_MARGIN_MS };
}
