import type net from 'node:net';

/** How long `close()` waits for a server whose connections were all destroyed. */
const CLOSE_DEADLINE_MS = 10_000;

/** A server of the tests' own (a fake, a proxy, a stand-in), listening on the loopback. */
export interface LoopbackServer {
  /** `address:port` it listens on. */
  host: string;
  port: number;
  /** Destroys every connection it holds, then closes it: nothing of it is left open. */
  close(): Promise<void>;
}

/**
 * Listens on `address` (a loopback address; port 0 by default, any free one) and keeps
 * track of its connections. A plain `server.close()` waits for the open ones, and a peer
 * that keeps one (the engine, a hung client) would keep the test process alive.
 */
export async function listenOnLoopback(
  server: net.Server,
  options: { address?: string; port?: number } = {},
): Promise<LoopbackServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.address ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as net.AddressInfo;
  const host = `${address}:${port}`;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`the test server on ${host} did not close within ${CLOSE_DEADLINE_MS / 1000} s`)),
          CLOSE_DEADLINE_MS,
        );
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}
