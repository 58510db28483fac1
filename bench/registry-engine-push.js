#!/usr/bin/env node
/**
 * One push by the registry engine, for the registry engine bench:
 *   node bench/registry-engine-push.js SOURCE REGISTRY PATH TAG CACHE_DIR
 * SOURCE is a local image or a transport (docker-archive:PATH, oci:PATH…). Prints
 * {"digest", "maxRssKb"} as JSON on stdout.
 */
'use strict';
const path = require('node:path');
const dist = path.resolve(__dirname, '..', 'packages', 'core', 'dist');
const { pushToRegistry } = require(path.join(dist, 'registry', 'registry-push'));
const { openImageSource } = require(path.join(dist, 'image-source', 'open-image-source'));
const { dockerodeExporter } = require(path.join(dist, 'image-source', 'engine-image-source'));
const { engineApiExporter } = require(path.join(dist, 'image-source', 'engine-api-exporter'));

async function main() {
  const [source, registry, repoPath, tag, cacheDir] = process.argv.slice(2);
  const result = await pushToRegistry({
    source: openImageSource(source, () => engineApiExporter() ?? dockerodeExporter(new (require('dockerode'))())),
    repository: { registry, path: repoPath },
    tags: [tag],
    cacheDir,
  });
  process.stdout.write(
    `${JSON.stringify({ digest: result.pushed[0].digest, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
