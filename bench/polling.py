"""Source polling benchmark: `python -m bench.polling [--feeds 5000] [--minutes 6]`.

N loopback feeds on 50 "sites" (127.0.0.1 … 127.0.0.50, 100 feeds each), served by a separate
process so the bot's CPU is measured alone. Most feeds answer 304 Not Modified once fetched;
2 % answer 500, 1 % are slower than the timeout, 2 % answer after 2 s. Every source is due at
start (the worst case: a fresh seed or a restart after downtime), then every `--interval`
minutes. The bot side is the real IngestionService + SourcePoller + DueLoop on a SQLite file,
with the default concurrency settings; the Telegram side is not involved in polling.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

HOSTS = 50
TIMEOUT_SECONDS = 5.0


# The feed server (its own process)


def _behaviour(n: int) -> str:
    slot = n % 100
    return {0: "fail", 1: "fail", 2: "timeout", 3: "slow", 4: "slow"}.get(slot, "normal")


async def _serve(port: int, hosts: int) -> None:
    from aiohttp import web

    async def feed(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        kind = _behaviour(n)
        if kind == "fail":
            return web.Response(status=500)
        if kind == "timeout":
            await asyncio.sleep(TIMEOUT_SECONDS + 1)
        elif kind == "slow":
            await asyncio.sleep(2)
        # One feed in 20 gets a new item every 3 minutes; the others never change.
        version = int((time.monotonic() - started) // 180) if n % 20 == 5 else 0
        etag = f'"{n}-{version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
            f"<item><title>خبر رقم {n} نسخة {version}</title>"
            f"<link>https://site{n % hosts}.test/{n}/{version}</link></item></channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": etag})

    started = time.monotonic()
    app = web.Application()
    app.router.add_get("/f/{n}", feed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for host in range(1, hosts + 1):
        await web.TCPSite(runner, f"127.0.0.{host}", port, backlog=1024).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# The bot side


def _vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _bench(feeds: int, interval_minutes: int, seconds: float, port: int) -> dict:
    from bot.config import Config, IngestionConfig, StorageConfig
    from bot.due_loop import DueLoop
    from bot.ingestion.polling import SourcePoller
    from bot.models import Source
    from bot.services import open_services
    from storage import sources
    from storage.database import transaction

    polls: list[tuple[int, str, float]] = []
    durations: list[float] = []
    started = time.monotonic()

    def observe(name: str, outcome: str, seconds_: float, new: int) -> None:
        polls.append((int(name[1:]), outcome, time.monotonic() - started))
        if _behaviour(int(name[1:])) == "normal":
            durations.append(seconds_)

    with tempfile.TemporaryDirectory() as folder:
        config = Config(
            storage=StorageConfig(path=str(Path(folder) / "bench.sqlite3")),
            ingestion=IngestionConfig(
                allowed_networks=("127.0.0.0/8",), timeout_seconds=TIMEOUT_SECONDS
            ),
        )
        services = await open_services(config, on_poll=observe)
        now = datetime.now(UTC)
        async with transaction(services.db):
            for n in range(feeds):
                url = f"http://127.0.0.{n % HOSTS + 1}:{port}/f/{n}"
                await sources.add(
                    services.db, Source(f"s{n}", url, poll_minutes=interval_minutes), at=now
                )
        poller = SourcePoller(services.ingestion, settings=config.ingestion)
        loop = DueLoop(
            "sources",
            clock=lambda: datetime.now(UTC),
            next_due=poller.next_due,
            run_due=poller.run_due,
        )
        rss_before = _vm("VmRSS")
        cpu_before, started = time.process_time(), time.monotonic()
        loop.start()
        await asyncio.sleep(seconds)
        await loop.stop()
        await poller.stop()
        wall, cpu = time.monotonic() - started, time.process_time() - cpu_before
        await services.close()
    summary = _summary(polls, feeds, interval_minutes * 60, wall, cpu, rss_before)
    durations.sort()
    summary["poll_p50_ms"] = 1000 * statistics.median(durations)
    summary["poll_p95_ms"] = 1000 * durations[int(len(durations) * 0.95)]
    return summary


def _summary(polls, feeds: int, interval: float, wall: float, cpu: float, rss_before: float):
    times: defaultdict[int, list[float]] = defaultdict(list)
    for n, outcome, at in polls:
        if not outcome.startswith("failed") and _behaviour(n) in ("normal", "slow"):
            times[n].append(at)
    first_round = max((ts[0] for ts in times.values()), default=float("nan"))
    dead_host = 2  # n % HOSTS of the feeds that time out (127.0.0.3)
    first_round_others = max(
        (ts[0] for n, ts in times.items() if n % HOSTS != dead_host), default=float("nan")
    )
    gaps = [b - a for ts in times.values() for a, b in itertools.pairwise(ts)]
    # A healthy source is due `interval` after its last poll (jitter only shortens that); the
    # poll itself may take up to the timeout, so lateness is measured against that.
    late = [g for g in gaps if g > interval + TIMEOUT_SECONDS]
    after_first = [at for _, _, at in polls if at > first_round]
    steady_window = wall - first_round
    return {
        "feeds": feeds,
        "interval_s": interval,
        "wall_s": wall,
        "polls": len(polls),
        "outcomes": Counter(o.split(":")[0] for _, o, _ in polls),
        "failures": Counter(o for _, o, _ in polls if o.startswith("failed")),
        "first_round_s": first_round,
        "first_round_others_s": first_round_others,
        "burst_rate": sum(1 for *_, at in polls if at <= first_round) / first_round,
        "steady_rate": len(after_first) / steady_window if steady_window > 0 else float("nan"),
        "needed_rate": feeds / interval,
        "healthy_sources_polled": len(times),
        "healthy_sources": sum(_behaviour(n) in ("normal", "slow") for n in range(feeds)),
        "gaps": len(gaps),
        "gap_max_s": max(gaps, default=float("nan")),
        "gap_p50_s": statistics.median(gaps) if gaps else float("nan"),
        "late_gaps": len(late),
        "cpu_s": cpu,
        "cpu_share": cpu / wall,
        "rss_before_mb": rss_before,
        "rss_after_mb": _vm("VmRSS"),
        "rss_peak_mb": _vm("VmHWM"),
    }


def _markdown(r: dict, load: str) -> str:
    outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(r["outcomes"].items()))
    failures = ", ".join(f"{k.removeprefix('failed:')} {v:,}" for k, v in r["failures"].items())
    rows = [
        ("polls in all", f"{r['polls']:,} ({outcomes})"),
        ("failures by kind", failures),
        ("first round: every healthy source polled once after", f"{r['first_round_s']:.1f} s"),
        (
            "… on every host but the one whose feeds time out (127.0.0.3)",
            f"{r['first_round_others_s']:.1f} s",
        ),
        ("polls per second, first round (all due at once)", f"{r['burst_rate']:.0f}/s"),
        (
            "polls per second, afterwards",
            f"{r['steady_rate']:.0f}/s (needed: {r['needed_rate']:.0f}/s)",
        ),
        (
            "healthy sources polled",
            f"{r['healthy_sources_polled']:,} of {r['healthy_sources']:,}",
        ),
        (
            "gap between two polls of a healthy source, median / max",
            f"{r['gap_p50_s']:.0f} s / {r['gap_max_s']:.0f} s (interval {r['interval_s']:.0f} s)",
        ),
        (
            "one poll of a prompt feed (fetch, parse, store), p50 / p95",
            f"{r['poll_p50_ms']:.0f} / {r['poll_p95_ms']:.0f} ms",
        ),
        ("gaps longer than the interval + timeout", f"{r['late_gaps']:,} of {r['gaps']:,}"),
        (
            "bot CPU (one process)",
            f"{r['cpu_s']:.0f} s over {r['wall_s']:.0f} s = {r['cpu_share']:.0%} of one core",
        ),
        (
            "bot memory VmRSS before / after / peak",
            f"{r['rss_before_mb']:.0f} / {r['rss_after_mb']:.0f} / {r['rss_peak_mb']:.0f} MB",
        ),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"""# Source polling benchmark (`python -m bench.polling`)

