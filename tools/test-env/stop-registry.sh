#!/usr/bin/env bash
# Remove the registry container NAME (and its storage), running or stopped.
#   stop-registry.sh NAME
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || die "usage: stop-registry.sh NAME"
out=$(docker rm -f -v "$1" 2>&1) || [[ "$out" == *"No such container"* ]] || die "could not remove $1: $out"
