"""Broadcast benchmark: one digest to many subscribers through the real engine, against the
Bot API emulator, next to a naive loop awaiting `bot.send_message` per subscriber.

    python -m bench.broadcast [--quick] [--out bench/broadcast_results.md]

Every scenario runs in a fresh process (so peak RSS is its own); the emulator runs in a child
process of it ("separate") or in its event loop ("same loop"). Results go to a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from multiprocessing.connection import Connection
from pathlib import Path

TOKEN = "123456:BENCH-token"
DIGEST = "<b>نشرة اليوم</b>\n1. خبر أول\n2. خبر ثان\n3. خبر ثالث"
UNLIMITED = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    engine: str  # "outbox" | "naive"
    subscribers: int
    delay: float
    emulator: str = "separate"  # "separate" | "same loop"
    parts: int = 1
    paced: bool = False
    extrapolated_to: int | None = None
    concurrency: int = 96


def scenarios(quick: bool) -> list[Scenario]:
    """What to run: full sizes, or a short smoke run with --quick."""
    if quick:
        return [
            Scenario("outbox, no delay", "outbox", 5_000, 0.0),
            Scenario("outbox, 50 ms", "outbox", 5_000, 0.05),
            Scenario("naive loop, no delay", "naive", 1_000, 0.0),
            Scenario("naive loop, 50 ms", "naive", 100, 0.05, extrapolated_to=5_000),
            Scenario("outbox 30/s, flood limits on", "outbox", 150, 0.0, parts=3, paced=True),
        ]
    return [
        Scenario("outbox, no delay", "outbox", 10_000, 0.0),
        Scenario("outbox, no delay", "outbox", 100_000, 0.0),
        Scenario("outbox, no delay", "outbox", 100_000, 0.0, emulator="same loop"),
        Scenario("outbox, 50 ms", "outbox", 10_000, 0.05),
        Scenario("outbox, 50 ms", "outbox", 100_000, 0.05),
        Scenario("outbox, 50 ms", "outbox", 100_000, 0.05, emulator="same loop"),
        Scenario("naive loop, no delay", "naive", 10_000, 0.0, extrapolated_to=100_000),
        Scenario("naive loop, 50 ms", "naive", 1_000, 0.05, extrapolated_to=100_000),
        Scenario("outbox 30/s, flood limits on", "outbox", 1_200, 0.0, parts=3, paced=True),
    ]


# The emulator, in this process or a child


def _emulator(delay: float, paced: bool, subscribers: int):
    from emulator import BotApiEmulator

    logged = subscribers * 4 if paced else 1000
    emulator = BotApiEmulator(
        TOKEN, keep_messages=False, auto_create_chats=True, max_logged_requests=logged
    )
    emulator.delay = delay
    emulator.enforce_flood_limits = paced
    return emulator


def _observations(emulator, subscribers: int) -> dict:
    calls = [c for c in emulator.requests if c.method == "sendMessage"]
    ok = [c.at for c in calls if c.is_ok]
    gaps = [
        min((b - a for a, b in pairwise(emulator.send_times(chat))), default=None)
        for chat in range(1, subscribers + 1)
    ] if len(calls) < 50_000 else []  # fmt: skip
    known_gaps = [g for g in gaps if g is not None]
    return {
        "sent": emulator.sent_count(),
        "refused_429": sum(1 for c in calls if c.status == 429),
        "server_rate": (len(ok) - 1) / (ok[-1] - ok[0]) if len(ok) > 1 else None,
        "min_chat_gap": min(known_gaps) if known_gaps else None,
    }


def _serve_emulator(conn: Connection, delay: float, paced: bool, subscribers: int) -> None:
    async def serve() -> None:
        async with _emulator(delay, paced, subscribers) as emulator:
            conn.send(emulator.base_url)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)
            conn.send(_observations(emulator, subscribers))

    asyncio.run(serve())


class _ChildEmulator:
    def __init__(self, delay: float, paced: bool, subscribers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_emulator, args=(child, delay, paced, subscribers), daemon=True
        )

    async def __aenter__(self) -> _ChildEmulator:
        self._process.start()
        self.base_url = await asyncio.to_thread(self._conn.recv)
        return self

    async def observations(self) -> dict:
        self._conn.send("report")
        return await asyncio.to_thread(self._conn.recv)

    async def __aexit__(self, *exc: object) -> None:
        self._process.join(timeout=30)


class _LocalEmulator:
    def __init__(self, delay: float, paced: bool, subscribers: int) -> None:
        self._emulator = _emulator(delay, paced, subscribers)
        self._subscribers = subscribers

    async def __aenter__(self) -> _LocalEmulator:
        await self._emulator.start()
        self.base_url = self._emulator.base_url
        return self

    async def observations(self) -> dict:
        return _observations(self._emulator, self._subscribers)

    async def __aexit__(self, *exc: object) -> None:
        await self._emulator.stop()


# The two senders


class _NoEvents:
    async def chat_unreachable(self, chat_id: int, reason: str) -> None:
        print(f"unreachable {chat_id}: {reason}", file=sys.stderr)

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        pass


async def _run_outbox(scenario: Scenario, base_url: str, folder: Path) -> dict:
    from bot.clock import utc_now
    from bot.delivery.outbox import Outbox, OutboxSettings
    from bot.models import OutgoingMessage
    from bot.ptb.delivery import open_delivery
    from bot.reading import search_text
    from storage import database

    if scenario.paced:
        settings = OutboxSettings()  # Telegram's limits: 30/s, 1 s per chat
    else:
        settings = OutboxSettings(
            overall_per_second=UNLIMITED, concurrency=scenario.concurrency, claim_batch=1000
        )
    path = folder / "bench.sqlite3"
    db = await database.connect(path, index_terms=search_text.index_text)
    parts = tuple(f"{DIGEST}\n({n + 1}/{scenario.parts})" for n in range(scenario.parts))
    started = time.perf_counter()
    outbox = Outbox(db, clock=utc_now, settings=settings)
    await outbox.enqueue(
        OutgoingMessage(f"digest:1:{chat}", chat, parts)
        for chat in range(1, scenario.subscribers + 1)
    )
    await db.commit()
    enqueued = time.perf_counter() - started
    handle = await open_delivery(
        token=TOKEN,
        base_url=base_url,
        db_path=path,
        events=_NoEvents(),
        settings=settings,
        clock=utc_now,
    )
    started = time.perf_counter()
    await handle.drain(timeout=3600)
    elapsed = time.perf_counter() - started
    await handle.stop()
    stats = await outbox.stats()
    await db.close()
    messages = scenario.subscribers * scenario.parts
    return {
        "messages": messages,
        "seconds": elapsed,
        "rate": messages / elapsed,
        "enqueue_seconds": enqueued,
        "failed": stats.failed,
        "stats_rate": stats.last_rate,
    }


async def _run_naive(scenario: Scenario, base_url: str) -> dict:
    from telegram import Bot

    async with Bot(TOKEN, base_url=base_url) as bot:
        started = time.perf_counter()
        for chat in range(1, scenario.subscribers + 1):
            await bot.send_message(chat, DIGEST, parse_mode="HTML")
        elapsed = time.perf_counter() - started
    return {
        "messages": scenario.subscribers,
        "seconds": elapsed,
        "rate": scenario.subscribers / elapsed,
    }


async def run_scenario(scenario: Scenario) -> dict:
    """Run one scenario in this process and return its measurements."""
    kind = _ChildEmulator if scenario.emulator == "separate" else _LocalEmulator
    async with kind(scenario.delay, scenario.paced, scenario.subscribers) as emulator:
        with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as folder:
            if scenario.engine == "outbox":
                result = await _run_outbox(scenario, emulator.base_url, Path(folder))
            else:
                result = await _run_naive(scenario, emulator.base_url)
        result |= await emulator.observations()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# Orchestration


def _in_fresh_process(scenario: Scenario) -> dict:
    spec = json.dumps(_fields(scenario))
    done = subprocess.run(
        [sys.executable, "-m", "bench.broadcast", "--scenario", spec],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fields(scenario: Scenario) -> dict:
    return {name: getattr(scenario, name) for name in Scenario.__dataclass_fields__}


def _row(scenario: Scenario, result: dict) -> str:
    rate = result["rate"]
    if scenario.extrapolated_to:
        total = scenario.extrapolated_to / rate
        size = f"{scenario.subscribers:,} (→ {scenario.extrapolated_to:,}: {total / 60:,.1f} min)"
    else:
        size = f"{scenario.subscribers:,}"
    notes = []
    if scenario.paced:
        server = result.get("server_rate")
        gap = result.get("min_chat_gap")
        notes.append(f"rate at emulator {server:.2f}/s ({(server / 30 - 1) * 100:+.1f}% vs 30)")
        notes.append(f"min gap per chat {gap:.3f} s" if gap is not None else "")
        notes.append(f"429s: {result['refused_429']}")
    if result.get("failed"):
        notes.append(f"failed: {result['failed']}")
    if result.get("enqueue_seconds") is not None:
        notes.append(f"enqueue {result['enqueue_seconds']:.2f} s")
    return (
        f"| {scenario.name} | {scenario.emulator} | {size} | {result['messages']:,} | "
        f"{result['seconds']:,.1f} | **{rate:,.0f}** | {result['peak_rss_mb']:,.0f} | "
        f"{'; '.join(n for n in notes if n)} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--out", default="bench/broadcast_results.md")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scenario:
        result = asyncio.run(run_scenario(Scenario(**json.loads(args.scenario))))
        print(json.dumps(result))
        return
    lines = [
        "| scenario | emulator | subscribers | messages | seconds | msg/s | peak RSS MB | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scenario in scenarios(args.quick):
        line = _row(scenario, _in_fresh_process(scenario))
        print(line, flush=True)
        lines.append(line)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
