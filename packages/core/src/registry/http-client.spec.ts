import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { HttpNetworkError, NodeHttpClient } from './http-client';
import { selfSignedCertificate } from '@dockpush/core/testing';

const listen = async <T extends net.Server>(server: T): Promise<T> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
const portOf = (server: net.Server) => (server.address() as AddressInfo).port;
const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('NodeHttpClient', () => {
  let tls: { key: Buffer; cert: Buffer };
  beforeAll(() => {
    tls = selfSignedCertificate('reg.example.com');
  });

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

  it('closes a request answered before its body was all sent: no more of the body is read', async () => {
    let serverSocketClosed: Promise<void> | undefined;
    let received = 0;
    const server = await listen(
      http.createServer((req, res) => {
        serverSocketClosed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        req.on('data', (chunk: Buffer) => (received += chunk.length));
        req.once('data', () => {
          // Answers at once (a 401 midway), then reads on a little later.
          req.pause();
          res.writeHead(401, { 'Content-Length': '0' });
          res.end();
          setTimeout(() => req.resume(), 100);
        });
      }),
    );
    const client = new NodeHttpClient({ env: {} });
    const parts = Array.from({ length: 64 }, () => Buffer.alloc(256 * 1024, 1));
    try {
      const url = new URL(`http://127.0.0.1:${portOf(server)}/v2/app/blobs/uploads/u`);
      const response = await client.send({ method: 'PATCH', url, body: parts, timeoutMs: 5000 });
      expect(response.status).toBe(401);
      // The client gives the connection up rather than keep writing the 16 MiB into it.
      const closed = await Promise.race([
        serverSocketClosed?.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 2000)),
      ]);
      expect(closed).toBe(true);
      expect(received).toBeLessThan(16 * 1024 * 1024);
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

  it.each([['http'], ['https']])(
    'ends a %s request to a peer that accepts and never answers at its deadline, not after two',
    async (scheme) => {
      const held: net.Socket[] = [];
      const silent = await listen(
        net.createServer((socket) => {
          held.push(socket);
          socket.on('data', () => undefined);
        }),
      );
      const client = new NodeHttpClient({ env: {} });
      try {
        const started = Date.now();
        const error = await client
          .send({ method: 'GET', url: new URL(`${scheme}://127.0.0.1:${portOf(silent)}/v2/`), timeoutMs: 400 })
          .catch((e: unknown) => e);
        const elapsed = Date.now() - started;
        expect(error).toMatchObject({ kind: 'timeout' });
        expect(elapsed).toBeGreaterThanOrEqual(390);
        expect(elapsed).toBeLessThan(400 + 250);
      } finally {
        client.close();
        for (const socket of held) socket.destroy();
        await close(silent);
      }
    },
  );

  it.each([['http'], ['https']])(
    'ends a %s upload to a peer that reads the body and never answers at its deadline after the last byte',
    async (scheme) => {
      let bodyRead: number | undefined;
      let received = 0;
      const size = 8 * 1024 * 1024;
      const onRequest = (req: http.IncomingMessage) => {
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received === size) bodyRead = Date.now();
        });
      };
      const server = await listen(
        scheme === 'https' ? https.createServer(tls, onRequest) : http.createServer(onRequest),
      );
      const client = new NodeHttpClient({ env: {}, tlsFor: () => ({ insecure: true }) });
      try {
        const error = await client
          .send({
            method: 'PUT',
            url: new URL(`${scheme}://127.0.0.1:${portOf(server)}/upload`),
            body: Buffer.alloc(size, 1),
            timeoutMs: 400,
          })
          .catch((e: unknown) => e);
        const ended = Date.now();
        expect(error).toMatchObject({ kind: 'timeout' });
        expect(bodyRead).toBeDefined();
        expect(ended - (bodyRead as number)).toBeLessThan(400 + 250);
      } finally {
        client.close();
        server.closeAllConnections();
        await close(server);
      }
    },
  );

  it('lets a request run longer than its deadline in all while something moves within each deadline', async () => {
    const size = 32 * 1024 * 1024;
    const server = await listen(
      http.createServer((req, res) => {
        // A pause before reading the body (the upload stalls, then goes on), and one before answering.
        let received = 0;
        req.pause();
        setTimeout(() => req.resume(), 250);
        req.on('data', (chunk: Buffer) => (received += chunk.length));
        req.on('end', () => setTimeout(() => res.writeHead(201).end(String(received)), 250));
      }),
    );
    const client = new NodeHttpClient({ env: {} });
    try {
      const started = Date.now();
      const res = await client.send({
        method: 'PUT',
        url: new URL(`http://127.0.0.1:${portOf(server)}/upload`),
        body: Buffer.alloc(size, 1),
        timeoutMs: 400,
      });
      expect(res.status).toBe(201);
      expect(res.body.toString()).toBe(String(size));
      expect(Date.now() - started).toBeGreaterThan(500);
    } finally {
      client.close();
      await close(server);
    }
  });

  it('ends an HTTPS request to a peer that completes the handshake and never answers at its deadline', async () => {
    const server = await listen(https.createServer(tls, () => undefined));
    const client = new NodeHttpClient({ env: {}, tlsFor: () => ({ insecure: true }) });
    try {
      const started = Date.now();
      const error = await client
        .send({ method: 'GET', url: new URL(`https://127.0.0.1:${portOf(server)}/v2/`), timeoutMs: 400 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'timeout', message: 'no answer within 400 ms' });
      expect(Date.now() - started).toBeLessThan(400 + 250);
    } finally {
      client.close();
      server.closeAllConnections();
      await close(server);
    }
  });

  it('ends a request through a proxy that never answers the CONNECT at its deadline, and close() ends the tunnel', async () => {
    const closed: Array<Promise<void>> = [];
    const held: net.Socket[] = [];
    const proxy = await listen(
      net.createServer((socket) => {
        held.push(socket);
        socket.on('data', () => undefined);
        closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
      }),
    );
    const client = new NodeHttpClient({ env: { HTTPS_PROXY: `http://127.0.0.1:${portOf(proxy)}` } });
    try {
      const started = Date.now();
      const error = await client
        .send({ method: 'GET', url: new URL('https://reg.example.com/v2/'), timeoutMs: 400 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'timeout' });
      expect(Date.now() - started).toBeLessThan(400 + 250);
      expect(closed).toHaveLength(1);
      client.close();
      const ended = await Promise.race([
        Promise.all(closed).then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 1000)),
      ]);
      expect(ended).toBe('closed');
    } finally {
      client.close();
      for (const socket of held) socket.destroy();
      await close(proxy);
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
