"""Updates handled per second in webhook mode by one and two processes on PostgreSQL.

    python -m bench.webhook [--updates 3000] [--processes 1 2] [--url postgresql://…]

`akhbar run` in webhook mode, each process on its own port, on one PostgreSQL database holding
1,000 generated articles. The benchmark is the load balancer: it POSTs `/latest` updates (one
per private chat, so none waits on another of its chat) round-robin to the processes, at most
40 in flight per process (Telegram's default max_connections). The Bot API emulator (in this
process) answers every call after 50 ms. Measured: from the first POST to the last reply at
the emulator, replies per second. `--url` names a server where databases may be created;
without it a throwaway cluster is started (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

TOKEN = "123456:BENCH-token"
SECRET = "bench-webhook-secret"
IN_FLIGHT = 40
DELAY = 0.05


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _config(folder: Path, url: str, number: int, ports: list[int]) -> Path:
    config = folder / f"webhook-{number}.toml"
    config.write_text(
        f'[storage]\nurl = "{url}"\n[bot]\nload_sample_news = false\n'
        f'[telegram]\nmode = "webhook"\nwebhook_url = "http://127.0.0.1:{ports[0]}/telegram"\n'
        f'secret_token = "{SECRET}"\n[http]\nport = {ports[number]}\n',
        encoding="utf-8",
    )
    return config


def _update(update_id: int, chat_id: int) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Amina", "language_code": "ar"}
    message = {
        "message_id": update_id, "date": 1_740_000_000, "from": user, "text": "/latest",
        "chat": {"id": chat_id, "type": "private", "first_name": "Amina"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
    }  # fmt: skip
    return {"update_id": update_id, "message": message}


async def _post_all(ports: list[int], updates: int) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = [asyncio.Semaphore(IN_FLIGHT) for _ in ports]
    async with aiohttp.ClientSession() as session:

        async def post(number: int) -> None:
            slot = number % len(ports)
            async with limits[slot]:
                address = f"http://127.0.0.1:{ports[slot]}/telegram"
                update = _update(number, 1_000_000 + number)
                async with session.post(address, json=update, headers=headers) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"webhook answered {answer.status}")

        await asyncio.gather(*(post(number) for number in range(1, updates + 1)))


async def _start(config: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def _ready(ports: list[int]) -> None:
    async with aiohttp.ClientSession() as session:
        for port in ports:
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.2)


async def run(server, processes: int, updates: int) -> dict:
    """`updates` /latest updates handled by `processes` processes on a fresh database."""
    from bench.postgres import ingest
    from emulator import BotApiEmulator

    name = await server.create_database()
    url = server.database_url(name)
    try:
        await ingest(url, 1_000)
        async with BotApiEmulator(
            TOKEN, keep_messages=False, auto_create_chats=True, max_logged_requests=4 * updates
        ) as emulator:
            emulator.delay = DELAY
            replies, webhooks, done, all_set = [], 0, asyncio.Event(), asyncio.Event()

            def count(call) -> None:
                nonlocal webhooks
                webhooks += call.method == "setWebhook"
                if webhooks >= processes:
                    all_set.set()
                if call.method == "sendMessage" and call.is_ok:
                    replies.append(time.perf_counter())
                    if len(replies) >= updates:
                        done.set()

            emulator.on_call(count)
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
            env["TELEGRAM_API_BASE_URL"] = emulator.base_url
            ports = [_free_port() for _ in range(processes)]
            with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as folder:
                configs = [_config(Path(folder), url, n, ports) for n in range(processes)]
                started = [await _start(config, env) for config in configs]
                try:
                    async with asyncio.timeout(300):
                        await _ready(ports)
                        await all_set.wait()
                        began = time.perf_counter()
                        await _post_all(ports, updates)
                        await done.wait()
                finally:
                    for process in started:
                        process.terminate()
                    await asyncio.gather(*(process.wait() for process in started))
    finally:
        await server.drop_database(name)
    seconds = replies[updates - 1] - began
    return {"processes": processes, "updates": updates, "seconds": seconds}


async def _main(args: argparse.Namespace) -> None:
    from bench.postgres_server import bench_server
    from bench.report import ResultsFile

    out = ResultsFile(__doc__.split("\n\n", 2)[2])
    with bench_server(args.url) as server:
        out.add("| processes | /latest updates | seconds | updates handled/s |\n|---|---|---|---|")
        for count in args.processes:
            r = await run(server, count, args.updates)
            out.add(
                f"| {count} | {r['updates']:,} | {r['seconds']:.1f} |"
                f" **{r['updates'] / r['seconds']:,.0f}** |"
            )
    out.write(args.out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--url", help="a PostgreSQL server URL allowed to create databases")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "webhook_results.md")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
