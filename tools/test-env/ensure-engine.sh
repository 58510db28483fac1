#!/usr/bin/env bash
# Make sure a Docker engine answers. Where none does and we are root on Debian,
# install docker.io + docker-registry and start dockerd (vfs, no iptables, no
# bridge: containers then run with --network host).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_LOG=/var/log/dockpush-dockerd.log
APT_LOG=/var/log/dockpush-apt.log

engine_answers && exit 0

if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != unix:///var/run/docker.sock && "$DOCKER_HOST" != unix:///run/docker.sock ]]; then
  die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker version'. Start that engine, or unset DOCKER_HOST to use a local one."
fi

if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
  die "no Docker engine answers on /var/run/docker.sock (or this user may not use it: see 'docker version'). Install one (Debian: 'apt-get install docker.io docker-registry') and start it, e.g. as root:
  dockerd --storage-driver=vfs --iptables=false --bridge=none >/var/log/dockpush-dockerd.log 2>&1 &
or point DOCKER_HOST at a running engine."
fi

if ! command -v dockerd >/dev/null || [[ ! -x /usr/bin/docker-registry ]]; then
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io docker-registry >>"$APT_LOG" 2>&1
  }
  # Lists may be missing or stale (404 on an old version): refresh only then.
  if ! apt_install; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$APT_LOG" 2>&1 || true
    apt_install || die "apt-get install docker.io docker-registry failed; see $APT_LOG"
  fi
fi

# After every process was killed, dockerd's and its containerd's state remains:
# a pid file whose pid may now belong to another process makes them refuse to
# start or wait on the wrong process. dockerd starts its own containerd (under
# /var/run/docker/containerd) unless /run/containerd/containerd.sock exists, so
# a stale socket there must go too; Debian's containerd package is never
# started here (no init system), so nothing else needs starting.
if ! pid_runs /var/run/docker.pid dockerd; then
  rm -f /var/run/docker.pid
  pid_runs /var/run/docker/containerd/containerd.pid containerd ||
    rm -f /var/run/docker/containerd/containerd.pid /var/run/docker/containerd/containerd.sock
  pgrep -x containerd >/dev/null || rm -f /run/containerd/containerd.sock
  setsid nohup dockerd --storage-driver=vfs --iptables=false --bridge=none >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

for _ in $(seq 60); do
  engine_answers && exit 0
  sleep 1
done
die "dockerd did not answer within 60 s; see $DOCKERD_LOG (tail below)
$(tail -n 20 "$DOCKERD_LOG" 2>/dev/null)"
