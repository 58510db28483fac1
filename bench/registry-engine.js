#!/usr/bin/env node
/**
 * The registry engine against `docker push` and `skopeo copy` on one image, each push to a fresh
 * registry:2 (loopback, host network), medians of BENCH_RUNS runs (default 3):
 *   node bench/registry-engine.js IMAGE [IMAGE_WITH_TOP_LAYER_CHANGED]
 * Scenarios: one tag; top layer changed (the second image pushed after the first); a second
 * repository of the same registry. Needs a build (npm run build) and skopeo for its column.
 */
'use strict';
/* global fetch */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const RUNS = Number(process.env.BENCH_RUNS || 3);
const [image, changed] = process.argv.slice(2);
if (!image) {
  console.error('usage: node bench/registry-engine.js IMAGE [IMAGE_WITH_TOP_LAYER_CHANGED]');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dockpush-regbench-'));
const pusher = path.join(__dirname, 'registry-engine-push.js');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const out = run(cmd, args);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out };
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function withRegistry(fn) {
  const port = await freePort();
  const name = `dockpush-regbench-${process.pid}-${port}`;
  run('docker', [
    'run',
    '-d',
    '--network',
    'host',
    '--name',
    name,
    '-e',
    `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`,
    'registry:2',
  ]);
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/v2/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return await fn(`127.0.0.1:${port}`);
  } finally {
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
  }
}

const tools = {
  'docker push': (src, host, repo) => {
    const ref = `${host}/${repo}:1`;
    run('docker', ['tag', src, ref]);
    try {
      return timed('docker', ['push', '-q', ref]).ms;
    } finally {
      spawnSync('docker', ['rmi', ref], { stdio: 'ignore' });
    }
  },
  'skopeo copy': (src, host, repo) =>
    timed('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-daemon:${src}`, `docker://${host}/${repo}:1`]).ms,
  'registry engine': (src, host, repo, cache) => {
    const { ms, out } = timed('node', [pusher, src, host, repo, '1', cache]);
    peakRss = Math.max(peakRss, JSON.parse(out).maxRssKb);
    return ms;
  },
};
let peakRss = 0;

const scenarios = {
  'one tag': async (tool) =>
    withRegistry(async (host) => tools[tool](image, host, 'app', fs.mkdtempSync(path.join(tmp, 'c-')))),
  'top layer changed': async (tool) =>
    withRegistry(async (host) => {
      const cache = fs.mkdtempSync(path.join(tmp, 'c-'));
      tools[tool](image, host, 'app', cache);
      return tools[tool](changed, host, 'app', cache);
    }),
  'second repository': async (tool) =>
    withRegistry(async (host) => {
      const cache = fs.mkdtempSync(path.join(tmp, 'c-'));
      tools[tool](image, host, 'app', cache);
      return tools[tool](image, host, 'app-two', cache);
    }),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
  const rows = [];
  for (const [scenario, measure] of Object.entries(scenarios)) {
    if (scenario === 'top layer changed' && !changed) continue;
    const row = { scenario };
    for (const tool of Object.keys(tools)) {
      if (tool === 'skopeo copy' && !hasSkopeo) continue;
      const times = [];
      for (let i = 0; i < RUNS; i++) times.push(await measure(tool));
      row[tool] = median(times);
      console.error(`[bench] ${scenario} / ${tool}: ${times.map((t) => (t / 1000).toFixed(2)).join(' ')} s`);
    }
    rows.push(row);
  }
  console.log('| scenario | docker push | skopeo copy | registry engine | engine / docker |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const s = (v) => (v === undefined ? '–' : `${(v / 1000).toFixed(2)} s`);
    const ratio = (r['registry engine'] / r['docker push']).toFixed(2);
    console.log(
      `| ${r.scenario} | ${s(r['docker push'])} | ${s(r['skopeo copy'])} | ${s(r['registry engine'])} | ${ratio} |`,
    );
  }
  console.log(`\nRegistry engine peak RSS: ${Math.round(peakRss / 1024)} MB`);
}

main().then(
  () => fs.rmSync(tmp, { recursive: true, force: true }),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
