"""Subscribers and admins set up digests through the real bot and the Bot API emulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.app import build_application, polling
from bot.ptb.jobs import run_due_digests
from emulator import BotApiEmulator
from emulator.simulation import sender_and_chat, user_message
from tests.conftest import NOW
from tests.support.digest_world import MovableClock, outbox_rows
from tests.test_e2e_reading import ask, button, press_and_see_edit

USER = 7
ADMIN = 42
MEMBER = 55
GROUP = -1001234
CHANNEL = -1005678


def services(akhbar):
    return akhbar.bot_data.services


async def next_fires(akhbar) -> dict[int, datetime]:
    """Each schedule's next fire time as the scheduler loop reads it."""
    rows = await services(akhbar).db.execute_fetchall(
        "SELECT id, next_fire_at FROM schedules WHERE next_fire_at IS NOT NULL"
    )
    return {row[0]: datetime.fromtimestamp(row[1], UTC) for row in rows}


def group_with_admin(emulator: BotApiEmulator, *, is_forum: bool = False) -> None:
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة", is_forum=is_forum)
    emulator.set_member(GROUP, ADMIN, "administrator")
    emulator.set_member(GROUP, MEMBER, "member")


async def test_subscribe_gets_a_daily_digest_job_and_a_summary(emulator, akhbar):
    reply = await ask(emulator, "/subscribe")
    assert reply.text.startswith("تم اشتراكك")
    assert "08:00" in reply.text and "Africa/Casablanca" in reply.text
    assert len(await next_fires(akhbar)) == 1
    again = await ask(emulator, "/subscribe")
    assert again.text.startswith("أنت مشترك من قبل")
    assert len(await next_fires(akhbar)) == 1


async def test_digest_times_and_time_zone_are_set_and_validated(emulator, akhbar):
    await ask(emulator, "/subscribe", language_code="en")
    assert "08:00 19:30" in (await ask(emulator, "/digest 19:30 8:00")).text
    assert "is not a time" in (await ask(emulator, "/digest 25:00")).text
    assert "I do not know the time zone" in (await ask(emulator, "/timezone Mars/Olympus")).text
    assert (await ask(emulator, "/timezone europe/paris")).text == (
        "Done: your times now follow the Europe/Paris time zone."
    )
    [fires] = (await next_fires(akhbar)).values()
    assert fires == datetime(2025, 2, 23, 18, 30, tzinfo=UTC)  # 19:30 in Paris (UTC+1)
    settings = await ask(emulator, "/settings")
    assert "Time zone: Europe/Paris" in settings.text
    assert "Digest: 08:00 19:30 (every day)" in settings.text


async def test_topics_keyboard_toggles_topics_and_instant_mode(emulator, akhbar):
    config = services(akhbar).config
    assert (await ask(emulator, "/topics")).text.startswith("لست مشتركا")
    await ask(emulator, "/subscribe maroc")
    keyboard = await ask(emulator, "/topics")
    assert config.bot.default_language == "ar" and keyboard.text.startswith("اضغط على موضوع")
    labels = [text for text, _ in keyboard.buttons]
    assert "✅ maroc" in labels
    assert all(len(data.encode()) <= 64 for _, data in keyboard.buttons)
    [instant] = [data for text, data in keyboard.buttons if data == "u1:i:maroc"]
    edited = await press_and_see_edit(emulator, keyboard, instant)
    assert ("⚡", "u1:i:maroc") in edited.buttons
    edited = await press_and_see_edit(emulator, edited, "u1:t:maroc")
    assert ("▫️ maroc", "u1:t:maroc") in edited.buttons
    subscription = await services(akhbar).subscriptions.subscription(USER)
    assert subscription.topics == () and subscription.instant_topics == ("maroc",)


async def test_filters_are_shown_changed_and_cleared_with_a_button(emulator, akhbar):
    await ask(emulator, "/subscribe")
    assert "لا توجد لديك تصفية" in (await ask(emulator, "/filter")).text
    shown = await ask(emulator, "/filter +المغرب -كرة")
    assert "أبق فقط الأخبار التي فيها: المغرب" in shown.text
    assert "استبعد الأخبار التي فيها: كرة" in shown.text
    cleared = await press_and_see_edit(emulator, shown, button(shown, "امسح التصفية"))
    assert cleared.text.startswith("تم مسح التصفية")
    assert "لا توجد لديك تصفية" in (await ask(emulator, "/filter")).text


async def test_settings_buttons_subscribe_and_unsubscribe(emulator, akhbar):
    summary = await ask(emulator, "/settings", language_code="fr")
    assert "Abonné : non" in summary.text
    subscribed = await press_and_see_edit(emulator, summary, button(summary, "S'abonner"))
    assert "Abonné : oui" in subscribed.text
    assert len(await next_fires(akhbar)) == 1
    gone = await press_and_see_edit(emulator, subscribed, button(subscribed, "Se désabonner"))
    assert "Abonné : non" in gone.text
    assert await next_fires(akhbar) == {}


