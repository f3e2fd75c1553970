#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite, lint and types included.
# With arguments, they go to one pytest run as given (e.g. a file or -k).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy
# The browser client: TypeScript in JSDoc mode and ESLint, both pinned in package-lock.json.
npx --no-install tsc -p tsconfig.json
npx --no-install eslint web/static/js
if [ "$#" -gt 0 ]; then
  exec .venv/bin/pytest "$@"
fi
# Tests marked `quiet` (tests/conftest.py: they carry real-time media, build a network
# lab or measure time) run one at a time: their figures are the machine's. The rest
# (HTTP, signalling, storage, domain, browser pages without media) run on three
# processes: much of their time is spent waiting on a subprocess (a server, PostgreSQL,
# a browser), so a third process on two cores took this part from 700 s to 600 s.
# Both parts run whatever the first one's outcome; the command fails if either does.
status=0
.venv/bin/pytest -n 3 -m "not quiet" || status=$?
.venv/bin/pytest -m quiet || status=$?
exit "$status"
