"""The `akhbar` command run as a real process, and what it wrote."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Finished:
    """A finished `akhbar` process: its exit code and both outputs, decoded."""

    returncode: int
    out: str
    err: str


def write_config(tmp_path: Path, feed_url: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        f'[[sources]]\nname = "local"\nurl = "{feed_url}"\ntopics = ["maroc"]\n{extra}',
        encoding="utf-8",
    )
    return config


async def akhbar(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """Start `python -m bot ARGS` with the test's environment plus `env`."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def run_akhbar(*args: str, env: dict[str, str] | None = None) -> Finished:
    """Run `akhbar ARGS` to its end (a minute at most) and return what it did."""
    process = await akhbar(*args, env=env)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())
