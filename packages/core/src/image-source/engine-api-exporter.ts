import http from 'node:http';
import type { ImageExporter } from './engine-image-source';

/**
 * An `ImageExporter` speaking the engine's HTTP API directly on its socket (`unix://` or plain
 * `tcp://` `DOCKER_HOST`, default `/var/run/docker.sock`), so that a push from the engine does not
 * load dockerode and its SSH and gRPC dependencies. Returns undefined for a `DOCKER_HOST` it does not
 * speak (ssh://, TLS): the caller then uses `dockerodeExporter`.
 */
export function engineApiExporter(
  env: Record<string, string | undefined> = process.env,
): (ImageExporter & { info(): Promise<{ DockerRootDir?: unknown; Driver?: unknown }> }) | undefined {
  const dockerHost = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let target: http.RequestOptions;
  if (dockerHost.startsWith('unix://')) {
    target = { socketPath: dockerHost.slice('unix://'.length) };
  } else if (dockerHost.startsWith('tcp://') && !env.DOCKER_TLS_VERIFY) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    target = { host: url.hostname, port: url.port || 2375 };
  } else {
    return undefined;
  }
  const get = (path: string): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const req = http.request({ ...target, method: 'GET', path, headers: { Host: 'docker' } }, resolve);
      req.on('error', reject);
      req.end();
    });
  const failure = async (res: http.IncomingMessage, what: string): Promise<Error> => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    let message = Buffer.concat(chunks).toString('utf8').trim();
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    return Object.assign(new Error(`${what}: ${message || res.statusCode}`), { statusCode: res.statusCode });
  };
  const getJson = async <T>(target: string, what: string): Promise<T> => {
    const res = await get(target);
    if (res.statusCode !== 200) throw await failure(res, what);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  };
  return {
    inspect: (reference) => getJson(`/images/${encodeURIComponent(reference)}/json`, `inspecting ${reference}`),
    info: () => getJson('/info', 'the engine info'),
    export: async (reference) => {
      const res = await get(`/images/${encodeURIComponent(reference)}/get`);
      if (res.statusCode !== 200) throw await failure(res, `exporting ${reference}`);
      return res;
    },
  };
}
