"""`akhbar run` polls each configured source on its own named job."""

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
