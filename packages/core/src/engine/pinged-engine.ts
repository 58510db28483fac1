import type { WaitLimits } from '../deadline';
import type { EnginePort } from './engine-port';

/**
 * An engine whose ping goes out with the first requests rather than before them: a push's first
 * request (the image lookup) then costs one round trip, not two. What the ping stands for is kept:
 * no answer is given before the ping has been answered, and an engine that does not answer it
 * fails every request with the ping's own error (`DockerUnavailableError`, within the ping's
 * shorter deadline), the requests still waiting being ended then through their signal: only for
 * an engine whose every request takes one (`DockerEngine.endsEveryRequestOnAbort`).
 */
export function pingedAlongside(engine: EnginePort, limits: WaitLimits): EnginePort {
  const pingFailed = new AbortController();
  const pinged = engine.ping(limits).catch((error: unknown) => {
    pingFailed.abort(error);
    throw error;
  });
  pinged.catch(() => undefined); // seen by every request
  const ended = (own: WaitLimits): WaitLimits => ({
    ...own,
    signal: own.signal ? AbortSignal.any([own.signal, pingFailed.signal]) : pingFailed.signal,
  });
  const afterPing = async <T>(request: Promise<T>): Promise<T> => {
    try {
      const value = await request;
      await pinged;
      return value;
    } catch (error) {
      await pinged;
      throw error;
    }
  };
  return {
    ping: () => pinged,
    inspect: (reference, own, hint) => afterPing(engine.inspect(reference, ended(own), hint)),
    tag: (imageId, repository, tag, own) => afterPing(engine.tag(imageId, repository, tag, ended(own))),
    untag: (reference, own) => afterPing(engine.untag(reference, ended(own))),
    push: (repository, tag, authconfig, own) => afterPing(engine.push(repository, tag, authconfig, ended(own))),
    export: (reference, own) => afterPing(engine.export(reference, ended(own))),
    localStore: (own, driver) => afterPing(engine.localStore(ended(own), driver)),
  };
}
