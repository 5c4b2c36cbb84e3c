#!/usr/bin/env bash
# Stand-ins for the official base images the lab names (python:3.13, python:3.13-slim,
# redis:alpine) for machines that cannot reach a registry (offline or air-gapped grading, this
# project's CI). On GitHub runners the real images are pulled and this script is never run.
#
# The Python stand-ins follow the official images' Dockerfiles (docker-library/python,
# 3.13/trixie and 3.13/slim-trixie): CPython compiled from the upstream source tarball with the
# official configure flags and installed under /usr/local, on Debian trixie; the full image on
# the buildpack-deps:trixie package set, the slim one on a slimmed minbase with the runtime
# libraries only. The source is the tarball Debian mirrors as python3.13_<version>.orig.tar.xz
# (byte-identical to python.org's; checked against the SHA-256 the official image publishes),
# built without Debian's patches. CPython is compiled once and cached, keyed by version and
# build revision; reruns only assemble the root file systems.
#
# Every stand-in carries the label org.autograde.standin-recipe (the RECIPE it was built with). A
# stand-in whose label is missing or older than the recipe that last changed that image (*_SINCE)
# is rebuilt; an image that has no such label and does not look like an earlier stand-in (made by
# `docker import`, no registry digest) is never touched.
#
# The slim image's package set is the official one's, as docker-library/repo-info publishes it
# (repos/python/local/3.13-slim.md lists every Debian package of the tag); tests/standins compares
# the two. The full image holds every package of that list too, plus buildpack-deps' and the
# official Dockerfile's (its own published list, 3.13-trixie.md, was spot-checked, not compared in
# full). What still differs:
# redis:alpine is Alpine in the official image (musl, BusyBox sh/adduser/addgroup, apk, redis
# uid 999) and Debian trixie here (glibc, bash, Debian's adduser, apt, redis uid 100); only its
# redis-server, redis-cli, entry point, /data and protected-mode default are the official ones.
#
# Environment:
#   STANDIN_REPO_PREFIX  prefix for the tags, e.g. "wip/" builds wip/python:3.13 (default none)
#   STANDIN_CACHE_DIR    compiled CPython and its source (default /var/cache/autograde-standins)
#   STANDIN_NO_CACHE=1   ignore (and replace) the cached CPython build
#   DEBIAN_MIRROR        Debian mirror (default http://deb.debian.org/debian)
set -euo pipefail

RECIPE=3             # bump when an image changes, and set that image's *_SINCE to it
FULL_SINCE=2         # the recipe that last changed python:3.13
SLIM_SINCE=3         # python:3.13-slim; 3: adduser, as in the official image
REDIS_SINCE=2        # redis:alpine
CPYTHON_BUILD=1      # bump when the compiled CPython changes; the cache is keyed on it
# The official image's PYTHON_VERSION/PYTHON_SHA256. Debian's pool keeps only current source
# packages: when it drops this version, move both to the one the pool (and the official image)
# has, and bump RECIPE (the cache is keyed on the version already).
PYTHON_VERSION=3.13.15
PYTHON_SHA256=1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76
GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305   # the 3.13 release manager's, as in the official ENV
SUITE=trixie         # the Debian release the official 3.13 tags use; it also ships Redis

PREFIX=${STANDIN_REPO_PREFIX:-}
CACHE=${STANDIN_CACHE_DIR:-/var/cache/autograde-standins}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LABEL_KEY=org.autograde.standin-recipe
FULL_TAG=${PREFIX}python:3.13
SLIM_TAG=${PREFIX}python:3.13-slim
REDIS_TAG=${PREFIX}redis:alpine

