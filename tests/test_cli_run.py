"""The operator's commands as real processes: `akhbar run`, `ingest`, `import`, `stats`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import TOKEN
from tests.support.feeds import item, rss

FEED = rss(item("خبر من الخلاصة المحلية", "https://news.test/local", body="نص الخبر"))


def write_config(tmp_path: Path, feed_url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        # The feeds are served from loopback, which the bot refuses unless allowed.
        f'[ingestion]\nallowed_networks = ["127.0.0.0/8"]\n'
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


async def test_run_serves_the_sample_news_and_stops_cleanly_on_sigterm(tmp_path, emulator, feeds):
    feeds.publish("/feed.xml", FEED)
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    process = await akhbar("--config", str(config), "run", env=env)
    try:
        await emulator.send_text(7, "/latest 3")
        reply = await emulator.next_message(7, timeout=30)
        assert reply.text.startswith("آخر الأخبار")
        assert "رسالة مفتوحة إلى عبد السلام أحيزون" in reply.text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert TOKEN.split(":")[1] not in stderr.decode()
    assert (tmp_path / "akhbar.sqlite3").exists()


async def test_ingest_then_import_report_per_source_and_stats_count(tmp_path, feeds):
    feeds.publish("/feed.xml", FEED)
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    ingest = await akhbar("--config", str(config), "ingest")
    out, err = await asyncio.wait_for(ingest.communicate(), timeout=60)
    assert ingest.returncode == 0, err.decode()
    assert "[1/1] local: 1 new, 0 duplicate" in err.decode()
    assert "local" in out.decode() and "no" in out.decode()

    sample = Path(__file__).parent.parent / "bot" / "data" / "sample_news.txt"
    for expected in ("59 new, 0 duplicate", "0 new, 59 duplicate"):
        imported = await akhbar(
            "--config", str(config), "import", str(sample), "--source", "هسبريس"
        )
        _, err = await asyncio.wait_for(imported.communicate(), timeout=60)
        assert imported.returncode == 0 and expected in err.decode()

    stats = await akhbar("--config", str(config), "stats")
    out, _ = await asyncio.wait_for(stats.communicate(), timeout=60)
    assert "articles: 60" in out.decode()
