#!/usr/bin/env bash
# Creates .venv with Akhbar and its test tools. It installs only when pyproject.toml (or this
# script) changed since the last successful install, whose hash .venv/akhbar-installed.sha256
# keeps; otherwise it does nothing, quietly, and needs no network. AKHBAR_REINSTALL=1 forces it.
# AKHBAR_EXTRAS chooses the extras (default "test"); empty installs the bot alone, as the
# Dockerfile does: the test tools would cost every process memory (httpx loads click and rich
# whenever they are installed).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
extras="${AKHBAR_EXTRAS-test}"
stamp=.venv/akhbar-installed.sha256
wanted="$( (cat pyproject.toml scripts/setup-venv.sh; echo "$extras") | sha256sum | cut -d ' ' -f 1)"
if [ -x .venv/bin/python ] && [ -z "${AKHBAR_REINSTALL:-}" ] \
  && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
rm -f "$stamp"
if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"; then
  echo "scripts/setup-venv.sh: installing Akhbar into .venv failed (see above);" \
    "it is retried on the next call" >&2
  exit 1
fi
echo "$wanted" > "$stamp"