log() { printf '[standin-images] %s\n' "$*"; }
took() { log "$1 took $(( SECONDS - $2 )) s"; }
T0=$SECONDS
work=$(mktemp -d /var/tmp/standin-images.XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null || true; wait || true; rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------------------------
# Which tags need (re)building
# ---------------------------------------------------------------------------------------------
needs_build() {  # tag, recipe that last changed it -> 0 when it must be built
  local tag=$1 since=$2 info label digests comment
  if ! docker image inspect "$tag" >/dev/null 2>&1; then log "$tag absent: building"; return 0; fi
  info=$(docker image inspect --format \
    "{{with .Config.Labels}}{{index . \"$LABEL_KEY\"}}{{end}}|{{len .RepoDigests}}|{{.Comment}}" "$tag")
  IFS='|' read -r label digests comment <<<"$info"
  if [ -n "$label" ]; then
    if [ "$label" -ge "$since" ] 2>/dev/null; then log "$tag is stand-in recipe $label: reused"; return 1; fi
    log "$tag is stand-in recipe $label (< $since): rebuilding"; return 0
  fi
  # No label: either a stand-in of the first recipe (made by `docker import`, never pulled)
  # or a real image, pulled (registry digest) or built/loaded by someone: leave those alone.
  if [ "$digests" = 0 ] && [[ $comment == "Imported from"* ]]; then
    log "$tag is an unlabelled stand-in of an earlier recipe: rebuilding"; return 0
  fi
  log "$tag is not a stand-in (no $LABEL_KEY label; RepoDigests: $digests): left alone"
  return 1
}

want_full=0; want_slim=0; want_redis=0
needs_build "$FULL_TAG" "$FULL_SINCE" && want_full=1
needs_build "$SLIM_TAG" "$SLIM_SINCE" && want_slim=1
needs_build "$REDIS_TAG" "$REDIS_SINCE" && want_redis=1
if [ $((want_full + want_slim + want_redis)) = 0 ]; then
  log "nothing to build"; exit 0
fi

if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  t=$SECONDS
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap curl >/dev/null
  took "installing mmdebstrap and curl" $t
fi

# ---------------------------------------------------------------------------------------------
# Common pieces
# ---------------------------------------------------------------------------------------------
arch=$(dpkg --print-architecture)
build_dir="$CACHE/cpython-$PYTHON_VERSION-b$CPYTHON_BUILD-$arch"   # full.tar, slim.tar, runtime-deps
src_tar="$CACHE/Python-$PYTHON_VERSION.tar.xz"
mkdir -p "$CACHE"
[ "${STANDIN_NO_CACHE:-0}" = 1 ] && rm -rf "$build_dir"

# The host's CA bundle goes in because the package index may only be reachable through a
# TLS-inspecting proxy; PIP_CERT makes pip inside builds trust it.
ca_hook=(--customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs')
# Like the official images (apt-get dist-clean): no package lists, no downloaded .debs.
clean_hook=(--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb')
# debian:trixie-slim (what python:3.13-slim starts from) is slimmed by dpkg path excludes that
# stay in the image; the same ones here.
slim_dpkg=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias')

# Images are imported under a staging name; the tags are moved only once all of them are
# built, one right after the other, so that builds never pair a new python:3.13 with an old
# python:3.13-slim (a venv made on one must run on the other).
staging() { printf 'autograde-standin-staging/%s-%s' "${1//[:\/]/_}" "$$"; }
import_image() {  # rootfs tar, tag, changes...
  local tar=$1 tag=$2; shift 2
  local changes=()
  for c in "$@" "LABEL $LABEL_KEY=$RECIPE"; do changes+=(-c "$c"); done
  docker import "${changes[@]}" -m "autograde stand-in, recipe $RECIPE" "$tar" "$(staging "$tag")" >/dev/null
  rm -f "$tar"
}
publish() {  # tag: move it to the staged image; the image it leaves is kept (see below)
  local tag=$1 old
  old=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  docker tag "$(staging "$tag")" "$tag"
  docker image rm "$(staging "$tag")" >/dev/null
  # The replaced image is left in place, untagged: a build that was already running when the
  # tag moved may still use it (Docker 20.10's BuildKit keeps resolving a local FROM to the
  # image it saw first while overlapping builds share that step, for a few minutes on a busy
  # engine). Remove it later with `docker image rm ID` once nothing uses it.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
    log "$tag replaced; the previous image ${old#sha256:} is kept untagged"
  fi
}

python_changes=(
  'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  "ENV GPG_KEY=$GPG_KEY"
  "ENV PYTHON_VERSION=$PYTHON_VERSION"
  "ENV PYTHON_SHA256=$PYTHON_SHA256"
  'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
  'CMD ["python3"]')

# ---------------------------------------------------------------------------------------------
# redis:alpine (runs in the background while Python is built)
# ---------------------------------------------------------------------------------------------
build_redis() {
  local t=$SECONDS tar="$work/redis.tar"
  # The official image drops to the redis user in its entry point, and its redis-server is
  # compiled with protected mode off (Docker publishes ports explicitly), so other containers
  # can connect without a password. Debian's binary defaults to protected mode on: a small
  # wrapper first on PATH restores the official default unless a config file sets it.
  cat >"$work/redis-server" <<'EOF'
#!/bin/sh
# Stand-in for the official image's redis-server, compiled with protected-mode off by default.
set -e
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then  # a config file (or "-" for stdin) comes first
  conf=$1; shift
  if [ "$conf" != - ] && [ -r "$conf" ] && grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$conf"; then
    exec /usr/bin/redis-server "$conf" "$@"
  fi
  exec /usr/bin/redis-server "$conf" --protected-mode no "$@"
fi
exec /usr/bin/redis-server --protected-mode no "$@"
EOF
  cat >"$work/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# first arg is `-f` or `--some-option`, or a `something.conf`: it is for redis-server
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
# started as root: hand /data to the redis user and drop to it, as the official image does
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec gosu redis "$0" "$@"
fi
# redis-server files are private to it, as in the official image
[ "$1" = redis-server ] && umask 0077
exec "$@"
EOF
  chmod 755 "$work/redis-server" "$work/docker-entrypoint.sh"
  mmdebstrap -q --variant=minbase --include=redis-server,redis-tools,gosu,ca-certificates \
    "${slim_dpkg[@]}" "${clean_hook[@]}" \
    --customize-hook="copy-in $work/redis-server $work/docker-entrypoint.sh /usr/local/bin" \
    --customize-hook='for b in redis-cli redis-benchmark redis-check-aof redis-check-rdb redis-sentinel; do
        [ -e "$1/usr/bin/$b" ] && ln -sfn "/usr/bin/$b" "$1/usr/local/bin/$b"; done; true' \
    --customize-hook='mkdir -p "$1/data" && chroot "$1" chown redis:redis /data' \
    --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Version}' redis-server >$work/redis-version" \
    "$SUITE" "$tar" "$MIRROR"
  local ver
  ver=$(cat "$work/redis-version"); ver=${ver#*:}; ver=${ver%%-*}
  import_image "$tar" "$REDIS_TAG" \
    "ENV REDIS_VERSION=$ver" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'VOLUME /data' 'WORKDIR /data' 'ENTRYPOINT ["docker-entrypoint.sh"]' 'EXPOSE 6379' \
    'CMD ["redis-server"]'
  took "$REDIS_TAG" $t
}
pids=()
if [ $want_redis = 1 ]; then build_redis & pids+=($!); fi

# ---------------------------------------------------------------------------------------------
# CPython: source, compile (once), cache
# ---------------------------------------------------------------------------------------------
fetch_source() {
  [ -s "$src_tar" ] && echo "$PYTHON_SHA256  $src_tar" | sha256sum -c --status && return 0
  local t=$SECONDS url ok=0
  for url in \
    "$MIRROR/pool/main/p/python3.13/python3.13_$PYTHON_VERSION.orig.tar.xz" \
    "https://snapshot.debian.org/archive/debian/pool/main/p/python3.13/python3.13_$PYTHON_VERSION.orig.tar.xz" \
    "https://www.python.org/ftp/python/$PYTHON_VERSION/Python-$PYTHON_VERSION.tar.xz"; do
    if curl -fsSL --retry 2 -o "$src_tar.part" "$url" 2>/dev/null \
       && echo "$PYTHON_SHA256  $src_tar.part" | sha256sum -c --status; then
      mv "$src_tar.part" "$src_tar"; ok=1; log "CPython $PYTHON_VERSION source from $url"; break
    fi
  done
  rm -f "$src_tar.part"
  [ $ok = 1 ] || { log "no source tarball for CPython $PYTHON_VERSION with SHA-256 $PYTHON_SHA256"; return 1; }
  took "downloading the CPython source" $t
}

# Runs inside the full root file system (chroot), like the official Dockerfile's build step.
cat >"$work/build-cpython.sh" <<'EOF'
set -eu
cd /usr/src
mkdir python && tar -xf Python.tar.xz -C python --strip-components=1 && rm Python.tar.xz
cd python
gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)"
# The official flags minus --enable-optimizations (PGO), --with-lto and the (disabled by
# default) experimental JIT, which would need LLVM 18: see README.md.
./configure --build="$gnuArch" --enable-loadable-sqlite-extensions --enable-option-checking=fatal \
  --enable-shared --with-ensurepip >/tmp/configure.log 2>&1 || { tail -40 /tmp/configure.log; exit 1; }
nproc="$(nproc)"
EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
arch="$(dpkg --print-architecture)"; arch="${arch##*-}"
case "$arch" in
  amd64|arm64) EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" ;;
  i386) ;;
  *) EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -fno-omit-frame-pointer" ;;
