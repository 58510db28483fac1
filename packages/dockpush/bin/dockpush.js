#!/usr/bin/env node
'use strict';
// The `dockpush` command. A file of its own (not dist/) so that npm links it at install
// time in a fresh clone too, before `npm run build` has made dist/.
try {
  require('../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    process.stderr.write('dockpush: not built yet: run `npm run build` at the repository root first.\n');
    process.exit(2);
  }
  throw error;
}
