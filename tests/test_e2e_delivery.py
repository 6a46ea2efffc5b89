"""Digests reach their chats through the outbox and the broadcast worker, as subscribers see it."""

from __future__ import annotations

import re

from bot.app import build_application, polling
from bot.ptb.jobs import run_due_digests
from tests.conftest import NOW
from tests.support.digest_world import MovableClock, draft, outbox_rows, store
from tests.test_e2e_reading import ask

USER = 7
ADMIN = 42
CHANNEL = -1005678


def deep_links(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"start=read_(\d+)", text)]


async def test_a_subscriber_receives_the_digest_at_its_time_and_never_an_article_twice(
    emulator, bot_config
):
    clock = MovableClock(NOW)
    # The shipped sample has maroc headlines too: this test counts only its own.
    quiet = bot_config.bot.model_copy(update={"load_sample_news": False})
    app = build_application(
        bot_config.model_copy(update={"bot": quiet}), clock=clock, poll_sources=False
    )
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        await ask(emulator, "/subscribe maroc")
        await ask(emulator, "/digest 12:30 13:30")
        first_batch = await store(
            services, draft("أول خبر عن المغرب", minutes=1), draft("خبر رياضي", topics=("sport",))
        )
        clock.advance(minutes=31)
        await run_due_digests(app)
        digest = await emulator.next_message(USER)
        assert "أول خبر عن المغرب" in digest.text
        assert "خبر رياضي" not in digest.text  # topics filter the digest
        assert deep_links(digest.raw_text) == [first_batch[0]]

        second_batch = await store(services, draft("ثاني خبر عن المغرب", minutes=2))
        clock.advance(hours=1)
        await run_due_digests(app)
        later = await emulator.next_message(USER)
        assert deep_links(later.raw_text) == second_batch  # nothing it already received

        clock.advance(days=1)
        await run_due_digests(app)  # nothing new: the digest is skipped
        await app.bot_data.delivery.drain(timeout=5)
        assert [m.text for m in emulator.sent(USER)][-1] == later.text


async def test_a_channel_schedule_posts_the_digest_to_the_channel(emulator, bot_config):
    clock = MovableClock(NOW)
    emulator.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="akhbar_news")
    emulator.set_member(CHANNEL, ADMIN, "creator")
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        emulator.set_member(CHANNEL, app.bot.id, "administrator", can_post_messages=True)
        await emulator.send_text(ADMIN, "/schedule @akhbar_news 12:30 5")
        assert "قناة الأخبار" in (await emulator.next_message(ADMIN)).text
        clock.advance(minutes=31)
        await run_due_digests(app)
        post = await emulator.next_message(CHANNEL)
        assert len(deep_links(post.raw_text)) >= 1


async def test_a_subscriber_who_blocked_the_bot_is_paused_until_they_unblock_it(
    emulator, bot_config
):
    clock = MovableClock(NOW)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        await ask(emulator, "/subscribe")
        await ask(emulator, "/digest 12:30")
        emulator.block(USER)
        clock.advance(minutes=31)
        await run_due_digests(app)
        await emulator.wait_for(lambda call: call.status == 403)
        await app.bot_data.delivery.drain(timeout=5)
        [schedule] = await services.schedules.of_chat(USER)
        assert schedule.is_paused
        assert await services.digests.send_now(USER) == 0  # inactive chats get nothing

        emulator.add_my_chat_member_update(USER, new_status="member", old_status="kicked")
        await ask(emulator, "/help")  # updates are handled in order
        [schedule] = await services.schedules.of_chat(USER)
        assert not schedule.is_paused
        await store(services, draft("خبر بعد العودة", minutes=5))
        clock.advance(days=1)
        await run_due_digests(app)
        back = await emulator.next_message(USER)
        assert "خبر بعد العودة" in back.text


async def test_a_migrated_group_gets_its_digest_at_the_new_id(emulator, bot_config):
    clock = MovableClock(NOW)
    emulator.add_chat(-500, "group", title="مجموعة")
    emulator.set_member(-500, ADMIN, "creator")
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        await emulator.send_text(-500, "/schedule 12:30", user_id=ADMIN)
        await emulator.next_message(-500)
        emulator.migrate_group(-500, -1009999, notify=False)  # the bot hears of it on send
        clock.advance(minutes=31)
        await run_due_digests(app)
        digest = await emulator.next_message(-1009999)
        assert deep_links(digest.raw_text)
        [schedule] = await app.bot_data.services.schedules.of_chat(-1009999)
        [row] = await outbox_rows(app.bot_data.services, -500)  # queued before the move
        assert row.key.startswith(f"digest:-500:{schedule.id}:")
