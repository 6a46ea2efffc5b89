"""The operator's `akhbar` command as a real process, and a config file for it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


def write_config(tmp_path: Path, feed_url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        f'[[sources]]\nname = "local"\nurl = "{feed_url}"\ntopics = ["maroc"]\n',
        encoding="utf-8",
    )
    return config


async def akhbar(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
