#!/usr/bin/env node
/**
 * One push by the registry engine through core's `pushToRegistry`, standing in for
 * `dockpush push --engine registry` until the CLI has it (see registry-engine-driver.js):
 *   node bench/registry-engine-push.js SOURCE REPO TAG[,TAG…] CACHE_HOME
 * SOURCE is a local image or a transport (docker-archive:PATH, oci:PATH…); REPO is
 * `host[:port]/path`; the blob info cache is CACHE_HOME/dockpush. With DOCKPUSH_BENCH_PHASES=1 it
 * prints on stderr when each layer starts, is uploaded and is reused.
 */
'use strict';
const path = require('node:path');
const dist = path.resolve(__dirname, '..', 'packages', 'core', 'dist');
const { pushToRegistry } = require(path.join(dist, 'registry', 'registry-push'));
const { openImageSource } = require(path.join(dist, 'image-source', 'open-image-source'));
const { engineApiExporter } = require(path.join(dist, 'image-source', 'engine-api-exporter'));

async function main() {
  const [source, repo, tags, cacheHome] = process.argv.slice(2);
  const slash = repo.indexOf('/');
  const t0 = Date.now();
  const phases = process.env.DOCKPUSH_BENCH_PHASES === '1';
  const result = await pushToRegistry({
    source: openImageSource(source, () => engineApiExporter()),
    repository: { registry: repo.slice(0, slash), path: repo.slice(slash + 1) },
    tags: tags.split(','),
    cacheDir: path.join(cacheHome, 'dockpush'),
    emit: phases
      ? (e) => {
          if (e.type === 'layer' && e.state !== 'pushing' && e.tag === tags.split(',')[0])
            console.error(`${Date.now() - t0} ms ${e.layer} ${e.state}`);
          if (e.type === 'tag-done') console.error(`${Date.now() - t0} ms ${e.tag} done`);
        }
      : undefined,
  });
  process.stdout.write(
    `${JSON.stringify({ digest: result.pushed[0].digest, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
