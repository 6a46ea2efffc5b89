"""Broadcast through `akhbar run`: one process on SQLite beside 1, 2 and 3 on one PostgreSQL.

    python -m bench.multiprocess [--messages 20000] [--limits off on] [--processes 1 2 3]
                                 [--no-sqlite] [--delay 0.05] [--url postgresql://…]

One message to each of N private chats, queued before the processes start, then drained by one
`akhbar run` on a SQLite file and by 1, 2 and 3 on one PostgreSQL database, against the Bot API
emulator in this process, which answers every call after `--delay` (50 ms: a round trip).
- limits off: the emulator's flood limits off, and the bot's overall rate lifted past what
  `[delivery]` accepts (at most 1,000/s) by bench.unlimited_akhbar, a benchmark-only override
  of that one value: no config file runs the bot without a rate limit.
- limits on: the paid-broadcast limit, `overall_per_second = 1000`, with the emulator's flood
  limits on at 1,000/s overall (429 above it).
Reported: messages per second at the emulator from the first accepted send to the last, the
most in any one second, 429 answers, second copies, and each process's peak RSS (VmHWM).
`--url` names a server where databases may be created; without it a throwaway cluster is
started (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from bisect import bisect_right
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.timing import as_the_bot, steady_emulator

TOKEN = "123456:BENCH-token"
RATE = 1000.0  # the paid-broadcast limit: the most [delivery] accepts
RESULTS_FILE = Path(__file__).parent / "multiprocess_results.md"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Setup:
    """One run: which database, how many processes, and whether the limits are on."""

    engine: str  # "sqlite" | "postgresql"
    processes: int
    limited: bool

    @property
    def name(self) -> str:
        return f"{'SQLite' if self.engine == 'sqlite' else 'PostgreSQL'} × {self.processes}"


async def _queue(location: str, messages: int) -> None:
    from bot.clock import utc_now
    from bot.delivery.outbox import Outbox, OutboxSettings
    from bot.models import OutgoingMessage
    from bot.reading import search_text
    from storage import database

    db = await database.connect(location, index_terms=search_text.index_text)
    try:
        outbox = Outbox(db, clock=utc_now, settings=OutboxSettings())
        await outbox.enqueue(
            OutgoingMessage(f"bench:{chat}", chat, ("<b>نشرة اليوم</b>\n1. خبر",))
            for chat in range(1, messages + 1)
        )
        await db.commit()
    finally:
        await db.close()


@asynccontextmanager
async def _database(server, engine: str, folder: Path) -> AsyncIterator[tuple[str, str]]:
    """A fresh database: its location, and the `[storage]` line naming it."""
    if engine == "sqlite":
        path = folder / "bench.sqlite3"
        yield str(path), f'path = "{path}"'
        return
    name = await server.create_database()
    try:
        url = server.database_url(name)
        yield url, f'url = "{url}"'
    finally:
        await server.drop_database(name)


def _config(folder: Path, storage: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f"[storage]\n{storage}\n[bot]\nload_sample_news = false\n[http]\nenabled = false\n"
        f"[delivery]\noverall_per_second = {RATE}\npaid_broadcast = true\n",
        encoding="utf-8",
    )
    return config


async def _start(config: Path, env: dict[str, str], limited: bool) -> asyncio.subprocess.Process:
    command = "bot" if limited else "bench.unlimited_akhbar"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", command, "--config", str(config), "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    as_the_bot(process.pid)
    return process


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


async def _drain(emulator, config: Path, setup: Setup, messages: int) -> list[float]:
    """Start the processes, wait until every message is accepted; their peak RSS in MB."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    # Counted as calls arrive: the emulator's wait_for rescans its whole log.
    accepted, done = 0, asyncio.Event()

    def count(call) -> None:
        nonlocal accepted
        accepted += call.method == "sendMessage" and call.is_ok
        if accepted >= messages:
            done.set()

    emulator.on_call(count)
    started = [await _start(config, env, setup.limited) for _ in range(setup.processes)]
    try:
        async with asyncio.timeout(600):
            await done.wait()
        return [_peak_rss_mb(process.pid) for process in started]
    finally:
        for process in started:
            process.terminate()
        await asyncio.gather(*(process.wait() for process in started))


