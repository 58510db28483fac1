#!/usr/bin/env node
/**
 * Throughput of the registry engine's layer compressors on one file (a tar of real content:
 * binaries, libraries, documentation, node_modules), streamed from disk as a push would:
 * gzip on libuv's thread pool, zstd in its worker pool (or Node's zlib zstd where it exists).
 * Needs a build (npm run build). Prints MB/s (uncompressed bytes per second) and the ratio.
 *
 *   node bench/layer-compression.js FILE [RUNS]
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.resolve(__dirname, '../packages/core/dist/registry');
const { gzipLayer, zstdLayer } = require(path.join(dist, 'layer-compressor.js'));
const { openZstdCompressor } = require(path.join(dist, 'zstd-compressor.js'));

async function time(make) {
  const started = process.hrtime.bigint();
  let peakRss = process.memoryUsage().rss;
  const { output, result } = make(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }));
  for await (const _ of output) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const r = result();
  return { mbps: r.uncompressedSize / 1e6 / seconds, ratio: r.size / r.uncompressedSize, peakRss };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const file = process.argv[2];
const runs = Number(process.argv[3] || 3);
if (!file) {
  console.error('usage: node bench/layer-compression.js FILE [RUNS]');
  process.exit(2);
}

(async () => {
  const zstd = await openZstdCompressor();
  const size = fs.statSync(file).size;
  console.log(
    `${(size / 1e6).toFixed(0)} MB, ${os.availableParallelism()} cores, zstd via ${zstd.kind} (${zstd.parallel} at once), load ${os.loadavg()[0].toFixed(1)}`,
  );
  const cases = [
    ['gzip level 1', (input) => gzipLayer(input, { level: 1 })],
    ['gzip level 6', (input) => gzipLayer(input, { level: 6 })],
    ['zstd level 1', (input) => zstdLayer(input, { level: 1, compressor: zstd })],
    ['zstd level 3 (default)', (input) => zstdLayer(input, { level: 3, compressor: zstd })],
  ];
  try {
    console.log('| compressor | MB/s (median) | compressed / input | peak RSS |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, make] of cases) {
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await time(make));
      const mbps = median(results.map((r) => r.mbps));
      const peak = Math.max(...results.map((r) => r.peakRss));
      console.log(`| ${name} | ${mbps.toFixed(0)} | ${results[0].ratio.toFixed(3)} | ${(peak / 1e6).toFixed(0)} MB |`);
    }
  } finally {
    await zstd.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