{r["feeds"]:,} loopback feeds on {HOSTS} hosts (separate server process); most answer 304 once
fetched (one in 20 has a new item every 3 min), 2 % fail (500), 1 % are slower than the
{TIMEOUT_SECONDS:.0f} s timeout, 2 % answer after 2 s. All due at start, then every
{r["interval_s"] / 60:.0f} min; default settings (concurrency 16, 2 per host).
Run for {r["wall_s"]:.0f} s on {datetime.now(UTC):%Y-%m-%d}.
Machine load during the run: {load}

| Measurement | Measured |
|---|---:|
{table}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.polling", description=__doc__)
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--interval", type=int, default=2, help="poll_minutes of every source")
    parser.add_argument("--minutes", type=float, default=6.0, help="how long to run")
    parser.add_argument("--quick", action="store_true", help="500 feeds for one minute")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve, HOSTS))
        return
    feeds, minutes, interval = args.feeds, args.minutes, args.interval
    if args.quick:
        feeds, minutes, interval = 500, 1.5, 1
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.polling", "--serve", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        load = "load average {:.1f} / {:.1f} / {:.1f} on {} cores (shared with other sessions)"
        result = asyncio.run(_bench(feeds, interval, minutes * 60, port))
        text = _markdown(result, load.format(*os.getloadavg(), os.cpu_count()))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
