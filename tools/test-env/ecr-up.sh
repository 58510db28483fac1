#!/usr/bin/env bash
# Machine set-up of the ECR end-to-end tests: a test CA and a server certificate
# for the given registry hosts, the CA trusted by the Docker engine through
# /etc/docker/certs.d/<host>/ca.crt (read on every push, no restart), and
# /etc/hosts lines sending the hosts to ADDR. Whatever an earlier run left is
# removed first (ecr-down.sh). Writes DIR/{ca.crt,server.crt,server.key}.
# A host given with --untrusted gets an /etc/hosts line but no certs.d folder
# (to show that the engine does verify the certificate).
#   ecr-up.sh --addr ADDR --dir DIR [--untrusted HOST]... HOST...
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

MARKER=dockpush-e2e-ecr
CERTS_D=/etc/docker/certs.d

usage() { die "usage: ecr-up.sh --addr ADDR --dir DIR [--untrusted HOST]... HOST..."; }
addr='' dir='' untrusted=()
while [[ $# -gt 0 && "$1" == --* ]]; do
  [[ $# -ge 2 ]] || usage
  case "$1" in
    --addr) addr=$2 ;;
    --dir) dir=$2 ;;
    --untrusted) untrusted+=("$2") ;;
    *) usage ;;
  esac
  shift 2
done
[[ -n "$addr" && -n "$dir" && $# -gt 0 ]] || usage
[[ $EUID -eq 0 ]] || die "ecr-up.sh edits /etc/hosts and $CERTS_D: run it as root"
command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
for host in "$@" "${untrusted[@]}"; do
  [[ "$host" =~ ^[a-z0-9.-]+$ ]] || die "not a host name: $host"
done

"$here/ecr-down.sh"

mkdir -p "$dir"
log="$dir/openssl.log"
# Untrusted hosts are in the certificate too: their only fault is the CA the engine lacks.
san=$(printf 'DNS:%s,' "$@" "${untrusted[@]}")
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dockpush e2e test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$dir/ca.key" -out "$dir/ca.crt"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$dir/server.key" -out "$dir/server.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
    "${san%,}" >"$dir/server.ext"
  openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -extfile "$dir/server.ext" -out "$dir/server.crt"
} >"$log" 2>&1 || die "openssl failed; see $log"
rm -f "$dir/ca.key" "$dir/server.csr" "$dir/server.ext"
chmod 600 "$dir/server.key"

for host in "$@"; do
  # A folder without our marker is someone's real configuration: leave it and stop.
  if [[ -e "$CERTS_D/$host" && ! -e "$CERTS_D/$host/.$MARKER" ]]; then
    die "$CERTS_D/$host exists and is not ours; move it away to run the ECR e2e tests"
  fi
  mkdir -p "$CERTS_D/$host"
  cp "$dir/ca.crt" "$CERTS_D/$host/ca.crt"
  : >"$CERTS_D/$host/.$MARKER"
done

for host in "$@" "${untrusted[@]}"; do
  printf '%s %s # %s\n' "$addr" "$host" "$MARKER"
done >>/etc/hosts
