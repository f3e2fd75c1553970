#!/usr/bin/env bash
# Set up and run the server on embedded defaults (127.0.0.1:8080, SQLite in
# ./data) and print join links for a demo simulation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/caucus serve --demo "$@"
