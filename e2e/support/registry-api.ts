import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { RegistryCredentials } from './env';

/**
 * A small client of the registry v2 API, to check what a push left behind.
 * `host` is `host:port` (plain HTTP) or a base URL (`https://…`; trust a test CA through
 * NODE_EXTRA_CA_CERTS). `auth` is Basic; `E2eEnv['auth']` can be passed as it is.
 */

const manifestTypes = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Tags of repository `name`; [] when the registry does not know it. */
export async function listTags(host: string, name: string, auth?: RegistryCredentials): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${name}/tags/list`;
  while (path) {
    const res = await request('GET', host, path, auth);
    if (res.status === 404) return [];
    expectOk(res, 'GET', host, path);
    tags.push(...((JSON.parse(res.body) as { tags?: string[] | null }).tags ?? []));
    path = nextPage(res);
  }
  return tags;
}

/** `Docker-Content-Digest` of `name:tag` (image manifest or index); undefined when absent. */
export async function manifestDigest(
  host: string,
  name: string,
  tag: string,
  auth?: RegistryCredentials,
): Promise<string | undefined> {
  const path = `/v2/${name}/manifests/${tag}`;
  const res = await request('HEAD', host, path, auth, { Accept: manifestTypes });
  if (res.status === 404) return undefined;
  expectOk(res, 'HEAD', host, path);
  const digest = res.headers['docker-content-digest'];
  if (typeof digest !== 'string') throw new Error(`HEAD ${host}${path}: no Docker-Content-Digest header`);
  return digest;
}

/** The config digest (the image ID) of the image manifest `name:tag`. */
export async function configDigest(
  host: string,
  name: string,
  tag: string,
  auth?: RegistryCredentials,
): Promise<string> {
  const path = `/v2/${name}/manifests/${tag}`;
  const res = await request('GET', host, path, auth, { Accept: manifestTypes });
  expectOk(res, 'GET', host, path);
  const digest = (JSON.parse(res.body) as { config?: { digest?: string } }).config?.digest;
  if (!digest) throw new Error(`GET ${host}${path}: not an image manifest (no config)`);
  return digest;
}

/** Every repository the registry holds. */
export async function catalog(host: string, auth?: RegistryCredentials): Promise<string[]> {
  const names: string[] = [];
  let path: string | undefined = '/v2/_catalog';
  while (path) {
    const res = await request('GET', host, path, auth);
    expectOk(res, 'GET', host, path);
    names.push(...((JSON.parse(res.body) as { repositories?: string[] | null }).repositories ?? []));
    path = nextPage(res);
  }
  return names;
}

function request(
  method: string,
  host: string,
  path: string,
  auth?: RegistryCredentials,
  headers: Record<string, string> = {},
): Promise<RegistryResponse> {
  const url = new URL(path, /^https?:\/\//.test(host) ? host : `http://${host}`);
  if (auth) {
    headers = {
      ...headers,
      Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
    };
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function expectOk(res: RegistryResponse, method: string, host: string, path: string): void {
  if (res.status >= 200 && res.status < 300) return;
  throw new Error(`${method} ${host}${path} answered ${res.status}: ${res.body.slice(0, 500)}`);
}

/** Path of the next page from `Link: </v2/…?last=x&n=100>; rel="next"`. */
function nextPage(res: RegistryResponse): string | undefined {
  const link = [res.headers.link ?? []].flat().join(', ');
  return /<([^>]+)>;\s*rel="?next"?/.exec(link)?.[1];
}
