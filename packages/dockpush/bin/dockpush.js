#!/usr/bin/env node
'use strict';
// The `dockpush` command. A file of its own (not dist/) so that npm links it at install
// time in a fresh clone too, before `npm run build` has made dist/. It runs the CLI as the
// one file the build writes (dist/cli/cli-bundle.js says why).
let bundle;
try {
  bundle = require('../dist/cli/cli-bundle.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('cli-bundle.js')) notBuilt();
  throw error;
}
try {
  bundle.runCliBundle();
} catch (error) {
  if (error && error.code === 'ENOENT' && String(error.path).endsWith(bundle.CLI_BUNDLE)) notBuilt();
  throw error;
}

function notBuilt() {
  process.stderr.write('dockpush: not built yet: run `npm run build` at the repository root first.\n');
  process.exit(2);
}