async def test_the_scheduler_queues_the_subscribers_digest_once_per_slot(emulator, bot_config):
    clock = MovableClock(NOW)  # 12:00 UTC, noon in Casablanca (UTC+0 during Ramadan 2025)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        await ask(emulator, "/subscribe")
        await ask(emulator, "/digest 12:30")
        [fires] = (await next_fires(app)).values()
        assert fires == NOW.replace(minute=30)
        clock.advance(minutes=31)
        assert await run_due_digests(app) == 1
        [schedule] = await services(app).schedules.of_chat(USER)
        [row] = await outbox_rows(services(app), USER)
        assert (
            row.key
            == f"digest:{USER}:{schedule.id}:{int(clock.now.replace(minute=30).timestamp())}"
        )
        # the sample news all comes from one source: at most max_per_source (3) of it
        assert len(re.findall(r"start=read_\d+", row.text)) == 3
        assert "akhbar_test_bot" in row.text
        assert await run_due_digests(app) == 0  # the same slot again
        assert len(await outbox_rows(services(app), USER)) == 1


async def test_group_admin_schedules_and_a_member_is_refused(emulator, akhbar):
    group_with_admin(emulator)
    await emulator.send_text(GROUP, "/schedule 08:00 18:00 mon-fri maroc 5", user_id=ADMIN)
    created = await emulator.next_message(GROUP)
    assert created.text.startswith("تم إنشاء الجدول 1 في نادي القراءة")
    assert "maroc" in created.text and "5 عناوين" in created.text
    await emulator.send_text(GROUP, "/schedule 09:00", user_id=MEMBER)
    refused = await emulator.next_message(GROUP)
    assert refused.text == "هذا الأمر لمشرفي نادي القراءة فقط."
    assert len(await next_fires(akhbar)) == 1


async def test_a_bot_that_may_not_post_refuses_with_the_reason(emulator, akhbar):
    group_with_admin(emulator)
    emulator.set_member(GROUP, akhbar.bot.id, "left")
    await emulator.send_text(GROUP, "/schedule 08:00", user_id=ADMIN)
    refused = await emulator.next_message(GROUP)
    assert refused.text.startswith("لا يسمح لي بالنشر في نادي القراءة")


async def test_forum_schedule_targets_the_topic_where_it_was_made(emulator, akhbar):
    group_with_admin(emulator, is_forum=True)
    await emulator.send_text(GROUP, "/schedule 08:00", user_id=ADMIN, message_thread_id=9)
    await emulator.next_message(GROUP)
    [schedule] = await services(akhbar).schedules.of_chat(GROUP)
    assert schedule.thread_id == 9


async def test_schedules_are_listed_and_removed_by_number(emulator, akhbar):
    group_with_admin(emulator)
    for text in ("/schedule 08:00", '/schedule cron "30 19 * * 1-5" sport'):
        await emulator.send_text(GROUP, text, user_id=ADMIN)
        await emulator.next_message(GROUP)
    await emulator.send_text(GROUP, "/schedules", user_id=MEMBER)
    listing = await emulator.next_message(GROUP)
    lines = listing.text.splitlines()
    assert lines[0] == "جداول نادي القراءة"
    assert lines[1].startswith("1. 08:00 (كل يوم)")
    assert lines[2].startswith("\u200f2. cron 30 19 * * 1-5 · sport")  # laid out right to left
    await emulator.send_text(GROUP, "/unschedule 1", user_id=MEMBER)
    assert "لمشرفي" in (await emulator.next_message(GROUP)).text
    await emulator.send_text(GROUP, "/unschedule 1", user_id=ADMIN)
    assert (await emulator.next_message(GROUP)).text == "تم حذف الجدول 1 من نادي القراءة."
    await emulator.send_text(GROUP, "/unschedule 5", user_id=ADMIN)
    assert "جدول بالرقم 5" in (await emulator.next_message(GROUP)).text
    assert len(await next_fires(akhbar)) == 1


async def test_channel_admin_schedules_from_a_private_chat_by_name(emulator, akhbar):
    emulator.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="akhbar_ma")
    emulator.set_member(CHANNEL, ADMIN, "administrator")
    reply = await ask(emulator, "/schedule @akhbar_ma 07:00 sat,sun", chat_id=ADMIN)
    assert reply.text.startswith("تم إنشاء الجدول 1 في قناة الأخبار")
    [schedule] = await services(akhbar).schedules.of_chat(CHANNEL)
    assert schedule.rule.days == (5, 6) and schedule.created_by == ADMIN
    unknown = await ask(emulator, "/schedule @nowhere 07:00", chat_id=ADMIN)
    assert "لم أجد المحادثة @nowhere" in unknown.text
    stranger = await ask(emulator, "/schedule @akhbar_ma 09:00", chat_id=USER)
    assert stranger.text == "هذا الأمر لمشرفي قناة الأخبار فقط."
    peek = await ask(emulator, "/schedules @akhbar_ma", chat_id=USER)
    assert peek.text == "هذا الأمر لمشرفي قناة الأخبار فقط."
    listing = await ask(emulator, "/schedules @akhbar_ma", chat_id=ADMIN)
    assert listing.text.startswith("جداول قناة الأخبار")


