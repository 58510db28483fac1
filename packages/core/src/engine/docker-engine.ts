import type Dockerode from 'dockerode';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { EngineAuthConfig } from '../auth/registry-auth';
import { timeoutMsOf, type WaitLimits } from '../deadline';
import { DockerUnavailableError, ImageNotFoundError } from '../errors';
import { engineApiExporter } from '../image-source/engine-api-exporter';
import type { EngineStoreLocation } from '../image-source/engine-store';
import { createDockerClient, describeDockerHost, engineCall } from './docker-client';
import type { EngineImageInfo, EnginePort } from './engine-port';

/** Where a rootful engine keeps its images unless configured otherwise (`data-root`). */
const DEFAULT_ROOT = '/var/lib/docker';

/** A running engine answers a ping at once; this long is already a sick one. */
const PING_TIMEOUT_MS = 10_000;

const DEFAULT_HINT = 'Build it or pull it first (docker images lists what is there).';

export interface DockerEngineOptions {
  /** A dockerode client; default one for `DOCKER_HOST`, else the local socket, made on first use. */
  docker?: Dockerode;
  /** Where `DOCKER_HOST` is read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The socket timeout of the client made here. */
  limits?: WaitLimits;
}

/**
 * The Docker engine behind the engine port, through dockerode, and the one place where the
 * engine's failures become dockpush's errors. dockerode (with its SSH and gRPC dependencies)
 * is loaded on the first call that needs it, so a dry run or a push by the registry engine
 * from an archive never loads it.
 */
export class DockerEngine implements EnginePort {
  private client: Dockerode | undefined;

  constructor(private readonly options: DockerEngineOptions = {}) {
    this.client = options.docker;
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
    try {
      await engineCall(this.env, limits, 'a ping', (abortSignal) => pingWith(this.docker, abortSignal), ms);
    } catch (error) {
      if (error instanceof DockerUnavailableError || limits.signal?.aborted) throw error;
      const e = error as NodeJS.ErrnoException;
      throw new DockerUnavailableError(describeDockerHost(this.env), e.code ?? e.message, { cause: error });
    }
  }

  async inspect(reference: string, limits: WaitLimits, hint = DEFAULT_HINT): Promise<EngineImageInfo> {
    // dockerode's inspect takes no AbortSignal; the client's own socket timeout ends it.
    return this.call(limits, `looking up the image "${reference}"`, reference, hint, () =>
      this.docker.getImage(reference).inspect(),
    );
  }

  async tag(imageId: string, repository: string, tag: string, limits: WaitLimits): Promise<void> {
    await this.call(limits, `tagging ${repository}:${tag}`, imageId, DEFAULT_HINT, (abortSignal) =>
      this.docker.getImage(imageId).tag({ repo: repository, tag, abortSignal }),
    );
  }

  async untag(reference: string, limits: WaitLimits): Promise<void> {
    await this.call(limits, `removing the tag ${reference}`, reference, DEFAULT_HINT, () =>
      this.docker.getImage(reference).remove({ noprune: true }),
    );
  }

  async push(repository: string, tag: string, authconfig: EngineAuthConfig, limits: WaitLimits): Promise<Readable> {
    // No cancellation signal: a push the engine has begun is watched to its end. An HTTP
    // error (the engine's 404 for a missing tag, 500…) is classified by the tag pusher.
    return (await engineCall(this.env, { timeoutMs: timeoutMsOf(limits) }, `the push of ${repository}:${tag}`, () =>
      this.docker.getImage(repository).push({ tag, authconfig }),
    )) as unknown as Readable;
  }

  async export(reference: string, limits: WaitLimits): Promise<NodeJS.ReadableStream> {
    // The engine's HTTP API spoken directly where it can be (a local socket or plain TCP):
    // the export then loads no dockerode.
    const direct = this.options.docker ? undefined : engineApiExporter(this.env ?? process.env);
    return this.call(limits, `exporting the image "${reference}"`, reference, DEFAULT_HINT, () =>
      direct ? direct.export(reference) : this.docker.getImage(reference).get(),
    );
  }

  async localStore(limits: WaitLimits, driver?: string): Promise<EngineStoreLocation | undefined> {
    const env = this.env ?? process.env;
    const host = env.DOCKER_HOST;
    // DOCKPUSH_ENGINE_STORE=0: read local images through the engine's export only.
    if (env.DOCKPUSH_ENGINE_STORE === '0' || this.options.docker || (host && !host.startsWith('unix://'))) {
      return undefined;
    }
    if (
      driver &&
      /^[a-z0-9]+$/.test(driver) &&
      existsSync(path.join(DEFAULT_ROOT, 'image', driver, 'repositories.json'))
    ) {
      return { root: DEFAULT_ROOT, driver };
    }
    const direct = engineApiExporter(this.env ?? process.env);
    if (!direct) return undefined;
    try {
      const info = await engineCall(this.env, limits, 'the engine info', () => direct.info());
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
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await engineCall(this.env, limits, what, call);
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
