#!/usr/bin/env node
'use strict';
// The `dockpush` command. A file of its own (not dist/) so that npm links it at install
// time in a fresh clone too, before `npm run build` has made dist/. It runs the CLI from the
// one file the build writes (dist/cli/cli-bundle.js says why), or from dist/ where only `tsc`
// has run.
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'cli');
let bundle;
try {
  bundle = require(path.join(dist, 'cli-bundle.js'));
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('cli-bundle.js')) notBuilt();
  throw error;
}
try {
  bundle.runCliBundle();
} catch (error) {
  if (!(error && error.code === 'ENOENT' && error.path === path.join(dist, bundle.CLI_BUNDLE))) throw error;
  require(path.join(dist, 'main.js'));
}

function notBuilt() {
  process.stderr.write('dockpush: not built yet: run `npm run build` at the repository root first.\n');
  process.exit(2);
}