async def test_channel_without_the_right_to_post_is_refused(emulator, akhbar):
    emulator.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="akhbar_ma")
    emulator.set_member(CHANNEL, ADMIN, "creator")
    emulator.set_member(CHANNEL, akhbar.bot.id, "administrator", can_post_messages=False)
    reply = await ask(emulator, "/schedule @akhbar_ma 07:00", chat_id=ADMIN)
    assert reply.text.startswith("لا يسمح لي بالنشر في قناة الأخبار")


async def test_forwarding_a_channel_post_picks_the_channel_to_schedule(emulator, akhbar):
    emulator.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="akhbar_ma")
    emulator.set_member(CHANNEL, ADMIN, "administrator")
    user, chat = sender_and_chat(emulator.state, ADMIN, None)
    channel_json = emulator.state.chats[CHANNEL].json
    origin = {"type": "channel", "chat": channel_json, "message_id": 3, "date": 1}
    payload = user_message(emulator.state, user, chat, text="خبر", forward_origin=origin)
    emulator.api.push_update("message", payload)
    chosen = await emulator.next_message(ADMIN)
    assert chosen.text.startswith("تم اختيار «قناة الأخبار»")
    created = await ask(emulator, "/schedule 08:00", chat_id=ADMIN)
    assert created.text.startswith("تم إنشاء الجدول 1 في قناة الأخبار")
    listing = await ask(emulator, "/schedules", chat_id=ADMIN)
    assert listing.text.startswith("جداول قناة الأخبار")


async def test_preview_arrives_privately_and_posts_nothing(emulator, akhbar):
    group_with_admin(emulator)
    emulator.add_chat(ADMIN, "private")
    await emulator.send_text(GROUP, "/schedule 08:00 3", user_id=ADMIN)
    await emulator.next_message(GROUP)
    await emulator.send_text(GROUP, "/preview", user_id=ADMIN)
    said = await emulator.next_message(GROUP)
    assert said.text == "أرسلت إليك على الخاص معاينة الموجز القادم في نادي القراءة."
    heading = await emulator.next_message(ADMIN)
    assert heading.text.startswith("معاينة الموجز القادم للجدول 1 في نادي القراءة")
    digest = await emulator.next_message(ADMIN)
    assert len(re.findall(r"^\d+\. ", digest.text, flags=re.MULTILINE)) == 3
    assert await outbox_rows(services(akhbar)) == []
    assert await services(akhbar).digests.send_now(GROUP) == 1  # nothing marked delivered


async def test_bot_removed_from_a_group_pauses_and_tells_the_admin(emulator, akhbar):
    group_with_admin(emulator)
    await emulator.send_text(GROUP, "/schedule 08:00", user_id=ADMIN)
    await emulator.next_message(GROUP)
    emulator.add_my_chat_member_update(GROUP, new_status="left", old_status="member")
    await emulator.send_text(USER, "/help")  # updates are handled in order
    await emulator.next_message(USER)
    [schedule] = await services(akhbar).schedules.of_chat(GROUP)
    assert schedule.is_paused
    [notice] = await outbox_rows(services(akhbar), ADMIN)
    assert notice.kind == "notice" and "نادي القراءة" in notice.text
    emulator.add_my_chat_member_update(GROUP, new_status="member", old_status="left")
    await emulator.send_text(USER, "/help")
    await emulator.next_message(USER)
    [schedule] = await services(akhbar).schedules.of_chat(GROUP)
    assert not schedule.is_paused


async def test_a_migrated_group_keeps_its_schedule(emulator, akhbar):
    emulator.add_chat(-500, "group", title="مجموعة")
    emulator.set_member(-500, ADMIN, "creator")
    await emulator.send_text(-500, "/schedule 08:00", user_id=ADMIN)
    await emulator.next_message(-500)
    [before] = await services(akhbar).schedules.of_chat(-500)
    emulator.migrate_group(-500, GROUP)
    await emulator.send_text(USER, "/help")
    await emulator.next_message(USER)
    [after] = await services(akhbar).schedules.of_chat(GROUP)
    assert after.id == before.id
    assert await services(akhbar).schedules.of_chat(-500) == []
    await emulator.send_text(GROUP, "/schedules", user_id=ADMIN)
    assert (await emulator.next_message(GROUP)).text.startswith("جداول مجموعة")