esac
make -s -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:-}" >/tmp/make.log 2>&1 \
  || { tail -60 /tmp/make.log; exit 1; }
rm python
make -s -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:--Wl},-rpath='\$\$ORIGIN/../lib'" \
  python >>/tmp/make.log 2>&1 || { tail -60 /tmp/make.log; exit 1; }
make -s install >>/tmp/make.log 2>&1 || { tail -60 /tmp/make.log; exit 1; }
bin="$(readlink -ve /usr/local/bin/python3)"
dir="$(dirname "$bin")"
mkdir -p "/usr/share/gdb/auto-load/$dir"
cp -L Tools/gdb/libpython.py "/usr/share/gdb/auto-load/$bin-gdb.py"
cd /
rm -rf /usr/src/python /tmp/configure.log /tmp/make.log
find /usr/local -depth \
  \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
     -o \( -type f -a \( -name '*.pyc' -o -name '*.pyo' -o -name 'libpython*.a' \) \) \) \
  -exec rm -rf '{}' +
for src in idle3 pip3 pydoc3 python3 python3-config; do
  dst="$(echo "$src" | tr -d 3)"
  [ -s "/usr/local/bin/$src" ]; [ ! -e "/usr/local/bin/$dst" ]
  ln -sT "$src" "/usr/local/bin/$dst"
