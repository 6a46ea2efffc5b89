#!/usr/bin/env bash
# Sets up .venv if needed, checks lint, format and the import layers, then runs every test,
# one worker per core (most tests wait on sockets and subprocesses; `-n 0` runs them in one).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -n auto "$@"
