#!/usr/bin/env bash
# npm test: everything CI checks, through Nx.
#   1. nx run-many: build, lint, typecheck and the unit tests of every project, cached
#      (a second run with nothing changed replays them from .nx/cache);
#   2. nx run e2e:e2e: the end-to-end tests against a real engine and registry, never cached;
#   3. nx release --dry-run: the packages' versioning and publishing (npm publish --dry-run),
#      changing nothing; a real publish happens only to the e2e's loopback npm registry;
#   4. tools/test-summary.js: one closing line with the totals of every jest run.
# Exits non-zero when any step fails. Extra arguments go to both nx commands (--skip-nx-cache).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NX_DAEMON="${NX_DAEMON:-false}" NX_NO_CLOUD=true NX_TUI=false

status=0
node tools/test-summary.js --reset
npx nx run-many -t build lint typecheck test --outputStyle=static "$@" || status=1
npx nx run e2e:e2e --outputStyle=stream-without-prefixes "$@" || status=1
npx nx release version patch --dry-run || status=1
npx nx release publish --dry-run --outputStyle=static || status=1
node tools/test-summary.js || status=1
exit "$status"