done
ldconfig
# Runtime libraries, found as the official Dockerfile finds them (tkinter's left out).
find /usr/local -type f -executable -not \( -name '*tkinter*' \) -exec ldd '{}' ';' 2>/dev/null \
  | awk '/=>/ { so = $(NF-1); if (index(so, "/usr/local/") == 1) { next }; gsub("^/(usr/)?", "", so); printf "*%s\n", so }' \
  | sort -u | xargs -r dpkg-query --search | awk 'sub(":$", "", $1) { print $1 }' | sort -u \
  | sed 's/:.*//' >/tmp/runtime-deps
PYTHONDONTWRITEBYTECODE=1 /usr/local/bin/python3 --version
PYTHONDONTWRITEBYTECODE=1 /usr/local/bin/pip3 --version
tar -C / -cf /tmp/full.tar usr/local usr/share/gdb/auto-load/usr/local
# The official slim image links with --strip-all; same build, stripped.
mkdir /tmp/slim && tar -C /tmp/slim -xf /tmp/full.tar usr/local
find /tmp/slim/usr/local -type f -exec sh -c 'for f; do
  case "$(head -c4 "$f" | od -An -c | tr -d " ")" in *ELF*) strip --strip-all "$f" ;; esac; done' sh '{}' +
tar -C /tmp/slim -cf /tmp/slim.tar usr/local
rm -rf /tmp/slim
EOF

# ---------------------------------------------------------------------------------------------
# python:3.13 (full): buildpack-deps:trixie's packages + the official image's extra -dev ones
# ---------------------------------------------------------------------------------------------
full_pkgs=(
  # buildpack-deps:trixie-curl
  ca-certificates curl gnupg netbase sq wget
  # buildpack-deps:trixie-scm
  git mercurial openssh-client subversion procps
  # buildpack-deps:trixie
  autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file g++ gcc imagemagick libbz2-dev
  libc6-dev libcurl4-openssl-dev libdb-dev libevent-dev libffi-dev libgdbm-dev libglib2.0-dev
  libgmp-dev libjpeg-dev libkrb5-dev liblzma-dev libmagickcore-dev libmagickwand-dev
  libmaxminddb-dev libncurses-dev libpng-dev libpq-dev libreadline-dev libsqlite3-dev libssl-dev
  libtool libwebp-dev libxml2-dev libxslt1-dev libyaml-dev make patch unzip xz-utils zlib1g-dev
  # python:3.13 (trixie)
  libbluetooth-dev tk-dev uuid-dev
)
full_pkgs_csv=$(IFS=,; echo "${full_pkgs[*]}")
compiled=0; [ -s "$build_dir/full.tar" ] && [ -s "$build_dir/slim.tar" ] && [ -s "$build_dir/runtime-deps" ] && compiled=1

