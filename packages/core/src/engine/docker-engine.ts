import type Dockerode from 'dockerode';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { EngineAuthConfig } from '../auth/registry-auth';
import { timeoutMsOf, type WaitLimits } from '../deadline';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import type { EngineStoreLocation } from '../image-source/engine-store';
import { createDockerClient, describeDockerHost, engineCall, SOCKET_MARGIN_MS } from './docker-client';
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
 * become dockpush's errors. Its HTTP API is spoken directly (`engineApi`) on a local socket or
 * plain TCP; dockerode only speaks where that cannot (ssh://, TLS) or when the caller gives a
 * dockerode client. dockerode (with its SSH and gRPC dependencies, some 150 ms of start-up) is
 * loaded on the first call that needs it, so a push from a local engine never loads it.
 */
export class DockerEngine implements EnginePort {
  private client: Dockerode | undefined;
  /** The engine's API spoken directly; undefined where dockerode speaks instead. */
  private readonly api: EngineApi | undefined;

  constructor(private readonly options: DockerEngineOptions = {}) {
    this.client = options.docker;
    this.api = options.docker ? undefined : engineApi(options.env ?? process.env);
  }

  private get docker(): Dockerode {
    this.client ??= createDockerClient(this.options.limits, this.options.env);
    return this.client;
  }

  private get env(): NodeJS.ProcessEnv | undefined {
    return this.options.env;
  }

  async ping(limits: WaitLimits): Promise<void> {
    const ms = Math.min(PING_TIMEOUT_MS, timeoutMsOf(limits));
    const api = this.api;
    try {
      await engineCall(
        this.env,
        limits,
        'a ping',
        (signal) => (api ? api.ping(requestLimits(signal, ms)) : pingWith(this.docker, signal)),
        ms,
      );
    } catch (error) {
      if (error instanceof DockerUnavailableError || limits.signal?.aborted) throw error;
      const e = error as NodeJS.ErrnoException;
      throw new DockerUnavailableError(describeDockerHost(this.env), e.code ?? e.message, { cause: error });
    }
  }

  async inspect(reference: string, limits: WaitLimits, hint = DEFAULT_HINT): Promise<EngineImageInfo> {
    const api = this.api;
    // dockerode's inspect takes no AbortSignal; the client's own socket timeout ends it.
    return this.call(limits, `looking up the image "${reference}"`, reference, hint, (signal, ms) =>
      api ? api.inspect(reference, requestLimits(signal, ms)) : this.docker.getImage(reference).inspect(),
    );
  }

  async tag(imageId: string, repository: string, tag: string, limits: WaitLimits): Promise<void> {
    const api = this.api;
    await this.call(limits, `tagging ${repository}:${tag}`, imageId, DEFAULT_HINT, (signal, ms) =>
      api
        ? api.tag(imageId, repository, tag, requestLimits(signal, ms))
        : this.docker.getImage(imageId).tag({ repo: repository, tag, abortSignal: signal }),
    );
  }

  async untag(reference: string, limits: WaitLimits): Promise<void> {
    const api = this.api;
    await this.call(limits, `removing the tag ${reference}`, reference, DEFAULT_HINT, (signal, ms) =>
      api ? api.untag(reference, requestLimits(signal, ms)) : this.docker.getImage(reference).remove({ noprune: true }),
    );
  }

  async push(repository: string, tag: string, authconfig: EngineAuthConfig, limits: WaitLimits): Promise<Readable> {
    const api = this.api;
    const ms = timeoutMsOf(limits);
    // No cancellation signal: a push the engine has begun is watched to its end (the deadline's
    // signal only ends a request the engine has not answered). An HTTP error (the engine's 404
    // for a missing tag, 500…) is classified by the tag pusher.
    return engineCall(this.env, { timeoutMs: ms }, `the push of ${repository}:${tag}`, async (signal) =>
      api
        ? api.push(repository, tag, authconfig, requestLimits(signal, ms))
        : ((await this.docker.getImage(repository).push({ tag, authconfig })) as unknown as Readable),
    );
  }

  async export(reference: string, limits: WaitLimits): Promise<NodeJS.ReadableStream> {
    const api = this.api;
    return this.call<NodeJS.ReadableStream>(
      limits,
      `exporting the image "${reference}"`,
      reference,
      DEFAULT_HINT,
      (signal, ms) => (api ? api.export(reference, requestLimits(signal, ms)) : this.docker.getImage(reference).get()),
    );
  }

  async localStore(limits: WaitLimits, driver?: string): Promise<EngineStoreLocation | undefined> {
    const env = this.env ?? process.env;
    const host = env.DOCKER_HOST;
    const api = this.api;
    // DOCKPUSH_ENGINE_STORE=0: read local images through the engine's export only.
    if (env.DOCKPUSH_ENGINE_STORE === '0' || !api || (host && !host.startsWith('unix://'))) {
      return undefined;
    }
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
        api.info(requestLimits(signal, timeoutMsOf(limits))),
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
    call: (signal: AbortSignal, ms: number) => Promise<T>,
  ): Promise<T> {
    const ms = timeoutMsOf(limits);
    try {
      return await engineCall(this.env, limits, what, (signal) => call(signal, ms), ms);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        throw new ImageNotFoundError(reference, hint, { cause: error });
      }
      throw error;
    }
  }
}

/** dockerode's ping takes an AbortSignal, though its typings do not say so. */
function pingWith(docker: Dockerode, abortSignal: AbortSignal): Promise<unknown> {
  return (docker.ping as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, {
    abortSignal,
  });
}

/**
 * A direct request's limits: the deadline's signal, and a socket that closes a little after the
 * deadline, so a hung engine leaves no open socket behind.
 */
function requestLimits(signal: AbortSignal, ms: number): EngineRequestLimits {
  return { signal, socketTimeoutMs: ms + SOCKET_MARGIN_MS };
}
