"""The operator's commands as real processes: `akhbar run`, `ingest`, `import`, `stats`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.conftest import TOKEN
from tests.support.cli import akhbar, run_akhbar, write_config
from tests.support.feeds import item, rss

FEED = rss(item("خبر من الخلاصة المحلية", "https://news.test/local", body="نص الخبر"))


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


async def test_import_refuses_a_file_over_the_size_cap_in_one_line(tmp_path, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    huge = tmp_path / "huge.txt"
    huge.write_bytes(("خبر " * 1_500_000).encode())  # one 12 MB line
    finished = await run_akhbar("--config", str(config), "import", str(huge), "--source", "big")
    assert finished.returncode == 1
    assert finished.err.splitlines()[-1] == (
        "[1/1] big: failed: huge.txt is larger than 5,000,000 bytes, the [ingestion] max_bytes"
        " limit"
    )
    stats = await run_akhbar("--config", str(config), "stats")
    assert "articles: 0" in stats.out


async def test_import_cuts_an_overlong_headline_and_says_so(tmp_path, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    one_line = tmp_path / "one-line.txt"
    one_line.write_text("خبر " * 200_000, encoding="utf-8")  # a 1.4 MB headline
    finished = await run_akhbar("--config", str(config), "import", str(one_line))
    assert finished.returncode == 0, finished.err
    assert "[1/1] one-line: 1 new, 0 duplicate (1 shortened to the [ingestion] title/body" in (
        finished.err
    )
