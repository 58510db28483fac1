import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { engineApiExporter } from './engine-api-exporter';

describe('engineApiExporter', () => {
  let dir: string;
  let server: http.Server;
  const paths: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dockpush-engine-'));
    server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      if (req.url === '/images/app%3A1/json') {
        res.end(JSON.stringify({ Id: 'sha256:abc', RootFS: { Layers: ['sha256:l1'] } }));
      } else if (req.url === '/images/app%3A1/get') {
        res.end('TAR BYTES');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"No such image: missing:1"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const exporter = () => engineApiExporter({ DOCKER_HOST: `unix://${path.join(dir, 'docker.sock')}` });

  it('inspects and streams the export over the engine socket', async () => {
    const api = exporter();
    expect(await api?.inspect('app:1')).toEqual({ Id: 'sha256:abc', RootFS: { Layers: ['sha256:l1'] } });
    const chunks: Buffer[] = [];
    for await (const chunk of (await api?.export('app:1')) as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('TAR BYTES');
  });

  it("fails with the engine's message and its status code", async () => {
    await expect(exporter()?.inspect('missing:1')).rejects.toMatchObject({
      message: 'inspecting missing:1: No such image: missing:1',
      statusCode: 404,
    });
  });

  it.each([['ssh://user@host'], ['tcp://host:2376']])('leaves %s to dockerode', (dockerHost) => {
    expect(
      engineApiExporter({ DOCKER_HOST: dockerHost, DOCKER_TLS_VERIFY: dockerHost.startsWith('tcp') ? '1' : undefined }),
    ).toBeUndefined();
  });
});
