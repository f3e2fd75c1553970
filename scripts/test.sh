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
# Tests that carry media, browsers, network labs or timing run one at a time: their
# figures are the machine's. The rest (HTTP, signalling, storage, domain) run on two
# processes, which halves their wall time on two cores.
serial=(tests/e2e tests/reach tests/system tests/media tests/hardening)
.venv/bin/pytest -n 2 "${serial[@]/#/--ignore=}"
exec .venv/bin/pytest "${serial[@]}"
