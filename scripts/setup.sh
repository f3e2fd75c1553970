#!/usr/bin/env bash
# Install what Caucus needs, idempotently: `setup.sh` for the server,
# `setup.sh --dev` for the test suite too (apt packages only when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

apt_packages=()
need() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }
need python3.11 python3.11
need npm npm
# the forwarded copy's send path in C (setup.py): optional, but built where it can be
need gcc gcc
[ -e /usr/include/python3.11/Python.h ] || apt_packages+=(python3.11-dev)
# the logbook's PDF draws every script with DejaVu Sans (without it: Latin-1 only)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_packages+=(fonts-dejavu-core)
if [ "$dev" = 1 ]; then
  need chromium chromium
  need redis-server redis-server
  need ffprobe ffmpeg
  # reach tests: TURN relay, firewalls and NAT in network namespaces, a second browser
  need turnserver coturn
  need nft nftables
  need ip iproute2
  need janus janus
  need firefox-esr firefox-esr
  # the programme's browser test renders the logbook PDF to an image and reads it by OCR
  need pdftoppm poppler-utils
  need tesseract tesseract-ocr
  compgen -G "/usr/share/tesseract-ocr/*/tessdata/eng.traineddata" >/dev/null || apt_packages+=(tesseract-ocr-eng)
  # storage tests run on SQLite and on a real PostgreSQL cluster the tests start
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_packages+=(postgresql)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  echo "installing ${apt_packages[*]} with apt-get" >&2
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

lock=requirements.lock
[ "$dev" = 1 ] && lock=requirements-dev.lock
stamp=".venv/.installed-$(sha256sum "$lock" pyproject.toml setup.py media/aiortc_internals/_*.[ch] | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3.11 -m venv .venv
  pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
  # uv installs the same pinned, hashed set in seconds where pip takes a minute;
  # pip does it where uv cannot (e.g. a machine whose only index is pip's own config)
  uv=(env VIRTUAL_ENV=.venv .venv/bin/uv pip install -q)
  if ! { "${pip[@]}" uv==0.13.9 && "${uv[@]}" --require-hashes -r "$lock" && "${uv[@]}" --no-deps -e .; }; then
    echo "uv could not install $lock: installing with pip" >&2
    "${pip[@]}" --require-hashes -r "$lock"
    "${pip[@]}" --no-deps -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The Socket.IO browser client, pinned by package-lock.json, served from node_modules;
# with --dev also TypeScript, ESLint and puppeteer-core (the Firefox driver).
npm_stamp="node_modules/.installed-$dev-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$npm_stamp" ]; then
  if [ "$dev" = 1 ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm ci --omit=dev --no-audit --no-fund --loglevel=error
  fi
  touch "$npm_stamp"
fi
