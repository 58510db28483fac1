import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { e2eContainerName } from './env';
import { freeLoopbackPort } from './loopback-port';
import { listenOnLoopback } from './loopback-server';

/** What the token server saw of one token request. */
export interface TokenRequest {
  method: string;
  service?: string;
  scopes: string[];
  /** `basic`, `refresh_token` or `anonymous`. */
  credential: 'basic' | 'refresh_token' | 'anonymous';
  granted: boolean;
}

export interface TokenRegistry {
  /** `127.0.0.1:PORT` of the registry. */
  host: string;
  realm: string;
  service: string;
  username: string;
  password: string;
  identityToken: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/**
 * A registry:2 with `auth: token`, and a small loopback token server of the tests' own that issues
 * RS256 tokens signed with a key whose self-signed certificate is the registry's root bundle
 * (sent in the token's `x5c`, which is how registry:2 finds the key). Users with the password or
 * the identity token get the actions they ask for; anonymous requests get `pull` only.
 */
export async function startTokenRegistry(role: string): Promise<TokenRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dockpush-e2e-token-'));
  const keyFile = path.join(dir, 'token.key');
  const certFile = path.join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=dockpush-e2e-token',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw;
  const service = 'dockpush-e2e-registry';
  const issuer = 'dockpush-e2e-token-issuer';
  const username = 'token-user';
  const password = randomUUID();
  const identityToken = `refresh-${randomUUID()}`;
  const requests: TokenRequest[] = [];

  const sign = (scopes: string[], authenticated: boolean): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: authenticated ? username : '',
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: scopes.map((scope) => {
        const [type, name, actions = ''] = scope.split(':');
        return {
          type,
          name,
          actions: authenticated ? actions.split(',') : actions.split(',').filter((a) => a === 'pull'),
        };
      }),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://token');
      const form = new URLSearchParams(req.method === 'POST' ? Buffer.concat(chunks).toString() : '');
      const record: TokenRequest = { method: req.method ?? '', scopes: [], credential: 'anonymous', granted: false };
      let authenticated = false;
      let refused = false;
      if (req.method === 'POST') {
        record.credential = form.get('grant_type') === 'refresh_token' ? 'refresh_token' : 'anonymous';
        record.service = form.get('service') ?? undefined;
        record.scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        authenticated = form.get('refresh_token') === identityToken;
        refused = !authenticated;
      } else {
        record.service = url.searchParams.get('service') ?? undefined;
        record.scopes = url.searchParams.getAll('scope');
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        if (basic) {
          record.credential = 'basic';
          authenticated = Buffer.from(basic[1] as string, 'base64').toString() === `${username}:${password}`;
          refused = !authenticated;
        }
      }
      requests.push({ ...record, granted: !refused });
      if (refused) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"details":"incorrect username or password"}');
        return;
      }
      const token = sign(record.scopes, authenticated);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: 300 } : { token, expires_in: 300 }),
      );
    });
  });
  const tokenServer = await listenOnLoopback(server);
  const realm = `http://${tokenServer.host}/token`;

  const port = await freeLoopbackPort();
  const name = e2eContainerName(`token-${role}`);
  execFileSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
  execFileSync(
    'docker',
    [
      'run',
      '-d',
      '--network',
      'host',
      '--name',
      name,
      '-v',
      `${certFile}:/certs/token.crt:ro`,
      '-e',
      `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`,
      '-e',
      'REGISTRY_AUTH=token',
      '-e',
      `REGISTRY_AUTH_TOKEN_REALM=${realm}`,
      '-e',
      `REGISTRY_AUTH_TOKEN_SERVICE=${service}`,
      '-e',
      `REGISTRY_AUTH_TOKEN_ISSUER=${issuer}`,
      '-e',
      'REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=/certs/token.crt',
      'registry:2',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const host = `127.0.0.1:${port}`;
  const close = async () => {
    execFileSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
    await tokenServer.close();
  };
  for (let i = 0; ; i++) {
    const status = await fetch(`http://${host}/v2/`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) break;
    if (i > 100) {
      const logs = execFileSync('docker', ['logs', '--tail', '20', name], { encoding: 'utf8' });
      await close();
      throw new Error(`token registry ${name} did not come up on ${host}: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, realm, service, username, password, identityToken, requests, close };
}
