#!/usr/bin/env bash
# One stop for developers, CI and the demo: a Docker engine, the registry:2
# image, and (unless --engine-only) a plain registry `dockpush-registry` on
# 127.0.0.1:5000. An answering registry already on :5000 is kept. Idempotent.
#   up.sh [--engine-only]
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

case "${1:-}" in
  "") engine_only=false ;;
  --engine-only) engine_only=true ;;
  *) die "usage: up.sh [--engine-only]" ;;
esac

"$here/ensure-engine.sh"
"$here/ensure-registry-image.sh"
$engine_only && exit 0

registry_answers http://127.0.0.1:5000 && exit 0
port_in_use 127.0.0.1 5000 && die "127.0.0.1:5000 is taken by something that is not a registry (ss -ltnp 'sport = :5000')"
"$here/run-registry.sh" --name dockpush-registry --port 5000 >/dev/null
