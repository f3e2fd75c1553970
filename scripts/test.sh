#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite, lint and types included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy
# The browser client: TypeScript in JSDoc mode and ESLint, both pinned in package-lock.json.
npx --no-install tsc -p tsconfig.json
npx --no-install eslint web/static/js
exec .venv/bin/pytest "$@"
