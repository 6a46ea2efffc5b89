"""`akhbar run` polls each configured source on its own named job."""

import logging

from bot.app import build_application, polling
from bot.config import SourceConfig
from tests.conftest import NOW
from tests.support.feeds import item, rss
from tests.test_e2e_reading import ask


async def test_each_source_gets_a_polling_job_whose_run_brings_new_headlines(
    bot_config, emulator, feeds
):
    feeds.publish("/a.xml", rss(item("خبر الخلاصة الأولى", "https://news.test/a")))
    feeds.publish("/b.xml", "<html>not a feed</html>")
    sources = (
        SourceConfig(name="a", url=feeds.url("/a.xml"), poll_minutes=5),
        SourceConfig(name="b", url=feeds.url("/b.xml"), poll_minutes=60),
    )
    config = bot_config.model_copy(update={"sources": sources})
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        jobs = {j.name: j for j in app.job_queue.jobs() if j.name.startswith("ingest:")}
        assert set(jobs) == {"ingest:a", "ingest:b"}
        assert jobs["ingest:a"].trigger.interval.total_seconds() == 300
        for job in jobs.values():
            await job.run(app)
        latest = await ask(emulator, "/latest 1")
    assert "خبر الخلاصة الأولى" in latest.text


async def test_a_failed_poll_is_logged_as_a_failure_never_as_zero_new(
    bot_config, emulator, feeds, caplog
):
    feeds.publish("/ok.xml", rss(item("خبر", "https://news.test/ok")))
    sources = (
        SourceConfig(name="ok", url=feeds.url("/ok.xml")),
        SourceConfig(name="gone", url=feeds.url("/gone.xml")),  # 404
    )
    config = bot_config.model_copy(update={"sources": sources})
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        caplog.set_level(logging.INFO)
        for job in app.job_queue.jobs():
            await job.run(app)
            await job.run(app)  # the second fetch of "ok" is answered 304
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("bot")]
    assert "ingested ok: 1 new, 0 duplicate" in logged
    assert "ingested ok: not modified" in logged
    assert not [line for line in logged if line.startswith("ingested gone")]
    assert logged.count("source gone failed: 127.0.0.1 has nothing at this address (404)") == 2
