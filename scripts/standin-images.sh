#!/usr/bin/env bash
# Stand-ins for the official base images the lab names (python:3.13, python:3.13-slim,
# redis:alpine), made from Debian packages for machines that cannot reach a registry
# (offline or air-gapped grading, this project's CI). On GitHub runners the real images
# are pulled and this script is never run. Images already present are reused.
set -euo pipefail

log() { printf '[standin-images] %s\n' "$*"; }
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie   # Debian 13 ships Python 3.13, so the tags match the interpreter
work=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null || true; wait || true; rm -rf "$work"' EXIT

if ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
fi

# The host's CA bundle goes in because the package index may only be reachable through a
# TLS-inspecting proxy; PIP_CERT makes pip inside builds trust it.
python_hooks=(
  --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
  --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs')
clean_apt=(--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*')

make_image() {  # tag, packages, hooks (array name), import changes...
  local tag=$1 pkgs=$2; local -n hooks=$3; shift 3
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag present, reused"; return
  fi
  local t=$SECONDS tar="$work/${tag//[:\/]/_}.tar"
  mmdebstrap -q --variant=minbase "${hooks[@]}" --include="$pkgs" "$SUITE" "$tar" "$MIRROR"
  local changes=()
  for c in "$@"; do changes+=(-c "$c"); done
  docker import "${changes[@]}" "$tar" "$tag" >/dev/null
  rm -f "$tar"
  log "$tag built in $((SECONDS - t)) s"
}

py_env='ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
slim_hooks=("${python_hooks[@]}" "${clean_apt[@]}")
full_hooks=("${python_hooks[@]}")
redis_hooks=("${clean_apt[@]}")
make_image python:3.13-slim python3,python3-venv,python3-pip,python-is-python3,ca-certificates slim_hooks \
  "$py_env" 'CMD ["python3"]' & pids=($!)
make_image python:3.13 python3,python3-venv,python3-pip,python3-dev,python-is-python3,build-essential,git,curl,ca-certificates full_hooks \
  "$py_env" 'CMD ["python3"]' & pids+=($!)
make_image redis:alpine redis-server redis_hooks \
  'EXPOSE 6379' 'CMD ["redis-server","--protected-mode","no"]' & pids+=($!)
fail=0
for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
[ "$fail" = 0 ] || { log "a stand-in image failed"; exit 1; }
docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(python|redis):' || true
