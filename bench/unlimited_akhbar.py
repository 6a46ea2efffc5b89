"""`akhbar` with the overall send rate lifted past what `[delivery]` accepts: benchmarks only.

    python -m bench.unlimited_akhbar --config CONFIG run

`[delivery] overall_per_second` stops at 1,000 (Telegram's paid-broadcast limit), so no config
file runs `akhbar run` without a rate limit. This reads the config as `akhbar` does, then sets
the rate above `bot.delivery.budget.UNLIMITED_ABOVE`, as bench.broadcast does for the engine
alone: no send slots are drawn, and the requests in flight stop at `[delivery] concurrency`.
Everything else is the product's own `akhbar` command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot import cli
from bot.config import Config
from bot.delivery.budget import UNLIMITED_ABOVE
from bot.ptb import sender_process

UNLIMITED = 100 * UNLIMITED_ABOVE
_read = cli.load_config
_deliver = sender_process.deliver_command


def _unlimited(path: Path, environ: dict[str, str] | None = None) -> Config:
    """The config at `path` with no overall rate (model_copy does not validate)."""
    config = _read(path, environ)
    delivery = config.delivery.model_copy(update={"overall_per_second": UNLIMITED})
    return config.model_copy(update={"delivery": delivery})


def _deliver_unlimited(config_path: Path, worker_id: str) -> list[str]:
    """`akhbar run`'s sending process, through this module too."""
    command = _deliver(config_path, worker_id)
    return [sys.executable, "-m", __spec__.name, *command[3:]]


if __name__ == "__main__":
    cli.load_config = _unlimited
    sender_process.deliver_command = _deliver_unlimited
    sys.exit(cli.main())
