#!/usr/bin/env bash
# Undo ecr-up.sh: the /etc/hosts lines and /etc/docker/certs.d folders it added
# (found by their marker, so an interrupted run's leftovers go too) and the
# ECR e2e registry container. Safe to run any number of times.
#   ecr-down.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARKER=dockpush-e2e-ecr
CERTS_D=/etc/docker/certs.d
CONTAINER=dockpush-e2e-ecr

[[ $EUID -eq 0 ]] || die "ecr-down.sh edits /etc/hosts and $CERTS_D: run it as root"

# Rewrite /etc/hosts in place: in a container it is a bind mount, which a
# rename (sed -i) cannot replace.
if grep -q "# $MARKER\$" /etc/hosts; then
  kept=$(grep -v "# $MARKER\$" /etc/hosts || true)
  printf '%s\n' "$kept" >/etc/hosts
fi

for marker in "$CERTS_D"/*/".$MARKER"; do
  [[ -e "$marker" ]] && rm -rf "$(dirname "$marker")"
done

if command -v docker >/dev/null && engine_answers; then
  out=$(docker rm -f -v "$CONTAINER" 2>&1) || [[ "$out" == *"No such container"* ]] ||
    die "could not remove container $CONTAINER: $out"
fi
exit 0
