#!/usr/bin/env bash
# Shared by the test-env scripts; sourced, never run.

die() {
  echo "test-env: $*" >&2
  exit 1
}

# The engine answers when the client can read the server's version. Docker CLI
# 28 negotiates the API version down to what the daemon speaks (Debian's
# docker.io 20.10 = API 1.41), so /usr/local/bin/docker and /usr/bin/docker
# both work against it and no DOCKER_API_VERSION is needed.
engine_answers() {
  timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# A pid file is stale when no live process with that pid runs the named
# command. A killed dockerd can linger as a zombie (our pid 1 does not reap),
# still named dockerd in /proc: that counts as dead.
pid_runs() { # PIDFILE COMM
  local pid stat
  pid=$(cat "$1" 2>/dev/null) || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$stat" == "$pid ($2) "[!Z]* ]]
}

# A registry answers when GET /v2/ says 200 (anonymous) or 401 (auth needed).
registry_answers() { # BASE_URL
  [[ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$1/v2/")" =~ ^(200|401)$ ]]
}

port_in_use() { # ADDR PORT
  timeout 2 bash -c ": </dev/tcp/$1/$2" 2>/dev/null
}
