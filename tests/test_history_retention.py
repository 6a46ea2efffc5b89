"""History older than `[storage] keep_history_days` is deleted by the bot's own job, and what
it deleted never lets an article reach a chat twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.app import build_application, polling
from bot.ops import retention
from bot.ptb.jobs import run_due_digests
from bot.ptb.serving import PRUNE_JOB
from tests.support.chat import ask
from tests.support.feeds import item, rss

SUBSCRIBERS = (7, 8, 9)
GROUP, ADMIN = -1001234, 42


async def counts(app) -> dict[str, int]:
    db = app.bot_data.services.db
    found = {}
    for table in ("outbox", "outbox_bodies", "deliveries"):
        [(found[table],)] = await db.execute_fetchall(f"SELECT count(*) FROM {table}")
    return found


async def prune(app) -> None:
    """Run the bot's pruning job now, as its timer would."""
    [job] = app.job_queue.get_jobs_by_name(PRUNE_JOB)
    await job.run(app)


def digests(emulator) -> list[list[str]]:
    """The digests each subscriber received."""
    return [
        [m.raw_text for m in emulator.sent(chat) if "start=read_" in (m.raw_text or "")]
        for chat in SUBSCRIBERS
    ]


async def test_a_digests_history_is_kept_for_the_configured_days_then_deleted(
    emulator, bot_config, clock, caplog, monkeypatch
):
    assert bot_config.storage.keep_history_days == 31
    monkeypatch.setattr(retention, "BATCH", 2)  # two rows per transaction: several of them
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        for chat in SUBSCRIBERS:
            await ask(emulator, "/subscribe", chat)
            await ask(emulator, "/digest 12:30", chat)
        clock.advance(minutes=31)
        assert await run_due_digests(app) == 3
        await app.bot_data.delivery.drain(timeout=5)
        received = digests(emulator)
        assert [len(chat) for chat in received] == [1, 1, 1]
        history = await counts(app)
        assert history["outbox"] >= 3 and history["outbox_bodies"] >= 1
        assert history["deliveries"] == 30  # the ten headlines of each digest

        clock.advance(days=30)
        await prune(app)
        assert await counts(app) == history

        clock.advance(days=2)
        with caplog.at_level(logging.INFO, logger="bot.ptb.serving"):
            await prune(app)
        assert await counts(app) == {"outbox": 0, "outbox_bodies": 0, "deliveries": 0}
        assert "30 delivery records" in caplog.text


async def test_messages_still_queued_keep_their_rows_and_bodies_however_old(outbox, db):
    message = (["<b>08:00</b> digest"], [(f"digest:{chat}:1:0", chat, None) for chat in (1, 2)])
    assert await outbox.enqueue_shared([message], kind="digest") == [1, 2]
    await db.commit()
    pruned = await retention.prune_history(
        db, now=datetime.now(UTC) + timedelta(days=400), keep_days=31
    )
    assert pruned == retention.Pruned(messages=0, bodies=0, deliveries=0)
    rows = await db.execute_fetchall(
        "SELECT o.chat_id, o.status, b.parts FROM outbox o JOIN outbox_bodies b ON b.id = o.body_id"
        " ORDER BY o.chat_id"
    )
    assert [tuple(row) for row in rows] == [
        (chat, "queued", '["<b>08:00</b> digest"]') for chat in (1, 2)
    ]


HEADLINES = ("سد الوحدة يمتلئ بعد أمطار الربيع", "افتتاح خط جديد للقطار", "المنتخب يتأهل")


async def fire_next(app, clock, chat_id: int) -> None:
    """Move the clock a minute past the chat's earliest next digest and run what is due."""
    rows = await app.bot_data.services.db.execute_fetchall(
        "SELECT min(next_fire_at) FROM schedules WHERE chat_id = ?", (chat_id,)
    )
    clock.set(datetime.fromtimestamp(rows[0][0], UTC) + timedelta(minutes=1))
    await run_due_digests(app)
    await app.bot_data.delivery.drain(timeout=5)


def times_received(emulator, chat_id: int, headline: str) -> int:
    return sum(headline in (m.raw_text or "") for m in emulator.sent(chat_id))


async def test_a_quarterly_digest_never_resends_what_a_daily_one_sent_before_its_record_was_deleted(
    emulator, bot_config, clock, tmp_path
):
    """A schedule that fires every three months keeps its position for three months; the
    news the chat's daily digest sent meanwhile must not come again once its record is gone."""
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        for rule in ("08:00", 'cron "0 13 1 */3 *"'):
            await emulator.send_text(GROUP, f"/schedule {rule}", user_id=ADMIN)
            await emulator.next_message(GROUP)
        assert len(await app.bot_data.services.schedules.of_chat(GROUP)) == 2
        while clock.now < datetime(2025, 4, 1, 12, tzinfo=UTC):  # the quarterly's position
            await fire_next(app, clock, GROUP)
        clock.advance(hours=20)
        feed = tmp_path / "spring.xml"
        feed.write_text(rss(*(item(t, f"https://news.test/{n}") for n, t in enumerate(HEADLINES))))
        report = await app.bot_data.services.ingestion.import_file(feed, source="أخبار الربيع")
        assert report.new == len(HEADLINES)
        await fire_next(app, clock, GROUP)  # the next morning's daily digest sends them
        assert [times_received(emulator, GROUP, h) for h in HEADLINES] == [1, 1, 1]

        clock.set(datetime(2025, 6, 30, 12, tzinfo=UTC))
        await prune(app)  # the records of what was sent in April are gone
        while clock.now < datetime(2025, 7, 1, 12, tzinfo=UTC):
            await fire_next(app, clock, GROUP)  # daily digests, then 1 July's quarterly one
        assert [times_received(emulator, GROUP, h) for h in HEADLINES] == [1, 1, 1]
