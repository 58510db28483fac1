#!/usr/bin/env bash
# Make sure skopeo is there: e2e round trips read what the registry engine pushed with it
# (another implementation of the registry API and of zstd). Installs Debian's skopeo as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_LOG=/var/log/dockpush-apt.log

command -v skopeo >/dev/null && exit 0
if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
  die "skopeo is missing: install it (Debian: 'apt-get install skopeo'); the registry engine's e2e round trips need it"
fi
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends skopeo >>"$APT_LOG" 2>&1
}
# Lists may be missing or stale (404 on an old version): refresh only then.
if ! apt_install; then
  DEBIAN_FRONTEND=noninteractive apt-get update >>"$APT_LOG" 2>&1 || true
  apt_install || die "apt-get install skopeo failed; see $APT_LOG"
fi
command -v skopeo >/dev/null || die "skopeo is still missing after apt-get install; see $APT_LOG"
