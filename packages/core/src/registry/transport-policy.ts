import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** TLS material for one registry host, as `/etc/docker/certs.d/<host>/` holds it. */
export interface HostTls {
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
}

/** `registry.example.com:5000` → `registry.example.com`; `[::1]:5000` → `::1`. */
export function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1] as string;
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** localhost, 127.0.0.0/8 and ::1: the engine treats these as insecure registries by default. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  return name === '::1';
}

/**
 * Whether plain HTTP (and unverified TLS) may be used with `host`: loopback, or a registry the user
 * listed as insecure (by `host[:port]` or by an IPv4 CIDR, as the engine's insecure-registries).
 */
export function isInsecureHost(host: string, insecureRegistries: readonly string[] = []): boolean {
  if (isLoopbackHost(host)) return true;
  const name = hostnameOf(host).toLowerCase();
  return insecureRegistries.some((entry) => {
    const e = entry
      .toLowerCase()
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, '');
    if (e === host.toLowerCase() || e === name) return true;
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e);
    return cidr !== null && net.isIPv4(name) && inCidr(name, cidr[1] as string, Number(cidr[2]));
  });
}

/**
 * The registries the user marked insecure, as `docker push` honours them: the Docker engine's
 * `insecure-registries` in its `daemon.json` (`/etc/docker/`, or a rootless engine's
 * `$XDG_CONFIG_HOME/docker/`), and `DOCKPUSH_INSECURE_REGISTRIES` (comma-separated, for a machine
 * with no engine). A file that is missing or not JSON marks none.
 */
export function insecureRegistriesOf(
  env: NodeJS.ProcessEnv,
  daemonConfigs = [
    '/etc/docker/daemon.json',
    path.join(env.XDG_CONFIG_HOME || path.join(env.HOME ?? '/nonexistent', '.config'), 'docker', 'daemon.json'),
  ],
): string[] {
  const listed = (env.DOCKPUSH_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const file of daemonConfigs) {
    try {
      const entries = (JSON.parse(readFileSync(file, 'utf8')) as { 'insecure-registries'?: unknown })[
        'insecure-registries'
      ];
      if (Array.isArray(entries)) listed.push(...entries.filter((e): e is string => typeof e === 'string'));
    } catch {
      // No such file, or not the engine's JSON: nothing marked there.
    }
  }
  return listed;
}

/** Where a user marks a registry insecure, for messages that refuse plain HTTP. */
export const INSECURE_REGISTRIES_ADVICE =
  "list it in the Docker engine's insecure-registries (/etc/docker/daemon.json) or in DOCKPUSH_INSECURE_REGISTRIES";

function inCidr(ip: string, base: string, bits: number): boolean {
  if (bits < 0 || bits > 32) return false;
  const value = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const block = 2 ** (32 - bits);
  return Math.floor(value(ip) / block) === Math.floor(value(base) / block);
}

/**
 * CAs (`*.crt`) and a client certificate (`*.cert` + `*.key`) for `host` from the engine's
 * certificate directory, as `docker push` reads them. An absent directory is no TLS setting.
 */
export function loadHostTls(host: string, certsDir = '/etc/docker/certs.d'): HostTls {
  const dir = path.join(certsDir, host);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return {};
  }
  const tls: HostTls = {};
  const cas = files.filter((f) => f.endsWith('.crt')).map((f) => readFileSync(path.join(dir, f)));
  if (cas.length) tls.ca = cas;
  const cert = files.find((f) => f.endsWith('.cert'));
  if (cert) {
    const key = `${cert.slice(0, -'.cert'.length)}.key`;
    if (!files.includes(key)) throw new Error(`${path.join(dir, cert)} has no ${key} beside it`);
    tls.cert = readFileSync(path.join(dir, cert));
    tls.key = readFileSync(path.join(dir, key));
  }
  return tls;
}

/**
 * The proxy for a URL from `HTTPS_PROXY`/`HTTP_PROXY` (either case), unless `NO_PROXY` names the
 * host (exact, a domain suffix, `*`) or it is loopback, which is never proxied (Go's rule).
 */
export function proxyFor(url: URL, env: Record<string, string | undefined>): URL | undefined {
  const pick = (name: string) => env[name] ?? env[name.toLowerCase()];
  const raw = url.protocol === 'https:' ? pick('HTTPS_PROXY') : pick('HTTP_PROXY');
  if (!raw) return undefined;
  if (isLoopbackHost(url.host)) return undefined;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const noProxy = (pick('NO_PROXY') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const [entryHost, entryPort] = entry.startsWith('[')
      ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]]
      : entry.split(':');
    if (entryPort && entryPort !== port) continue;
    const bare = (entryHost ?? '').replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Error(
      `${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'} is not a URL: set it to http://HOST:PORT`,
    );
  }
}
