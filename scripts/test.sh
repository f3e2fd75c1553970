#!/usr/bin/env bash
# Set up everything the tests need and run the whole suite, lint and types included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
