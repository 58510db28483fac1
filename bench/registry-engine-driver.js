/**
 * The one place the bench drives dockpush's registry engine.
 *
 * When the built packages accept `engine` (core's argument model has the field), the CLI column is
 * `dockpush push --engine registry --source SRC --repo REPO --tag …` and the API column
 * `pushImage({ engine: 'registry', source, repo, tags })`. Until then both go through core's
 * `pushToRegistry` from the build: in a child process for the CLI column (bench/registry-engine-push.js,
 * which pays Node's start-up and module loading like the CLI), in this process for the API column.
 * The blob info cache lives under `cacheHome` (as `$XDG_CACHE_HOME/dockpush`) either way, so a
 * scenario chooses a warm or a cold cache by the directory it passes.
 */
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** True when the built core's argument model has `engine`: the CLI and the API can choose the registry engine. */
function engineOptionWired() {
  try {
    const { pushArgsShape } = require(path.join(root, 'packages/core/dist/model.js'));
    return Boolean(pushArgsShape && pushArgsShape.shape && pushArgsShape.shape.engine);
  } catch {
    return false;
  }
}

/**
 * `exec(cmd, args, { trackRss, env })` runs a command to its end; `env` is the children's
 * environment. Returns `{ wired, cli(push, options), api(push) }`, where `push` is
 * `{ source, repo, tags, cacheHome }` and `options` `{ trackRss }`.
 */
function registryEngineDriver({ exec, env }) {
  const wired = engineOptionWired();
  const cli = path.join(root, 'packages/dockpush/bin/dockpush.js');
  const envWith = (cacheHome) => ({ ...env, XDG_CACHE_HOME: cacheHome });
  let api;
  if (wired) {
    const { pushImage } = require(path.join(root, 'packages/dockpush'));
    api = ({ source, repo, tags, cacheHome }) =>
      pushImage({ engine: 'registry', source, repo, tags }, { env: envWith(cacheHome) });
  } else {
    const dist = path.join(root, 'packages/core/dist');
    const { pushToRegistry } = require(path.join(dist, 'registry/registry-push'));
    const { openImageSource } = require(path.join(dist, 'image-source/open-image-source'));
    const { engineApiExporter } = require(path.join(dist, 'image-source/engine-api-exporter'));
    api = ({ source, repo, tags, cacheHome }) => {
      const slash = repo.indexOf('/');
      return pushToRegistry({
        source: openImageSource(source, () => engineApiExporter(env)),
        repository: { registry: repo.slice(0, slash), path: repo.slice(slash + 1) },
        tags,
        cacheDir: path.join(cacheHome, 'dockpush'),
        env: envWith(cacheHome),
      });
    };
  }
  return {
    wired,
    cli: ({ source, repo, tags, cacheHome }, { trackRss = false } = {}) =>
      wired
        ? exec(
            process.execPath,
            [
              cli,
              'push',
              '--engine',
              'registry',
              '--source',
              source,
              '--repo',
              repo,
              ...tags.flatMap((t) => ['--tag', t]),
            ],
            { trackRss, env: envWith(cacheHome) },
          )
        : exec(
            process.execPath,
            [path.join(__dirname, 'registry-engine-push.js'), source, repo, tags.join(','), cacheHome],
            {
              trackRss,
              env: envWith(cacheHome),
            },
          ),
    api,
  };
}

module.exports = { registryEngineDriver };
