"""Several `akhbar run` processes on one PostgreSQL database share one broadcast.

    python -m bench.multiprocess [--messages 20000] [--processes 1 2 3] [--url postgresql://…]

One message to each of N private chats, queued before the processes start; 1, 2 and 3 processes
drain it against the Bot API emulator (in this process, Telegram's flood limits on at the
configured rate). Reported: messages per second at the emulator from the first send to the
last, the most sends in any one second, 429 answers and second copies. `--url` names a server
where databases may be created; without it a throwaway cluster is started (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from bisect import bisect_right
from collections import Counter
from pathlib import Path

TOKEN = "123456:BENCH-token"
RATE = 1000.0  # the paid-broadcast limit: the most [delivery] accepts


async def _queue(url: str, messages: int) -> None:
    from bot.clock import utc_now
    from bot.delivery.outbox import Outbox, OutboxSettings
    from bot.models import OutgoingMessage
    from bot.reading import search_text
    from storage import database

    db = await database.connect(url, index_terms=search_text.index_text)
    try:
        outbox = Outbox(db, clock=utc_now, settings=OutboxSettings())
        await outbox.enqueue(
            OutgoingMessage(f"bench:{chat}", chat, ("<b>نشرة اليوم</b>\n1. خبر",))
            for chat in range(1, messages + 1)
        )
        await db.commit()
    finally:
        await db.close()


def _config(folder: Path, url: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[storage]\nurl = "{url}"\n[bot]\nload_sample_news = false\n[http]\nenabled = false\n'
        f"[delivery]\noverall_per_second = {RATE}\npaid_broadcast = true\n",
        encoding="utf-8",
    )
    return config


async def _start(config: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def run(server, processes: int, messages: int) -> dict:
    """One broadcast of `messages` by `processes` processes on a fresh database."""
    from emulator import BotApiEmulator
    from emulator.faults import FloodLimiter

    name = await server.create_database()
    url = server.database_url(name)
    try:
        await _queue(url, messages)
        async with BotApiEmulator(
            TOKEN, keep_messages=False, auto_create_chats=True, max_logged_requests=4 * messages
        ) as emulator:
            emulator.api.flood = FloodLimiter(overall_per_second=int(RATE))
            emulator.enforce_flood_limits = True
            with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as folder:
                env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
                env["TELEGRAM_API_BASE_URL"] = emulator.base_url
                config = _config(Path(folder), url)
                # Counted as calls arrive: the emulator's wait_for rescans its whole log.
                accepted, done = 0, asyncio.Event()

                def count(call) -> None:
                    nonlocal accepted
                    accepted += call.method == "sendMessage" and call.is_ok
                    if accepted >= messages:
                        done.set()

                emulator.on_call(count)
                started = [await _start(config, env) for _ in range(processes)]
                try:
                    async with asyncio.timeout(600):
                        await done.wait()
                finally:
                    for process in started:
                        process.terminate()
                    await asyncio.gather(*(process.wait() for process in started))
            calls = [c for c in emulator.requests if c.method == "sendMessage"]
    finally:
        await server.drop_database(name)
    ok = sorted(c.at for c in calls if c.is_ok)
    copies = Counter(str(c.params["chat_id"]) for c in calls if c.is_ok)
    return {
        "processes": processes,
        "sent": len(copies),
        "seconds": ok[-1] - ok[0],
        "rate": (len(ok) - 1) / (ok[-1] - ok[0]),
        "max_in_1s": max(bisect_right(ok, t + 1.0) - i for i, t in enumerate(ok)),
        "refused_429": sum(1 for c in calls if c.status == 429),
        "second_copies": sum(n - 1 for n in copies.values()),
    }


async def _main(args: argparse.Namespace) -> None:
    from bench.postgres_server import bench_server

    with bench_server(args.url) as server:
        print(f"| processes | messages | seconds | msg/s | most in 1 s (limit {RATE:.0f}) |"
              " 429s | second copies |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for count in args.processes:
            r = await run(server, count, args.messages)
            print(
                f"| {count} | {r['sent']:,} | {r['seconds']:.1f} | **{r['rate']:,.0f}** |"
                f" {r['max_in_1s']} | {r['refused_429']} | {r['second_copies']} |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--url", help="a PostgreSQL server URL allowed to create databases")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
