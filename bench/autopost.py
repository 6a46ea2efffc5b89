"""Auto-posting fan-out: one feed update of new articles to many channels with limits on.

`python -m bench.autopost [--channels 1000] [--articles 200] [--deliver-channels 100]`

Part 1 (composition and queueing, full size): every channel has an `/autopost` rule with the
default cap; one pass of `AutopostService.post_new_articles()` decides every (channel, article)
pair, composes the posts and queues them in the outbox; then, an hour later, `flush_due()`
queues each channel's "more news" digest. Timed, with the process's peak memory.

Part 2 (delivery at Telegram's configured pace, scaled down to `--deliver-channels`): the same
pass on a fresh database, then the real outbox worker (30/s overall, 20/min per channel) sends
everything to an in-process Bot API emulator over HTTP. Reported: time to the last post against
the limit-bound minimum (every message at the overall rate, or the busiest channel at its own
rate, whichever is longer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import BotConfig, Config, StorageConfig, TelegramConfig
from bot.delivery.pacing import JITTER_ALLOWANCE
from bot.models import ArticleDraft, ChatRights, TargetChat
from bot.ptb.delivery import open_delivery
from bot.services import open_services, outbox_settings
from bot.subscriptions.autopost_requests import AutopostRequest
from emulator import BotApiEmulator

TOKEN = "123456:BENCH-token"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = 42
RIGHTS = ChatRights(is_admin=True, bot_may_post=True)


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class _NoEvents:
    async def chat_unreachable(self, chat_id: int, reason: str) -> None:
        raise AssertionError(f"chat {chat_id} unreachable: {reason}")

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        raise AssertionError("no migration expected")


def _drafts(count: int) -> list[ArticleDraft]:
    return [
        ArticleDraft(
            source=f"source{n % 7}",
            title=f"خبر عاجل رقم {n}: الحكومة تعلن تدابير جديدة لدعم الفلاحين في جهة سوس ماسة",
            body=("فقرة أولى من الخبر تشرح التفاصيل " * 12).strip() + "\n\nفقرة ثانية.",
            url=f"https://news.bench/{n}",
            published_at=START - timedelta(minutes=count - n),
            topics=("maroc", "economie"),
        )
        for n in range(count)
    ]


def _channel(n: int) -> int:
    return -1_000_000_000_000 - n


async def _compose(folder: Path, channels: int, articles: int, base_url: str) -> dict:
    config = Config(
        telegram=TelegramConfig(token=TOKEN, api_base_url=base_url),
        storage=StorageConfig(path=str(folder / "bench.sqlite3")),
        bot=BotConfig(load_sample_news=False),
    )
    clock = _Clock()
    services = await open_services(config, clock=clock)
    await services.digests.remember_bot_username("akhbar_bench_bot")
    for n in range(channels):
        target = TargetChat(_channel(n), "channel", f"قناة {n}")
        await services.autopost.create(
            target, AutopostRequest(), rights=RIGHTS, user_id=ADMIN, thread_id=None,
            language="ar",
        )  # fmt: skip
    await services.ingestion.store(list(reversed(_drafts(articles))))
    started = time.perf_counter()
    queued = await services.autopost.post_new_articles()
    post_seconds = time.perf_counter() - started
    clock.now = START + timedelta(hours=1, minutes=1)
    started = time.perf_counter()
    digests = await services.autopost.flush_due()
    flush_seconds = time.perf_counter() - started
    stats = await services.outbox.stats()
    await services.close()
    return {
        "channels": channels,
        "articles": articles,
        "pairs": channels * articles,
        "posts_queued": queued,
        "digests_queued": digests,
        "outbox_rows": stats.queued,
        "post_seconds": post_seconds,
        "flush_seconds": flush_seconds,
        "config": config,
    }


async def _deliver(channels: int, articles: int) -> dict:
    async with BotApiEmulator(TOKEN, keep_messages=False) as emulator:
        for n in range(channels):
            emulator.add_chat(_channel(n), "channel", title=f"قناة {n}")
        with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as name:
            composed = await _compose(Path(name), channels, articles, emulator.base_url)
            config = composed["config"]
            settings = outbox_settings(config)
            messages = composed["posts_queued"] + composed["digests_queued"]
            started = time.perf_counter()
            handle = await open_delivery(
                token=TOKEN, base_url=emulator.base_url, db_path=config.storage.path,
                events=_NoEvents(), settings=settings, clock=lambda: START,
            )  # fmt: skip
            await handle.drain(timeout=3600)
            elapsed = time.perf_counter() - started
            await handle.stop()
            sent = emulator.sent_count()
    per_channel = messages / channels
    group_interval = settings.limits.group_interval
    # The first message goes at once: n messages need n - 1 gaps.
    telegram_bound = (messages - 1) / settings.overall_per_second
    pacer_bound = telegram_bound * (1 + JITTER_ALLOWANCE)
    channel_bound = (per_channel - 1) * group_interval
    return {
        "channels": channels,
        "messages": messages,
        "sent": sent,
        "seconds": elapsed,
        "minimum_seconds": max(telegram_bound, channel_bound),
        "pacer_schedule_seconds": max(pacer_bound, channel_bound),
        "overall_per_second": settings.overall_per_second,
        "per_channel_per_minute": settings.per_group_per_minute,
    }


def _machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


async def main(channels: int, articles: int, deliver_channels: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as name:
        composed = await _compose(Path(name), channels, articles, "http://127.0.0.1:9/bot")
    composed.pop("config")
    composed["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    delivered = await _deliver(deliver_channels, articles)
    return {"machine": _machine(), "compose": composed, "deliver": delivered}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--deliver-channels", type=int, default=100)
    args = parser.parse_args()
    result = asyncio.run(main(args.channels, args.articles, args.deliver_channels))
    print(json.dumps(result, indent=2, ensure_ascii=False))
