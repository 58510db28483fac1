#!/usr/bin/env bash
# Start a fresh registry:2 container NAME on ADDR:PORT (host network) and wait
# until GET /v2/ answers. Any container already named NAME is removed first.
# Prints the registry's base URL.
#   run-registry.sh --name NAME --port PORT [--addr 127.0.0.1]
#                   [--htpasswd FILE] [--tls-cert CRT --tls-key KEY]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { die "usage: run-registry.sh --name NAME --port PORT [--addr ADDR] [--htpasswd FILE] [--tls-cert CRT --tls-key KEY]"; }
name='' port='' addr=127.0.0.1 htpasswd='' cert='' key=''
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case "$1" in
    --name) name=$2 ;;
    --port) port=$2 ;;
    --addr) addr=$2 ;;
    --htpasswd) htpasswd=$(realpath -e "$2") || die "no htpasswd file $2" ;;
    --tls-cert) cert=$(realpath -e "$2") || die "no certificate $2" ;;
    --tls-key) key=$(realpath -e "$2") || die "no key $2" ;;
    *) usage ;;
  esac
  shift 2
done
[[ -n "$name" && "$port" =~ ^[0-9]+$ ]] || usage
[[ -z "$cert" && -z "$key" || -n "$cert" && -n "$key" ]] || die "--tls-cert and --tls-key go together"

args=(-e "REGISTRY_HTTP_ADDR=$addr:$port" -e REGISTRY_STORAGE_DELETE_ENABLED=true)
if [[ -n "$htpasswd" ]]; then
  args+=(-v "$htpasswd:/auth/htpasswd:ro" -e REGISTRY_AUTH=htpasswd
    -e "REGISTRY_AUTH_HTPASSWD_REALM=$name" -e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd)
fi
scheme=http
if [[ -n "$cert" ]]; then
  scheme=https
  args+=(-v "$cert:/certs/tls.crt:ro" -v "$key:/certs/tls.key:ro"
    -e REGISTRY_HTTP_TLS_CERTIFICATE=/certs/tls.crt -e REGISTRY_HTTP_TLS_KEY=/certs/tls.key)
fi
probe=$addr
[[ "$addr" == 0.0.0.0 || -z "$addr" ]] && probe=127.0.0.1
url="$scheme://$probe:$port"

docker rm -f -v "$name" >/dev/null 2>&1 || true
port_in_use "$probe" "$port" && die "port $probe:$port is already taken by another process (ss -ltnp 'sport = :$port')"
docker run -d --network host --name "$name" "${args[@]}" registry:2 >/dev/null ||
  die "docker run of registry $name failed"

for _ in $(seq 60); do
  registry_answers "$url" && { echo "$url"; exit 0; }
  [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" == true ]] || break
  sleep 0.5
done
die "registry $name did not answer on $url/v2/ within 30 s; its log (docker logs $name):
$(docker logs --tail 20 "$name" 2>&1)"
