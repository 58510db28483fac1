/**
 * The one place the bench drives dockpush's registry engine: the CLI column is
 * `dockpush push --engine registry --source SRC --repo REPO --tag …` in a child process, the API
 * column `pushImage({ engine: 'registry', source, repo, tags })` in the bench's own. The blob info
 * cache lives under `cacheHome` (as `$XDG_CACHE_HOME/dockpush`) either way, so a scenario chooses
 * a warm or a cold cache by the directory it passes.
 */
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/**
 * `exec(cmd, args, { trackRss, env })` runs a command to its end; `env` is the children's
 * environment. Returns `{ cli(push, options), api(push) }`, where `push` is
 * `{ source, repo, tags, cacheHome }` and `options` `{ trackRss }`.
 */
function registryEngineDriver({ exec, env }) {
  const cli = path.join(root, 'packages/dockpush/bin/dockpush.js');
  const envWith = (cacheHome) => ({ ...env, XDG_CACHE_HOME: cacheHome });
  const { pushImage } = require(path.join(root, 'packages/dockpush'));
  return {
    cli: ({ source, repo, tags, cacheHome }, { trackRss = false } = {}) =>
      exec(
        process.execPath,
        [cli, 'push', '--engine', 'registry', '--source', source, '--repo', repo, ...tags.flatMap((t) => ['--tag', t])],
        { trackRss, env: envWith(cacheHome) },
      ),
    api: ({ source, repo, tags, cacheHome }) =>
      pushImage({ engine: 'registry', source, repo, tags }, { env: envWith(cacheHome) }),
  };
}

module.exports = { registryEngineDriver };
