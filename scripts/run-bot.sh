#!/usr/bin/env bash
# Sets up .venv if needed (silently and offline when pyproject.toml has not changed), then runs
# the bot with ./config.toml (the token comes from TELEGRAM_BOT_TOKEN). The database and the
# shipped sample news are created on first start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
exec .venv/bin/akhbar --config "${AKHBAR_CONFIG:-config.toml}" run "$@"
