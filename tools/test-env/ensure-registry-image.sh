#!/usr/bin/env bash
# Make sure a local image `registry:2` exists: pulled where Docker Hub answers,
# else built from Debian's /usr/bin/docker-registry (the same Distribution 2.8).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGE=registry:2
BIN=/usr/bin/docker-registry
LOG=/var/log/dockpush-registry-image.log

docker image inspect "$IMAGE" >/dev/null 2>&1 && exit 0
timeout 20 docker pull -q "$IMAGE" >"$LOG" 2>&1 && exit 0

[[ -x "$BIN" ]] || die "cannot pull $IMAGE (see $LOG) and $BIN is missing: apt-get install docker-registry, or run ensure-engine.sh"

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc/docker/registry,var/lib/registry,tmp}
chmod 1777 "$rootfs/tmp"
cp "$BIN" "$rootfs/bin/registry"
# Its shared libraries and loader, at the paths the binary asks for
# (Debian 12: libc.so.6 and /lib64/ld-linux-x86-64.so.2; none if static).
for lib in $(ldd "$BIN" 2>/dev/null | grep -o '/[^ ]*' || true); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
echo 'root:x:0:0:root:/:/bin/registry' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
cat >"$rootfs/etc/docker/registry/config.yml" <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
EOF

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
  docker import -c 'ENTRYPOINT ["/bin/registry","serve","/etc/docker/registry/config.yml"]' \
    -c 'EXPOSE 5000' - "$IMAGE" >>"$LOG" 2>&1 ||
  die "docker import of $IMAGE failed; see $LOG"

docker run --rm --network none --entrypoint /bin/registry "$IMAGE" --version >>"$LOG" 2>&1 ||
  die "the built $IMAGE does not run; see $LOG"
