/**
 * What a registry charges for tags, whoever the client: the time a bare HTTP client (keep-alive,
 * no retries, no output) takes to PUT one image's manifest under one tag and under ten, against a
 * repository that already holds the image's blobs and no manifest, the state a push is in when
 * its blobs are done. The ten go `concurrency` at a time, as the registry engine sends them.
 *
 * Set-up, not timed: the blobs are mounted into `repo` from `from`, a repository of the same
 * registry that holds the image under `fromTag` (the bench pushes it there first).
 */
'use strict';
const http = require('node:http');
const { performance } = require('node:perf_hooks');

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** One request on `agent`; resolves to `{ status, headers, body }`. */
function request(agent, host, method, path, { headers = {}, body } = {}) {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, hostname, port, method, path, headers, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} (expected ${status}): ${res.body}`);
  return res;
}

/**
 * Mounts the blobs of `from:fromTag` into `repo`, then times the manifest PUT under each of
 * `tags`. Resolves to the milliseconds the PUTs took.
 */
async function timeManifestPuts({ host, from, fromTag, repo, tags, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const got = expect(
      await request(agent, host, 'GET', `/v2/${from}/manifests/${fromTag}`, { headers: { accept: MANIFEST_TYPES } }),
      200,
      `GET ${from}:${fromTag}`,
    );
    const manifest = JSON.parse(got.body.toString('utf8'));
    for (const { digest } of [manifest.config, ...manifest.layers]) {
      const path = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
      expect(await request(agent, host, 'POST', path, { headers: { 'content-length': '0' } }), 201, `mount ${digest}`);
    }
    const headers = { 'content-type': got.headers['content-type'], 'content-length': String(got.body.length) };
    const queue = [...tags];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, tags.length) }, async () => {
        for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) {
          const path = `/v2/${repo}/manifests/${tag}`;
          expect(await request(agent, host, 'PUT', path, { headers, body: got.body }), 201, `PUT ${repo}:${tag}`);
        }
      }),
    );
    return performance.now() - t0;
  } finally {
    agent.destroy();
  }
}

module.exports = { timeManifestPuts };