async def run(server, setup: Setup, messages: int, delay: float) -> dict:
    """One broadcast of `messages` by `setup` on a fresh database."""
    from emulator import BotApiEmulator
    from emulator.faults import FloodLimiter

    with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as folder:
        async with _database(server, setup.engine, Path(folder)) as (location, storage):
            await _queue(location, messages)
            async with BotApiEmulator(
                TOKEN, keep_messages=False, auto_create_chats=True,
                max_logged_requests=4 * messages,
            ) as emulator:  # fmt: skip
                emulator.delay = delay
                emulator.api.flood = FloodLimiter(overall_per_second=int(RATE))
                emulator.enforce_flood_limits = setup.limited
                config = _config(Path(folder), storage)
                with steady_emulator():
                    rss = await _drain(emulator, config, setup, messages)
                calls = [c for c in emulator.requests if c.method == "sendMessage"]
    return _measured(calls) | {"setup": setup, "peak_rss_mb": rss}


def _measured(calls: list) -> dict:
    ok = sorted(c.at for c in calls if c.is_ok)
    copies = Counter(str(c.params["chat_id"]) for c in calls if c.is_ok)
    return {
        "sent": len(copies),
        "seconds": ok[-1] - ok[0],
        "rate": (len(ok) - 1) / (ok[-1] - ok[0]),
        "max_in_1s": max(bisect_right(ok, t + 1.0) - i for i, t in enumerate(ok)),
        "refused_429": sum(1 for c in calls if c.status == 429),
        "second_copies": sum(n - 1 for n in copies.values()),
    }


HEADER = (
    "| limits | database × processes | messages | seconds | msg/s | vs 1,000/s | most in 1 s |"
    " 429s | second copies | peak RSS MB, each process |\n|---|---|---|---|---|---|---|---|---|---|"
)


def _row(r: dict) -> str:
    setup = r["setup"]
    versus = f"{(r['rate'] / RATE - 1) * 100:+.1f} %" if setup.limited else "—"
    rss = ", ".join(f"{mb:.0f}" for mb in r["peak_rss_mb"])
    return (
        f"| {'paid, 1,000/s' if setup.limited else 'off'} | {setup.name} | {r['sent']:,} |"
        f" {r['seconds']:.1f} | **{r['rate']:,.0f}** | {versus} | {r['max_in_1s']:,} |"
        f" {r['refused_429']} | {r['second_copies']} | {rss} |"
    )


def _setups(args: argparse.Namespace) -> list[Setup]:
    setups = []
    for limited in (limits == "on" for limits in args.limits):
        if not args.no_sqlite:
            setups.append(Setup("sqlite", 1, limited))
        setups += [Setup("postgresql", n, limited) for n in args.processes]
    return setups


async def _main(args: argparse.Namespace) -> None:
    from bench.postgres_server import bench_server
    from bench.report import ResultsFile

    out = ResultsFile(__doc__.split("\n\n", 2)[2])
    with bench_server(args.url) as server:
        delay_ms = args.delay * 1000
        out.add(f"{args.messages:,} messages, the emulator answering after {delay_ms:.0f} ms.")
        out.add("")
        out.add(HEADER)
        for setup in _setups(args):
            out.add(_row(await run(server, setup, args.messages, args.delay)))
    out.write(args.out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--limits", choices=["off", "on"], nargs="+", default=["off", "on"])
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL runs only")
    parser.add_argument("--delay", type=float, default=0.05, help="the emulator's answer delay")
    parser.add_argument("--url", help="a PostgreSQL server URL allowed to create databases")
    parser.add_argument("--out", type=Path, default=RESULTS_FILE)
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
