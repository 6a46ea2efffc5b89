"""The digest scheduler loop, driven by an injected clock, as subscribers see it at the emulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.app import build_application, polling
from bot.config import DeliveryConfig
from bot.ptb.jobs import run_due_digests
from bot.subscriptions import digests as digests_module
from tests.support.chat import ask
from tests.support.clock import FakeClock
from tests.support.digest_world import draft, outbox_rows, store

USER = 7
ADMIN = 42
GROUP = -1001234
# Noon in Casablanca too (UTC+0 during Ramadan 2025).
NOON = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)


def moved(app, clock: FakeClock, moment: datetime) -> None:
    """Move the clock and tell the running loop to look again (as the sandbox does)."""
    clock.set(moment)
    app.bot_data.services.schedule_changes.changed()


def digests_at(emulator, chat_id: int) -> list[str]:
    return [m.text for m in emulator.sent(chat_id) if re.search(r"^\d+\. ", m.text, re.M)]


async def settle(app) -> None:
    """Everything due now has run and been delivered."""
    await run_due_digests(app)
    await app.bot_data.delivery.drain(timeout=10)


async def test_digests_follow_the_chat_time_across_a_dst_change(emulator, bot_config):
    clock = FakeClock(datetime(2025, 3, 29, 6, 0, tzinfo=UTC))
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        await ask(emulator, "/subscribe", language_code="en")
        await ask(emulator, "/timezone Europe/Paris")
        await ask(emulator, "/digest 08:00")
        moved(app, clock, datetime(2025, 3, 29, 7, 0, 5, tzinfo=UTC))  # 08:00 in Paris (UTC+1)
        first = await emulator.next_message(USER)
        assert "1. " in first.text
        await store(services, draft("خبر يوم تغيير الساعة", minutes=60 * 24 * 26))
        moved(app, clock, datetime(2025, 3, 30, 5, 0, 5, tzinfo=UTC))  # 07:00 in Paris (UTC+2)
        await settle(app)
        assert len(digests_at(emulator, USER)) == 1
        moved(app, clock, datetime(2025, 3, 30, 6, 0, 5, tzinfo=UTC))  # 08:00 in Paris (UTC+2)
        second = await emulator.next_message(USER)
        assert "خبر يوم تغيير الساعة" in second.text
        await settle(app)
        assert len(digests_at(emulator, USER)) == 2


async def test_a_schedule_edited_or_removed_while_due_sends_nothing_for_that_slot(
    emulator, bot_config
):
    clock = FakeClock(NOON)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        await ask(emulator, "/subscribe")
        await ask(emulator, "/digest 12:30")
        # The loop is held (as if busy) so the edit lands while 12:30 is due and unserved;
        # run_due_digests then runs the same claim the loop runs.
        await app.bot_data.scheduler.stop()
        clock.set(NOON + timedelta(minutes=31))
        await ask(emulator, "/digest 13:00")
        await settle(app)
        assert digests_at(emulator, USER) == []
        clock.set(NOON + timedelta(hours=1, seconds=5))
        await settle(app)
        assert "1. " in (await emulator.next_message(USER)).text

        await store(app.bot_data.services, draft("خبر جديد", minutes=30))
        clock.set(NOON + timedelta(days=1, hours=1, seconds=5))  # due again
        assert "تم إلغاء اشتراكك" in (await ask(emulator, "/unsubscribe")).text
        await settle(app)
        assert len(digests_at(emulator, USER)) == 1


async def test_a_slot_missed_during_downtime_is_sent_once_within_grace_and_skipped_after(
    emulator, bot_config
):
    clock = FakeClock(NOON)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        await ask(emulator, "/subscribe")
        await ask(emulator, "/digest 12:30")
    clock.set(NOON + timedelta(minutes=50))  # back 20 minutes late: within the hour of grace
    for _ in range(2):  # a second restart does not send the slot again
        app = build_application(bot_config, clock=clock, poll_sources=False)
        async with polling(app, poll_timeout=1):
            await settle(app)
        clock.advance(minutes=2)
    assert len(digests_at(emulator, USER)) == 1

    clock.set(NOON + timedelta(days=1, hours=2))  # 90 minutes late: past the grace period
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        await store(app.bot_data.services, draft("خبر فات وقته", minutes=60 * 25))
        await settle(app)
        assert len(digests_at(emulator, USER)) == 1
        [fires] = await app.bot_data.services.db.execute_fetchall(
            "SELECT next_fire_at FROM schedules"
        )
        assert fires[0] == int((NOON + timedelta(days=2, minutes=30)).timestamp())


async def test_two_schedules_of_one_chat_at_the_same_minute_never_repeat_an_article(
    emulator, bot_config
):
    clock = FakeClock(NOON)
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        for text in ("/schedule 12:30 maroc", "/schedule 12:30 sport"):
            await emulator.send_text(GROUP, text, user_id=ADMIN)
            await emulator.next_message(GROUP)
        await store(
            app.bot_data.services,
            draft("خبر مغربي ورياضي", source="s", topics=("maroc", "sport"), minutes=400),
            draft("خبر رياضي فقط", source="s", topics=("sport",), minutes=399),
        )
        moved(app, clock, NOON + timedelta(minutes=30, seconds=5))
        await emulator.next_message(GROUP)
        await settle(app)
        texts = digests_at(emulator, GROUP)
        assert len(texts) == 2
        assert sum("خبر مغربي ورياضي" in text for text in texts) == 1
        assert any("خبر رياضي فقط" in text for text in texts)
        keys = {row.key for row in await outbox_rows(app.bot_data.services, GROUP)}
        slot = int((NOON + timedelta(minutes=30)).timestamp())
        assert len(keys) == 2 and all(key.endswith(f":{slot}") for key in keys)


async def test_a_thousand_subscribers_at_one_minute_each_get_exactly_one_digest(
    emulator, bot_config
):
    config = bot_config.model_copy(
        update={"delivery": DeliveryConfig(overall_per_second=1000, paid_broadcast=True)}
    )
    clock = FakeClock(NOON)
    app = build_application(config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        chats = range(10_000, 11_000)
        for chat_id in chats:  # the tables /start and /subscribe write, without 2,000 updates
            emulator.add_chat(chat_id, "private")
            await services.languages.texts_for(
                chat_id, chat_type="private", title=None, telegram_code="ar"
            )
            await services.subscriptions.subscribe(chat_id, (), language="ar")
            await services.subscriptions.set_digest_times(chat_id, ["12:30"])
        moved(app, clock, NOON + timedelta(minutes=30, seconds=1))
        await emulator.next_message(chats[0], timeout=10)
        await run_due_digests(app)
        await app.bot_data.delivery.drain(timeout=60)
        assert [len(emulator.sent(chat_id)) for chat_id in chats] == [1] * len(chats)
        assert len(await outbox_rows(services)) == len(chats)
        assert await run_due_digests(app) == 0


async def test_one_pass_runs_a_slot_cut_into_batches_of_a_few_kinds_of_digest(
    emulator, bot_config, monkeypatch
):
    monkeypatch.setattr(digests_module, "GROUPS_PER_BATCH", 1)
    clock = FakeClock(NOON)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        await store(services, draft("خبر مغربي"), draft("خبر رياضي", topics=("sport",)))
        chats = {20: (), 21: ("maroc",), 22: ("sport",), 23: ()}
        for chat_id, topics in chats.items():
            emulator.add_chat(chat_id, "private")
            await services.languages.texts_for(
                chat_id, chat_type="private", title=None, telegram_code="ar"
            )
            await services.subscriptions.subscribe(chat_id, topics, language="ar")
            await services.subscriptions.set_digest_times(chat_id, ["12:30"])
        clock.set(NOON + timedelta(minutes=30, seconds=1))  # the loop asleep: this pass runs it
        assert await run_due_digests(app) == len(chats)  # three batches, one pass
        await app.bot_data.delivery.drain(timeout=10)
        assert [len(digests_at(emulator, chat_id)) for chat_id in chats] == [1] * len(chats)
