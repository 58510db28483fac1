import type Dockerode from 'dockerode';
import type { AuthProvider } from './auth/registry-auth';
import { DockerUnavailableError, PushCancelledError } from './errors';
import { pushImage } from './push-image';

/** Never settles, except by the signal it is given. */
function hangs(signal?: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
}

const hangingCredentials: AuthProvider = { resolve: (_host, options) => hangs(options?.signal) };
const anonymous: AuthProvider = { resolve: async () => ({ source: 'anonymous', authconfig: {} }) };

describe('pushImage: waits end on cancellation and on the deadline', () => {
  it('a cancellation during the credential lookup is a PushCancelledError, at once', async () => {
    const controller = new AbortController();
    const pending = pushImage(
      { repo: 'localhost:5000/app' },
      { authProviders: [hangingCredentials], signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('cancelled by SIGINT')), 50);
    await expect(pending).rejects.toBeInstanceOf(PushCancelledError);
  });

  it('a cancellation while the engine does not answer its ping is a PushCancelledError, at once', async () => {
    const docker = { ping: (opts?: { abortSignal?: AbortSignal }) => hangs(opts?.abortSignal) } as unknown as Dockerode;
    const controller = new AbortController();
    const started = Date.now();
    const pending = pushImage(
      { repo: 'localhost:5000/app' },
      { docker, authProviders: [anonymous], signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('cancelled by SIGTERM')), 50);
    await expect(pending).rejects.toBeInstanceOf(PushCancelledError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('an engine that does not answer an image lookup fails at the deadline, naming the request', async () => {
    const docker = {
      ping: async () => 'OK',
      getImage: () => ({ inspect: () => hangs() }),
    } as unknown as Dockerode;
    const pending = pushImage(
      { repo: 'localhost:5000/app', tags: ['1'], timeout: 0.2 },
      { docker, authProviders: [anonymous], env: {} },
    );
    await expect(pending).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(pending).rejects.toThrow(
      /Cannot reach the Docker engine at unix:\/\/\/var\/run\/docker\.sock \(no answer to looking up the image "localhost:5000\/app:1" within 200 ms/,
    );
  });
});
