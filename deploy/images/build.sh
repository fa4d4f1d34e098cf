#!/usr/bin/env bash
# `make images`: every image docker-compose.yaml needs, built offline from what a county's
# intranet mirror holds — Debian's packages (an mmdebstrap root per service, `docker import`ed)
# and wheels of the lock built on this host (`pip wheel`). Nothing is downloaded inside
# `docker build`: the project's image installs from the wheelhouse with `pip --no-index`.
#
#   deploy/images/build.sh [--save FILE]
#
# Environment: FUPIN_IMAGE_CACHE (default ~/.cache/fupin-images) keeps the Debian packages and
# the wheels between builds; DEBIAN_MIRROR (default http://deb.debian.org/debian, an intranet
# mirror on site); PYTHON (default .venv/bin/python, the Python the lock was frozen on).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE=${FUPIN_IMAGE_CACHE:-$HOME/.cache/fupin-images}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}
PYTHON=${PYTHON:-.venv/bin/python}
SAVE=
[[ "${1:-}" == "--save" ]] && SAVE=${2:?--save needs a file name}
mkdir -p "$CACHE/debs" "$CACHE/roots" "$CACHE/wheelhouse" build

command -v docker >/dev/null || { echo "docker missing: apt-get install docker.io, then start dockerd as root" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers: start one as root (dockerd &)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "mmdebstrap missing: apt-get install mmdebstrap" >&2; exit 1; }

say() { printf '%s images: %s\n' "$(date +%T)" "$*" >&2; }

# rootfs NAME "PACKAGES" — a Debian bookworm root with those packages, as a tarball. Rebuilt
# only when its package list changes; the .debs are kept in the cache so that a rebuild (or a
# second image) downloads nothing again.
rootfs() {
  local name=$1 packages=$2
  local key; key=$(printf "%s|%s" "$packages" "$MIRROR" | sha256sum | cut -c1-12)
  local out="$CACHE/roots/$name-$key.tar"
  if [[ ! -s "$out" ]]; then
    say "rootfs $name ($packages)"
    mmdebstrap --quiet --mode=root --variant=minbase --format=tar \
      --include="$packages" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --skip=download/empty \
      --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\" && find '$CACHE/debs' -name '*.deb' -exec cp -t \"\$1/var/cache/apt/archives/\" {} +" \
      --customize-hook="cp -n \"\$1\"/var/cache/apt/archives/*.deb '$CACHE/debs/' 2>/dev/null || true" \
      --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
      bookworm "$out.tmp" \
      "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" "deb $SECURITY bookworm-security main"
    mv "$out.tmp" "$out"
    find "$CACHE/roots" -name "$name-*.tar" ! -name "$name-$key.tar" -delete
  fi
  echo "$out"
}

# import NAME:TAG TARBALL [--change ...] — a root as an image, unless that root is already it
import() {
  local tag=$1 tar=$2; shift 2
  local label; label=$(basename "$tar" .tar)
  if [[ "$(docker image inspect -f '{{index .Config.Labels "fupin.root"}}' "$tag" 2>/dev/null)" == "$label" ]]; then
    return
  fi
  say "import $tag"
  docker import --change "LABEL fupin.root=$label" "$@" "$tar" "$tag" >/dev/null
}

# --- the Python runtime with the official Airflow image's contract -------------------------
# (dumb-init as PID 1, /entrypoint running `airflow <cmd>`, user airflow 50000:0, AIRFLOW_HOME
# /opt/airflow), so docker-compose.yaml runs on either image unchanged.
tar=$(rootfs airflow-runtime "python3.11,python3.11-venv,dumb-init,fonts-noto-cjk,curl,ca-certificates,tzdata,procps,libstdc++6,libgomp1")
import fupin/airflow-runtime:3.11-bookworm "$tar" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'

# --- PostgreSQL, Redis, Samba, the mail sink: Debian's own builds ---------------------------
import fupin/postgres:15-bookworm "$(rootfs postgres 'postgresql-15,tzdata')" \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data'
import fupin/redis:7.0-bookworm "$(rootfs redis 'redis-server')" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /var/lib/redis' --change 'USER redis' --change 'CMD ["redis-server"]'
import fupin/samba-runtime:4.17-bookworm "$(rootfs samba 'samba,tdb-tools,tini')" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'
import fupin/mailsink-runtime:bookworm "$(rootfs mailsink 'python3-aiosmtpd,tini')" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'

# --- wheels of the lock (and the project), for `pip install --no-index` in docker build ------
say "wheels of requirements.txt"
"$PYTHON" -m pip wheel --quiet --wheel-dir "$CACHE/wheelhouse" --find-links "$CACHE/wheelhouse" -r requirements.txt
# pins for other Pythons than this one (Debian's 3.11.2 needs async-timeout, 3.11.7 does not):
# their wheels too, whatever this host's markers say
grep ';' requirements.txt | sed 's/ *;.*//' | xargs -r "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$CACHE/wheelhouse"
rm -rf build/wheelhouse && mkdir -p build/wheelhouse
cp -l "$CACHE"/wheelhouse/*.whl build/wheelhouse/ 2>/dev/null || cp "$CACHE"/wheelhouse/*.whl build/wheelhouse/
say "the project's wheel"
rm -rf build/project && mkdir -p build/project
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir build/project .

# --- the images docker-compose.yaml runs ----------------------------------------------------
say "build the service images"
docker build --quiet --force-rm -t fupin/postgres:offline -f deploy/images/postgres.Dockerfile deploy/images >/dev/null
docker build --quiet --force-rm -t fupin/redis:offline -f deploy/images/redis.Dockerfile deploy/images >/dev/null
docker build --quiet --force-rm -t fupin/samba:offline -f deploy/images/samba.Dockerfile deploy/images >/dev/null
docker build --quiet --force-rm -t fupin/mailsink:offline -f deploy/images/mailsink.Dockerfile . >/dev/null
docker build --quiet --force-rm -t fupin/airflow-base:offline -f deploy/images/airflow.Dockerfile deploy/images >/dev/null
say "build fupin-airflow:local on the offline runtime"
docker build --quiet --force-rm -t fupin-airflow:local --build-arg AIRFLOW_IMAGE=fupin/airflow-base:offline . >/dev/null

IMAGES=(fupin-airflow:local fupin/postgres:offline fupin/redis:offline fupin/samba:offline fupin/mailsink:offline)
cat > build/offline.env <<ENV
# the offline images (make images): append to .env on an intranet server
FUPIN_IMAGE=fupin-airflow:local
AIRFLOW_BASE_IMAGE=fupin/airflow-base:offline
POSTGRES_IMAGE=fupin/postgres:offline
REDIS_IMAGE=fupin/redis:offline
SAMBA_IMAGE=fupin/samba:offline
MAIL_IMAGE=fupin/mailsink:offline
ENV
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(fupin)' | sort
if [[ -n "$SAVE" ]]; then
  say "save ${IMAGES[*]} to $SAVE"
  docker save "${IMAGES[@]}" | gzip -1 > "$SAVE.tmp" && mv "$SAVE.tmp" "$SAVE"
  ls -l "$SAVE"
fi
say "done (image variables in build/offline.env)"
