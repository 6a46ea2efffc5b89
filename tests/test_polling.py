"""`akhbar run` polls the database's due sources in one loop, and keeps each source's health."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.app import build_application, polling
from bot.config import ModerationConfig, SourceConfig
from storage import sources
from tests.support import NOW
from tests.support.feeds import item, rss
from tests.support.waiting import eventually

OPERATOR = 900
USER = 101


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def configured(bot_config, feeds, *sources_: SourceConfig, **ingestion):
    settings = bot_config.ingestion.model_copy(update={"jitter_fraction": 0.0, **ingestion})
    return bot_config.model_copy(
        update={
            "sources": sources_,
            "ingestion": settings,
            "moderation": ModerationConfig(operator_ids=(OPERATOR,)),
        }
    )


async def polled(app, feeds, path: str, hits: int) -> None:
    """Wake the loop and wait until `path` was requested `hits` times in all."""
    app.bot_data.source_polls.wake()
    await eventually(lambda: feeds.hits[path] >= hits)
    await eventually(lambda: app.bot_data.source_polls.is_idle)


async def row(app, name: str):
    return await sources.get(app.bot_data.services.db, name)


async def test_configured_sources_are_seeded_and_polled_by_the_loop_bringing_new_headlines(
    bot_config, emulator, feeds
):
    feeds.publish("/a.xml", rss(item("خبر الخلاصة الأولى", "https://news.test/a")))
    feeds.publish("/b.xml", "<html>not a feed</html>")
    config = configured(
        bot_config,
        feeds,
        SourceConfig(name="a", url=feeds.url("/a.xml"), poll_minutes=5),
        SourceConfig(name="b", url=feeds.url("/b.xml"), poll_minutes=60),
    )
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        ingest_jobs = [j for j in app.job_queue.jobs() if j.name.startswith("ingest:")]
        assert ingest_jobs == []  # no job per source: one loop over the database
        await eventually(lambda: feeds.hits["/a.xml"] == 1 and feeds.hits["/b.xml"] == 1)
        await emulator.send_text(USER, "/latest 1")
        latest = await emulator.next_message(USER)
        a, b = await row(app, "a"), await row(app, "b")
    assert "خبر الخلاصة الأولى" in latest.text
    assert a.next_poll_at == NOW + timedelta(minutes=5) and a.last_success_at == NOW
    assert b.error_kind == "not-a-feed" and b.failures == 1


async def test_a_failing_source_backs_off_and_the_operator_is_told_once_then_of_recovery(
    bot_config, emulator, feeds
):
    clock = Clock()
    feeds.publish("/f.xml", rss(item("عاد الموقع", "https://news.test/back")))
    feeds.answer("/f.xml", 500)
    config = configured(
        bot_config,
        feeds,
        SourceConfig(name="flaky", url=feeds.url("/f.xml"), poll_minutes=10),
        alert_after_hours=1.0,
    )
    emulator.add_chat(OPERATOR, "private")
    app = build_application(config, clock=clock)
    async with polling(app, poll_timeout=1):
        await polled(app, feeds, "/f.xml", 1)
        waits = []
        for hits in range(2, 6):
            source = await row(app, "flaky")
            waits.append(source.next_poll_at - clock.now)
            clock.now = source.next_poll_at
            await polled(app, feeds, "/f.xml", hits)
        alert = await emulator.next_message(OPERATOR)
        assert emulator.sent(OPERATOR) == [alert]  # told once, not at every failure
        feeds.restore("/f.xml")
        clock.now = (await row(app, "flaky")).next_poll_at
        await polled(app, feeds, "/f.xml", 6)
        recovery = await emulator.next_message(OPERATOR)
        healthy = await row(app, "flaky")
    assert waits == [timedelta(minutes=m) for m in (10, 20, 40, 80)]
    assert "flaky" in alert.text and "خطأ في خادم الموقع" in alert.text
    assert "flaky" in recovery.text and len(emulator.sent(OPERATOR)) == 2
    assert healthy.failures == 0 and healthy.error_kind is None and not healthy.alerted


async def test_a_410_gone_pauses_the_source_and_tells_the_operator(bot_config, emulator, feeds):
    feeds.answer("/gone.xml", 410)
    config = configured(bot_config, feeds, SourceConfig(name="old", url=feeds.url("/gone.xml")))
    emulator.add_chat(OPERATOR, "private")
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        await polled(app, feeds, "/gone.xml", 1)
        notice = await emulator.next_message(OPERATOR)
        source = await row(app, "old")
    assert source.is_paused and source.paused_reason == "gone"
    assert "old" in notice.text


async def test_a_permanent_redirect_updates_the_source_address(bot_config, feeds):
    feeds.publish("/new.xml", rss(item("في العنوان الجديد", "https://news.test/n")))
    feeds.redirect("/old.xml", feeds.url("/new.xml"), status=301)
    feeds.redirect("/tmp.xml", feeds.url("/new.xml"), status=302)
    config = configured(
        bot_config,
        feeds,
        SourceConfig(name="moved", url=feeds.url("/old.xml")),
        SourceConfig(name="visiting", url=feeds.url("/tmp.xml")),
    )
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        await polled(app, feeds, "/new.xml", 2)
        moved, visiting = await row(app, "moved"), await row(app, "visiting")
    assert moved.url == feeds.url("/new.xml")
    assert visiting.url == feeds.url("/tmp.xml")  # a temporary redirect changes nothing


async def test_429_retry_after_is_honoured(bot_config, feeds):
    feeds.answer("/busy.xml", 429, {"Retry-After": "7200"})
    config = configured(
        bot_config, feeds, SourceConfig(name="busy", url=feeds.url("/busy.xml"), poll_minutes=10)
    )
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        await polled(app, feeds, "/busy.xml", 1)
        source = await row(app, "busy")
    assert source.error_kind == "rate-limited"
    assert source.next_poll_at == NOW + timedelta(hours=2)


async def test_one_host_gets_at_most_its_share_of_concurrent_fetches(bot_config, feeds):
    paths = [f"/many/{n}.xml" for n in range(8)]
    for path in paths:
        feeds.publish(path, rss(item(f"خبر {path}", f"https://news.test{path}")))
        feeds.delays[path] = 0.05
    config = configured(
        bot_config,
        feeds,
        *(SourceConfig(name=f"s{n}", url=feeds.url(p)) for n, p in enumerate(paths)),
        concurrency=8,
        per_host_concurrency=2,
    )
    app = build_application(config, clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        # The host's other sources wait in the database, and start as its fetches end.
        await eventually(lambda: all(feeds.hits[p] == 1 for p in paths))
    assert feeds.most_in_flight == 2


async def test_stuck_sources_and_the_poll_observer(bot_config, feeds):
    from bot.services import open_services

    seen = []
    feeds.answer("/down.xml", 503)
    feeds.publish("/up.xml", rss(item("خبر", "https://news.test/up")))
    config = configured(
        bot_config,
        feeds,
        SourceConfig(name="down", url=feeds.url("/down.xml")),
        SourceConfig(name="up", url=feeds.url("/up.xml")),
        alert_after_hours=2.0,
    )
    services = await open_services(
        config, clock=lambda: NOW, on_poll=lambda *args: seen.append(args)
    )
    try:
        for source in await services.sources.all():
            await services.ingestion.poll(source)
        for source in await services.sources.all():
            await services.ingestion.poll(source)
        soon = await services.ingestion.stuck_sources(NOW + timedelta(hours=1))
        later = await services.ingestion.stuck_sources(NOW + timedelta(hours=3))
    finally:
        await services.close()
    assert soon == [] and [s.name for s in later] == ["down"]
    outcomes = [(name, outcome, new) for name, outcome, _seconds, new in seen]
    assert outcomes == [
        ("down", "failed:server-error", 0),
        ("up", "fetched", 1),
        ("down", "failed:server-error", 0),
        ("up", "not_modified", 0),
    ]


async def test_a_failed_poll_is_logged_as_a_failure_never_as_zero_new(bot_config, feeds, caplog):
    feeds.publish("/ok.xml", rss(item("خبر", "https://news.test/ok")))
    clock = Clock()
    config = configured(
        bot_config,
        feeds,
        SourceConfig(name="ok", url=feeds.url("/ok.xml"), poll_minutes=5),
        SourceConfig(name="gone", url=feeds.url("/gone.xml"), poll_minutes=5),  # 404
    )
    caplog.set_level(logging.DEBUG, logger="bot")  # not aiosqlite: it logs every query
    app = build_application(config, clock=clock)
    async with polling(app, poll_timeout=1):
        await polled(app, feeds, "/ok.xml", 1)
        await eventually(lambda: feeds.hits["/gone.xml"] == 1)
        clock.now += timedelta(minutes=20)  # both due again (the failing one backed off)
        await polled(app, feeds, "/ok.xml", 2)
        await eventually(lambda: feeds.hits["/gone.xml"] == 2)
        await eventually(lambda: app.bot_data.source_polls.is_idle)
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("bot")]
    assert "ingested ok: 1 new, 0 duplicate" in logged
    assert "ingested ok: not modified" in logged  # at DEBUG: thousands of sources answer 304
    assert not [line for line in logged if line.startswith("ingested gone")]
    assert logged.count("source gone failed: 127.0.0.1 has nothing at this address (404)") == 2
