#!/usr/bin/env bash
# A disposable second Docker engine for hostile tests: fork bombs, memory bombs and disk fills run
# against it, never against the machine's own engine.
#
#   scripts/disposable-engine.sh start NAME   # prints DOCKER_HOST=unix://... on its last line
#   scripts/disposable-engine.sh run NAME CMD...  # CMD with DOCKER_HOST set, in the engine's network
#                                               # namespace (its published ports are there), cgroups visible
#   scripts/disposable-engine.sh stop NAME    # removes everything start made
#
# The engine is the Debian 13 dockerd of scripts/docker-engine.sh (its root file system under
# /var/lib/autograde-engine/rootfs must exist: run that script first), started
#   - on a small loop-mounted ext4 file system of its own (data root; DISPOSABLE_SIZE, default 6G),
#   - in a network namespace of its own (its iptables chains are its own; a veth pair and a
#     MASQUERADE rule on the host let builds reach the package index),
#   - in a cgroup of its own (DISPOSABLE_MEMORY, default 3G; DISPOSABLE_PIDS, default 2000) that is
#     also the engine's cgroup-parent, so its containers and its builds' RUN steps count against it,
#   - with its own exec root, socket (/run/autograde-disposable/NAME/docker.sock) and subnets,
# and gets the machine engine's stand-in base images (docker save | docker load; DISPOSABLE_IMAGES).
set -euo pipefail

log() { printf '[disposable-engine] %s\n' "$*" >&2; }

cmd=${1:-}
NAME=${2:-}
[[ "$cmd" =~ ^(start|stop|run)$ && "$NAME" =~ ^[a-z0-9]{1,8}$ ]] || {
  echo "usage: $0 start|stop NAME | run NAME CMD...   (NAME: 1-8 lower-case letters or digits)" >&2
  exit 2
}

R=${ENGINE_HOME:-/var/lib/autograde-engine}/rootfs
HOME_DIR=/var/lib/autograde-disposable/$NAME
RUN_DIR=/run/autograde-disposable/$NAME
SOCK=$RUN_DIR/docker.sock
NS=agd-$NAME
VETH_HOST=agdh-$NAME
VETH_NS=agdn-$NAME
CGROUP=autograde-disposable-$NAME
CONTROLLERS=(memory pids cpu cpuacct cpuset freezer blkio devices systemd)
SIZE=${DISPOSABLE_SIZE:-6G}
MEMORY=${DISPOSABLE_MEMORY:-3G}
PIDS=${DISPOSABLE_PIDS:-2000}
IMAGES=${DISPOSABLE_IMAGES-python:3.13 python:3.13-slim redis:alpine}
# a /30 for the veth pair, chosen from the name so that two disposable engines do not collide
N=$(($(printf '%s' "$NAME" | cksum | cut -d' ' -f1) % 250 + 1))
HOST_IP=10.213.$N.1
NS_IP=10.213.$N.2

cgdir() { echo "/sys/fs/cgroup/$1/$CGROUP"; }

