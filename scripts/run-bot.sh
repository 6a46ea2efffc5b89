#!/usr/bin/env bash
# Sets up .venv if needed (silently and offline when pyproject.toml has not changed), then runs
# the bot with ./config.toml (the token comes from TELEGRAM_BOT_TOKEN). The database and the
# shipped sample news are created on first start.
# Without a token it starts the sandbox instead: the same bot against a local Telegram
# emulator, with a web chat to try it in.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
config="${AKHBAR_CONFIG:-config.toml}"
if [ -z "${TELEGRAM_BOT_TOKEN:-}" ]; then
  port="${AKHBAR_SANDBOX_PORT:-8765}"
  echo "No TELEGRAM_BOT_TOKEN: starting the sandbox (Telegram simulated locally) at http://127.0.0.1:${port}/" >&2
  exec .venv/bin/akhbar --config "$config" sandbox --port "$port" "$@"
fi
exec .venv/bin/akhbar --config "$config" run "$@"
