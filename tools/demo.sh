#!/usr/bin/env bash
# npm run demo: from a fresh clone to an image in a registry, with Nx.
#   1. installs the dependencies when node_modules is missing (npm ci);
#   2. builds the packages (nx run-many -t build: replayed from Nx's cache when up to date);
#   3. makes sure a Docker engine and a registry on 127.0.0.1:5000 answer
#      (tools/test-env/up.sh: installs and starts them on a bare Debian machine as root);
#   4. runs nx run demo-app:docker-push in examples/demo-app, an Nx workspace of its own
#      that registers the built @dockpush/nx plugin (so the repository's own Nx graph never
#      needs the plugin built first); Nx builds the image (its docker-build target) and
#      dockpush pushes it to localhost:5000/demo-app;
#   5. prints where the image went and its digest, from the result file and the registry.
# Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -t 1 ]]; then bold=$'\e[1m' reset=$'\e[0m'; else bold='' reset=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }

step "Dependencies"
if [[ -x node_modules/.bin/nx && -e node_modules/@dockpush/nx ]]; then
  echo "node_modules is there"
elif ! npm ci --no-audit --no-fund; then
  # npm ci insists on a lock entry for every optional platform package of nx, and a
  # registry without some of them (as on these build machines) cannot provide one;
  # npm install follows the same lock file and skips what it cannot have.
  echo "npm ci refused the lock file; installing with npm install instead" >&2
  npm install --no-audit --no-fund
fi

# No daemon (Nx 24 on Node 20 here is happiest without it), no Nx Cloud, plain output.
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

step "Build (nx run-many -t build)"
npm run --silent build

step "Docker engine and registry on 127.0.0.1:5000"
bash tools/test-env/up.sh
echo "engine $(docker version --format '{{.Server.Version}}'), registry answers on http://127.0.0.1:5000/v2/"

step "npx nx run demo-app:docker-push (in examples/demo-app)"
(cd examples/demo-app && npx nx run demo-app:docker-push)

step "Where it went"
result=examples/demo-app/dist/docker-push/demo-app.json
node - "$result" <<'JS'
const [file] = process.argv.slice(2);
const result = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
console.log(`image    ${result.image.id}`);
console.log(`pushed   ${result.image.repo}`);
for (const p of result.pushed) console.log(`  ${p.uri}  ${p.digest}`);
console.log(`result   ${file} (image.uri.latest = ${result.image.uri.latest})`);
JS
digest=$(curl -fsS -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  http://127.0.0.1:5000/v2/demo-app/manifests/latest | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
echo "registry http://127.0.0.1:5000/v2/demo-app: tags $(curl -fsS http://127.0.0.1:5000/v2/demo-app/tags/list | sed 's/.*"tags"://; s/}$//'), latest is $digest"