# Freeze the engine's cgroup, kill every process in it and below, thaw, and remove the cgroups.
kill_cgroup() {
  local freezer
  freezer=$(cgdir freezer)
  [ -d "$freezer" ] && echo FROZEN >"$freezer/freezer.state" 2>/dev/null || true
  for _ in $(seq 20); do
    local left=0
    while IFS= read -r tasks; do
      while read -r pid; do
        kill -9 "$pid" 2>/dev/null && left=1
      done <"$tasks"
    done < <(find "$(cgdir pids)" -name tasks 2>/dev/null)
    [ -d "$freezer" ] && echo THAWED >"$freezer/freezer.state" 2>/dev/null || true
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  for c in "${CONTROLLERS[@]}"; do
    [ -d "$(cgdir "$c")" ] && find "$(cgdir "$c")" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

stop() {
  if [ -f "$RUN_DIR/dockerd.pid" ]; then
    pid=$(cat "$RUN_DIR/dockerd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  kill_cgroup
  iptables -t nat -D POSTROUTING -s "$NS_IP/32" ! -o "$VETH_HOST" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$VETH_HOST" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o "$VETH_HOST" -j ACCEPT 2>/dev/null || true
  ip link del "$VETH_HOST" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  if mountpoint -q "$HOME_DIR/mnt"; then
    umount "$HOME_DIR/mnt" 2>/dev/null || umount -l "$HOME_DIR/mnt" || true
  fi
  for dev in $(losetup -j "$HOME_DIR/disk.img" 2>/dev/null | cut -d: -f1); do losetup -d "$dev" || true; done
  rm -rf "$HOME_DIR" "$RUN_DIR"
  rmdir --ignore-fail-on-non-empty "$(dirname "$HOME_DIR")" "$(dirname "$RUN_DIR")" 2>/dev/null || true
}

if [ "$cmd" = run ]; then
  shift 2
  # nsenter enters the network namespace only (`ip netns exec` would also hide /sys/fs/cgroup)
  DOCKER_HOST=unix://$SOCK exec nsenter --net="/run/netns/$NS" "$@"
fi

if [ "$cmd" = stop ]; then
  stop
  log "$NAME stopped and removed"
  exit 0
fi

t0=$SECONDS
[ -x "$R/usr/sbin/dockerd" ] || { log "no engine root file system at $R: run scripts/docker-engine.sh first"; exit 1; }
for tool in iptables mkfs.ext4:e2fsprogs nsenter:util-linux; do
  command -v "${tool%%:*}" >/dev/null || {
    pkg=${tool#*:}
    log "installing ${pkg}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  }
done
stop # whatever an earlier start of this name left
trap 'log "start failed; removing what it made"; stop' ERR

# 1. The data root: a sparse file system image, mounted on a loop device.
mkdir -p "$HOME_DIR/mnt" "$RUN_DIR"
truncate -s "$SIZE" "$HOME_DIR/disk.img"
mkfs.ext4 -q -F "$HOME_DIR/disk.img"
mount -o loop "$HOME_DIR/disk.img" "$HOME_DIR/mnt"
mkdir -p "$HOME_DIR/mnt/data"

# 2. The cgroup (cgroup v1, one directory per controller), also the engine's cgroup-parent.
for c in "${CONTROLLERS[@]}"; do
  [ -d "/sys/fs/cgroup/$c" ] && mkdir -p "$(cgdir "$c")/daemon"
done
cp "/sys/fs/cgroup/cpuset/cpuset.cpus" "$(cgdir cpuset)/cpuset.cpus"
cp "/sys/fs/cgroup/cpuset/cpuset.mems" "$(cgdir cpuset)/cpuset.mems"
cp "/sys/fs/cgroup/cpuset/cpuset.cpus" "$(cgdir cpuset)/daemon/cpuset.cpus"
cp "/sys/fs/cgroup/cpuset/cpuset.mems" "$(cgdir cpuset)/daemon/cpuset.mems"
echo "$MEMORY" >"$(cgdir memory)/memory.limit_in_bytes"
[ -f "$(cgdir memory)/memory.memsw.limit_in_bytes" ] && echo "$MEMORY" >"$(cgdir memory)/memory.memsw.limit_in_bytes"
echo "$PIDS" >"$(cgdir pids)/pids.max"

# 3. The network namespace: veth pair, default route, NAT on the host for its address only.
ip netns add "$NS"
ip link add "$VETH_HOST" type veth peer name "$VETH_NS"
ip link set "$VETH_NS" netns "$NS"
ip addr add "$HOST_IP/30" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$VETH_NS"
ip netns exec "$NS" ip link set "$VETH_NS" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip route add default via "$HOST_IP"
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s "$NS_IP/32" ! -o "$VETH_HOST" -j MASQUERADE
iptables -I FORWARD 1 -i "$VETH_HOST" -j ACCEPT
iptables -I FORWARD 1 -o "$VETH_HOST" -j ACCEPT

# 4. The engine's configuration, in its run directory (the root file system's daemon.json is the
#    machine engine's).
cat >"$RUN_DIR/daemon.json" <<EOF
{
  "hosts": ["unix:///run/disposable/docker.sock"],
  "data-root": "/var/lib/docker",
  "exec-root": "/run/docker",
  "pidfile": "/run/docker.pid",
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "cgroup-parent": "/$CGROUP",
  "bip": "10.214.$N.1/24",
  "default-address-pools": [{"base": "10.215.0.0/16", "size": 24}],
  "features": {"buildkit": true}
}
EOF

# 5. dockerd: in the cgroup, the network namespace and a private mount namespace rooted at the
#    Debian 13 file system (pivot_root: see scripts/docker-engine.sh). `ip netns exec` mounts a
#    sysfs of its own, without the cgroup hierarchies: they are mounted again, one per controller.
export CTRLS="${CONTROLLERS[*]}" CGROUP NS R DATA="$HOME_DIR/mnt/data" RUN="$RUN_DIR"
# shellcheck disable=SC2016
setsid bash -c '
  set -e
  for c in $CTRLS; do
    [ -d "/sys/fs/cgroup/$c/$CGROUP/daemon" ] && echo $$ >"/sys/fs/cgroup/$c/$CGROUP/daemon/cgroup.procs"
  done
  exec ip netns exec "$NS" unshare --mount --propagation private bash -c '"'"'
    set -e
    mount --bind "$R" "$R"
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"
    mount -t tmpfs cgroup "$R/sys/fs/cgroup"
    for c in $CTRLS; do
      mkdir -p "$R/sys/fs/cgroup/$c"
      if [ "$c" = systemd ]; then opt=none,name=systemd; else opt=$c; fi
      mount -t cgroup -o "$opt" cgroup "$R/sys/fs/cgroup/$c"
    done
    mkdir -p "$R/sys/fs/cgroup/unified"; mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified" || true
    mount --rbind /dev "$R/dev"
    mount --bind "$DATA" "$R/var/lib/docker"
    mount -t tmpfs tmpfs "$R/run"
    mkdir -p "$R/run/disposable" "$R/run/docker"
    mount --bind "$RUN" "$R/run/disposable"
    for p in /tmp /work; do [ -d "$p" ] && mkdir -p "$R$p" && mount --rbind "$p" "$R$p"; done
    cd "$R"; mkdir -p .oldroot; pivot_root . .oldroot
    exec chroot . sh -c "umount -l /.oldroot; rmdir /.oldroot; PATH=/usr/sbin:/usr/bin:/sbin:/bin exec dockerd --config-file /run/disposable/daemon.json"
  '"'"'
' >"$RUN_DIR/dockerd.log" 2>&1 </dev/null &
echo $! >"$RUN_DIR/dockerd.pid"
export DOCKER_HOST=unix://$SOCK
for _ in $(seq 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
docker info >/dev/null 2>&1 || { log "dockerd did not start; its log:"; tail -30 "$RUN_DIR/dockerd.log" >&2; false; }
log "engine $(docker version --format '{{.Server.Version}}') up in $((SECONDS - t0)) s"

# 6. The base images, from the machine's engine (no registry is needed).
if [ -n "$IMAGES" ]; then
  t=$SECONDS
  # shellcheck disable=SC2086
  DOCKER_HOST=${MACHINE_DOCKER_HOST:-unix:///var/run/docker.sock} docker save $IMAGES | docker load -q >&2
  log "images loaded in $((SECONDS - t)) s; ready in $((SECONDS - t0)) s"
fi
trap - ERR
echo "DOCKER_HOST=unix://$SOCK"
