import type { WaitLimits } from '../deadline';
import { DockerUnavailableError } from '../errors';
import type { EngineImageInfo, EnginePort } from './engine-port';
import { pingedAlongside } from './pinged-engine';

/** A promise with its settlers, and whether it has settled. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An engine whose ping and image lookup answer when the test says, recording the order of events. */
function engineWithHeldAnswers() {
  const events: string[] = [];
  const ping = deferred<void>();
  const inspect = deferred<EngineImageInfo>();
  let inspectSignal: AbortSignal | undefined;
  const engine = {
    ping: () => {
      events.push('ping sent');
      return ping.promise;
    },
    inspect: (reference: string, limits: WaitLimits) => {
      events.push(`inspect ${reference} sent`);
      inspectSignal = limits.signal;
      limits.signal?.addEventListener('abort', () => inspect.reject(limits.signal?.reason));
      return inspect.promise;
    },
    tag: async () => undefined,
  } as unknown as EnginePort;
  return { engine, events, ping, inspect, signal: () => inspectSignal };
}

const settled = async <T>(promise: Promise<T>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('pingedAlongside', () => {
  it('sends the first request with the ping, and answers it once the ping has been answered', async () => {
    const { engine, events, ping, inspect } = engineWithHeldAnswers();
    const pinged = pingedAlongside(engine, {});
    const lookup = pinged.inspect('app:1', {});
    expect(events).toEqual(['ping sent', 'inspect app:1 sent']);

    inspect.resolve({ Id: 'sha256:abc' });
    expect(await settled(lookup)).toBe('pending');
    ping.resolve();
    await expect(lookup).resolves.toEqual({ Id: 'sha256:abc' });
  });

  it('fails a request with the ping’s error, ending it, when the engine does not answer the ping', async () => {
    const { engine, ping, signal } = engineWithHeldAnswers();
    const pinged = pingedAlongside(engine, {});
    const lookup = pinged.inspect('app:1', {});
    const unavailable = new DockerUnavailableError('unix:///var/run/docker.sock', 'no answer to a ping within 10 s');
    ping.reject(unavailable);
    await expect(lookup).rejects.toBe(unavailable);
    expect(signal()?.aborted).toBe(true);
    await expect(pinged.tag('sha256:abc', 'r', 't', {})).rejects.toBe(unavailable);
  });

  it('gives a request’s own failure once the ping has been answered', async () => {
    const { engine, ping, inspect } = engineWithHeldAnswers();
    const pinged = pingedAlongside(engine, {});
    const lookup = pinged.inspect('app:1', {});
    inspect.reject(new Error('no such image'));
    expect(await settled(lookup)).toBe('pending');
    ping.resolve();
    await expect(lookup).rejects.toThrow('no such image');
  });

  it('keeps the caller’s cancellation on each request', async () => {
    const { engine, ping } = engineWithHeldAnswers();
    ping.resolve();
    const pinged = pingedAlongside(engine, {});
    const controller = new AbortController();
    const lookup = pinged.inspect('app:1', { signal: controller.signal });
    controller.abort(new Error('cancelled by SIGINT'));
    await expect(lookup).rejects.toThrow('cancelled by SIGINT');
  });
});
