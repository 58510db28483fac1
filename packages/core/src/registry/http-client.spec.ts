import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HttpNetworkError, NodeHttpClient } from './http-client';

const listen = async <T extends net.Server>(server: T): Promise<T> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
const portOf = (server: net.Server) => (server.address() as AddressInfo).port;
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('NodeHttpClient', () => {
  let dir: string;
  let tls: { key: Buffer; cert: Buffer };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-http-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${dir}/k.pem`,
        '-out',
        `${dir}/c.pem`,
        '-days',
        '1',
        '-subj',
        '/CN=reg.example.com',
        '-addext',
        'subjectAltName=DNS:reg.example.com',
      ],
      { stdio: 'ignore' },
    );
    tls = { key: readFileSync(`${dir}/k.pem`), cert: readFileSync(`${dir}/c.pem`) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches an HTTPS registry through HTTPS_PROXY with a CONNECT tunnel, trusting the CA given for the host', async () => {
    const registry = await listen(
      https.createServer(tls, (req, res) => {
        res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0' });
        res.end(`hello ${req.headers.host}`);
      }),
    );
    const tunnels: string[] = [];
    const proxy = await listen(http.createServer());
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      tunnels.push(req.url ?? '');
      const upstream = net.connect(portOf(registry), '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
    });
    const client = new NodeHttpClient({
      env: { HTTPS_PROXY: `http://127.0.0.1:${portOf(proxy)}` },
      tlsFor: () => ({ ca: [tls.cert] }),
    });
    try {
      const res = await client.send({ method: 'GET', url: new URL('https://reg.example.com/v2/'), timeoutMs: 5000 });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello reg.example.com');
      expect(tunnels).toEqual(['reg.example.com:443']);
    } finally {
      client.close();
      await close(proxy);
      await close(registry);
    }
  });

  it('sends plain HTTP through HTTP_PROXY in absolute form', async () => {
    const seen: string[] = [];
    const proxy = await listen(
      http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.host}`);
        res.end('ok');
      }),
    );
    const client = new NodeHttpClient({ env: { HTTP_PROXY: `127.0.0.1:${portOf(proxy)}` } });
    try {
      await client.send({ method: 'GET', url: new URL('http://reg.example.com:5000/v2/'), timeoutMs: 5000 });
      expect(seen).toEqual(['GET http://reg.example.com:5000/v2/ reg.example.com:5000']);
    } finally {
      client.close();
      await close(proxy);
    }
  });

  it('sends a body given in parts as one body, its Content-Length their sum', async () => {
    let received: { length?: string; body: Buffer } | undefined;
    const server = await listen(
      http.createServer((req, res) => {
        const parts: Buffer[] = [];
        req.on('data', (part: Buffer) => parts.push(part));
        req.on('end', () => {
          received = { length: req.headers['content-length'], body: Buffer.concat(parts) };
          res.end();
        });
      }),
    );
    const client = new NodeHttpClient({ env: {} });
    const parts = [Buffer.from('first '), Buffer.alloc(0), Buffer.alloc(100_000, 'x'), Buffer.from(' last')];
    try {
      const url = new URL(`http://127.0.0.1:${portOf(server)}/v2/app/blobs/uploads/u`);
      await client.send({ method: 'PATCH', url, body: parts, timeoutMs: 5000 });
      expect(received?.length).toBe('100011');
      expect(received?.body.equals(Buffer.concat(parts))).toBe(true);
    } finally {
      client.close();
      await close(server);
    }
  });

  it('fails a request that gets no answer within its deadline', async () => {
    const held: net.Socket[] = [];
    const silent = await listen(net.createServer((socket) => void held.push(socket)));
    const client = new NodeHttpClient({ env: {} });
    try {
      const error = await client
        .send({ method: 'GET', url: new URL(`http://127.0.0.1:${portOf(silent)}/v2/`), timeoutMs: 200 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpNetworkError);
      expect(error).toMatchObject({ kind: 'timeout' });
    } finally {
      client.close();
      for (const socket of held) socket.destroy();
      await close(silent);
    }
  });

  it('refuses a certificate nobody vouches for', async () => {
    const registry = await listen(https.createServer(tls, (_req, res) => res.end()));
    const client = new NodeHttpClient({ env: {} });
    try {
      const error = await client
        .send({ method: 'GET', url: new URL(`https://127.0.0.1:${portOf(registry)}/v2/`), timeoutMs: 5000 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'tls' });
    } finally {
      client.close();
      await close(registry);
    }
  });
});