build_full() {  # also compiles CPython when the cache has no build
  local t=$SECONDS tar="$work/full.tar" hooks=()
  if [ $compiled = 1 ]; then
    log "CPython $PYTHON_VERSION: cached build $build_dir"
    hooks=(--customize-hook="tar-in $build_dir/full.tar /" --customize-hook='chroot "$1" ldconfig')
  else
    fetch_source
    cp "$src_tar" "$work/Python.tar.xz"
    mkdir -p "$work/out"
    hooks=(
      --customize-hook="copy-in $work/build-cpython.sh $work/Python.tar.xz /usr/src"
      --customize-hook='echo "[standin-images] compiling CPython (no PGO/LTO)..."; s=$(date +%s);
          chroot "$1" sh /usr/src/build-cpython.sh && rm -f "$1/usr/src/build-cpython.sh";
          echo "[standin-images] CPython compiled and installed in $(( $(date +%s) - s )) s"'
      --customize-hook="copy-out /tmp/full.tar /tmp/slim.tar /tmp/runtime-deps $work/out"
      --customize-hook='rm -f "$1"/tmp/full.tar "$1"/tmp/slim.tar "$1"/tmp/runtime-deps')
  fi
  mmdebstrap -q --variant=minbase --include="$full_pkgs_csv" "${ca_hook[@]}" "${hooks[@]}" \
    "${clean_hook[@]}" "$SUITE" "$tar" "$MIRROR"
  if [ $compiled = 0 ]; then
    rm -rf "$build_dir.part"; mkdir -p "$build_dir.part"
    mv "$work/out/full.tar" "$work/out/slim.tar" "$work/out/runtime-deps" "$build_dir.part/"
    rm -rf "$build_dir"; mv "$build_dir.part" "$build_dir"; compiled=1
    log "CPython build cached in $build_dir"
  fi
  if [ $want_full = 1 ]; then
    import_image "$tar" "$FULL_TAG" "${python_changes[@]}"
    took "$FULL_TAG" $t
  fi
}

# ---------------------------------------------------------------------------------------------
# python:3.13-slim: slimmed minbase + what debian:trixie-slim has beyond it (adduser) +
# ca-certificates, netbase, tzdata + CPython's runtime libs: the official 3.13-slim package list
# ---------------------------------------------------------------------------------------------
build_slim() {
  local t=$SECONDS tar="$work/slim.tar" deps
  deps=$(paste -sd, "$build_dir/runtime-deps")
  # Every shared library /usr/local needs must resolve (tkinter aside, as in the official image).
  cat >"$work/check-libs.sh" <<'EOF'
missing=$(find /usr/local -type f -executable -not -name '*tkinter*' -exec ldd '{}' ';' 2>/dev/null | grep 'not found' | sort -u)
[ -z "$missing" ] || { echo "[standin-images] slim: missing libraries: $missing"; exit 1; }
EOF
  mmdebstrap -q --variant=minbase --include="adduser,ca-certificates,netbase,tzdata,$deps" \
    "${slim_dpkg[@]}" "${ca_hook[@]}" \
    --customize-hook="tar-in $build_dir/slim.tar /" --customize-hook='chroot "$1" ldconfig' \
    --customize-hook="copy-in $work/check-libs.sh /tmp" \
    --customize-hook='chroot "$1" sh /tmp/check-libs.sh && rm -f "$1/tmp/check-libs.sh"' \
    "${clean_hook[@]}" "$SUITE" "$tar" "$MIRROR"
  import_image "$tar" "$SLIM_TAG" "${python_changes[@]}"
  took "$SLIM_TAG" $t
}

fail=0
if [ $compiled = 1 ]; then
  if [ $want_slim = 1 ]; then build_slim & pids+=($!); fi
  if [ $want_full = 1 ]; then build_full & pids+=($!); fi
else
  # CPython is compiled inside the full root file system; slim takes the result.
  ( build_full && { [ $want_slim = 0 ] || build_slim; } ) & pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
if [ "$fail" != 0 ]; then
  for tag in "$FULL_TAG" "$SLIM_TAG" "$REDIS_TAG"; do docker image rm "$(staging "$tag")" >/dev/null 2>&1 || true; done
  log "a stand-in image failed; no tag was changed"; exit 1
fi
if [ $want_full = 1 ]; then publish "$FULL_TAG"; fi
if [ $want_slim = 1 ]; then publish "$SLIM_TAG"; fi
if [ $want_redis = 1 ]; then publish "$REDIS_TAG"; fi
took "all stand-ins" $T0
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
  | grep -E "^(${PREFIX//./\\.})(python:3\.13|python:3\.13-slim|redis:alpine) " || true
