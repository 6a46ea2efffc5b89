"""Admins make channels and forum topics post the news as it arrives, through the real bot,
its polling jobs, the outbox worker and the Bot API emulator."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.app import build_application, polling
from bot.config import DeliveryConfig, SourceConfig
from emulator import BotApiEmulator, SentMessage
from emulator.simulation import sender_and_chat, user_message
from storage import autopost_items
from storage import sources as stored_sources
from tests.support import NOW
from tests.support.clock import FakeClock
from tests.support.digest_world import outbox_rows
from tests.support.feeds import item, rss

ADMIN = 42
MEMBER = 55
READERS = (7, 8, 9)
CHANNEL = -1005678
FORUM = -1001234
TOPIC = 9
DATE = "Sun, 23 Feb 2025 11:00:00 GMT"
FAST_DELIVERY = DeliveryConfig(per_chat_interval_seconds=0.0, per_group_per_minute=600.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sources(feeds) -> tuple[SourceConfig, ...]:
    return (
        SourceConfig(name="maroc", url=feeds.url("/maroc.xml"), topics=("maroc",)),
        SourceConfig(name="sport", url=feeds.url("/sport.xml"), topics=("sport",)),
        SourceConfig(name="other", url=feeds.url("/other.xml"), topics=("maroc",)),
    )


@pytest.fixture
def config(bot_config, sources):
    return bot_config.model_copy(update={"sources": sources, "delivery": FAST_DELIVERY})


@pytest.fixture
async def app(emulator, config, clock):
    # Sources are polled by running their jobs by hand: the first run would otherwise come
    # after FIRST_POLL_DELAY_SECONDS, on its own.
    application = build_application(config, clock=clock)
    async with polling(application, poll_timeout=1):
        yield application


def services(app):
    return app.bot_data.services


async def ask(emulator: BotApiEmulator, chat_id: int, text: str, **user) -> SentMessage:
    await emulator.send_text(chat_id, text, **user)
    return await emulator.next_message(chat_id)


def channel_with_admin(emulator: BotApiEmulator) -> None:
    emulator.add_chat(CHANNEL, "channel", title="قناة الأخبار", username="akhbar_ma")
    emulator.set_member(CHANNEL, ADMIN, "administrator")


def forum_with_admin(emulator: BotApiEmulator) -> None:
    emulator.add_chat(FORUM, "supergroup", title="منتدى الرياضة", is_forum=True)
    emulator.set_member(FORUM, ADMIN, "administrator")
    emulator.set_member(FORUM, MEMBER, "member")


async def poll(app, *names: str) -> None:
    """Poll these sources now as the polling loop does (ingest, instant pushes, auto-posts),
    then deliver."""
    for name in names:
        source = await stored_sources.get(services(app).db, name)
        await services(app).ingestion.poll(source)
    await services(app).instant.push_new_articles()
    await services(app).autopost.post_new_articles()
    await app.bot_data.delivery.drain()


async def flush(app) -> None:
    """Run the "more news" job as the JobQueue would, then deliver."""
    [job] = [job for job in app.job_queue.jobs() if job.name == "autopost:more-news"]
    await job.run(app)
    await app.bot_data.delivery.drain()


def story(n: int, *, host: str = "news.test", body: str = "", image: str = "") -> str:
    return item(
        f"خبر عاجل رقم {n} من الرباط",
        f"https://{host}/{n}",
        body=body,
        date=DATE,
        image=image,
    )


def posts(emulator: BotApiEmulator, chat_id: int) -> list[SentMessage]:
    return [m for m in emulator.sent(chat_id) if not m.is_deleted]


async def test_channel_and_forum_topic_post_each_new_article_once_in_their_style(
    emulator, feeds, app
):
    channel_with_admin(emulator)
    forum_with_admin(emulator)
    made = await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc summary -كرة")
    assert made.text.startswith("تم تفعيل النشر التلقائي رقم 1 في قناة الأخبار: maroc · عنوان")
    made = await ask(
        emulator, FORUM, "/autopost sport photo 5/h", user_id=ADMIN, message_thread_id=TOPIC
    )
    assert "منتدى الرياضة: sport · صورة وملخص · بحد أقصى 5 في الساعة" in made.text

    long_body = "الفقرة الأولى " + "كلمة " * 120 + "\n\nالفقرة الثانية لا تظهر."
    feeds.publish(
        "/maroc.xml",
        rss(  # newest first, as feeds list them
            item("مباراة كرة القدم", "https://news.test/foot", date=DATE),
            story(2),
            story(1, body=long_body),
        ),
    )
    feeds.publish(
        "/sport.xml",
        rss(
            item("الرجاء يتعادل", "https://sport.test/2"),
            item("الوداد يفوز", "https://sport.test/1", image="https://sport.test/1.jpg"),
        ),
    )
    await poll(app, "maroc", "sport")

    channel = posts(emulator, CHANNEL)
    assert [m.text.splitlines()[0] for m in channel] == [
        "خبر عاجل رقم 1 من الرباط",
        "خبر عاجل رقم 2 من الرباط",
    ]  # oldest first; the football story is filtered out by -كرة
    first = channel[0].text
    assert "الفقرة الأولى" in first and "الفقرة الثانية" not in first and "…" in first
    assert "اقرأ الخبر كاملا" in first and first.endswith("#maroc")
    assert channel[0].entities[0]["type"] == "bold"
    link = next(e for e in channel[0].entities if e["type"] == "text_link")
    assert re.fullmatch(r"https://t\.me/akhbar_test_bot\?start=read_\d+", link["url"])

    forum = posts(emulator, FORUM)[1:]  # after the confirmation
    assert {m.message_thread_id for m in forum} == {TOPIC}
    photo, text = forum
    assert photo.photo == "https://sport.test/1.jpg" and photo.caption.startswith("الوداد يفوز")
    [(label, data)] = photo.buttons
    assert label == "🚩 إبلاغ عن الصورة" and data.startswith("x1:")
    assert text.text.startswith("الرجاء يتعادل") and text.photo is None

    await poll(app, "maroc", "sport")  # nothing new: nothing posted again
    assert len(posts(emulator, CHANNEL)) == 2 and len(posts(emulator, FORUM)) == 3


async def test_the_same_story_from_another_source_is_not_posted_twice(emulator, feeds, app):
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc")
    feeds.publish("/maroc.xml", rss(story(1)))
    await poll(app, "maroc")
    # Another site, another address, the same headline with different marks, a day later: a
    # new article for the archive, not for the channel.
    feeds.publish(
        "/other.xml",
        rss(
            item(
                "خبرٌ عاجلٌ رقم 1 من الرباط!",
                "https://other.test/x",
                date="Mon, 24 Feb 2025 08:00:00 GMT",
            ),
            story(2, host="other.test"),
        ),
    )
    await poll(app, "other")
    assert [m.text.splitlines()[0] for m in posts(emulator, CHANNEL)] == [
        "خبر عاجل رقم 1 من الرباط",
        "خبر عاجل رقم 2 من الرباط",
    ]


async def test_a_burst_of_100_with_a_cap_of_10_gives_10_posts_and_one_more_news_digest(
    emulator, feeds, app, clock
):
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma 10/h")
    feeds.publish("/maroc.xml", rss(*(story(n) for n in range(100))))
    await poll(app, "maroc")
    assert len(posts(emulator, CHANNEL)) == 10

    clock.advance(minutes=30)
    await flush(app)  # the hour is not over: nothing yet
    assert len(posts(emulator, CHANNEL)) == 10

    clock.advance(minutes=31)
    await flush(app)
    await flush(app)  # a second run finds nothing more to send
    channel = posts(emulator, CHANNEL)
    assert len(channel) == 11
    digest = channel[-1].text
    assert digest.startswith("📰 أخبار أخرى من الساعة الأخيرة")
    assert len(re.findall(r"^\d+\. ", digest, flags=re.MULTILINE)) == 15
    assert "و75 خبرا آخر تجدونها في" in digest and digest.endswith("/latest")


async def test_quiet_hours_hold_posts_until_they_end(emulator, feeds, app, clock):
    channel_with_admin(emulator)
    # NOW is 12:00 in Casablanca too (UTC+0 during Ramadan 2025).
    await ask(emulator, ADMIN, "/autopost @akhbar_ma 11:30-13:00")
    feeds.publish("/maroc.xml", rss(story(1), story(2)))
    await poll(app, "maroc")
    assert posts(emulator, CHANNEL) == []
    clock.advance(minutes=61)  # 13:01 in Casablanca
    await flush(app)
    [digest] = posts(emulator, CHANNEL)
    assert digest.text.startswith("📰") and "خبر عاجل رقم 2" in digest.text


async def test_a_member_and_a_stranger_are_refused(emulator, app):
    channel_with_admin(emulator)
    forum_with_admin(emulator)
    refused = await ask(emulator, FORUM, "/autopost", user_id=MEMBER)
    assert refused.text.startswith("لا يوجد نشر تلقائي في منتدى الرياضة")  # listing is open
    refused = await ask(emulator, FORUM, "/autopost maroc", user_id=MEMBER)
    assert refused.text == "هذا الأمر لمشرفي منتدى الرياضة فقط."
    refused = await ask(emulator, READERS[0], "/autopost @akhbar_ma maroc")
    assert refused.text == "هذا الأمر لمشرفي قناة الأخبار فقط."
    refused = await ask(emulator, READERS[0], "/autopost off @akhbar_ma")
    assert refused.text == "هذا الأمر لمشرفي قناة الأخبار فقط."
    assert await services(app).autopost.of_chat(CHANNEL) == []
    assert await services(app).autopost.of_chat(FORUM) == []


async def test_bad_requests_get_a_clear_answer(emulator, app):
    channel_with_admin(emulator)
    bad = await ask(emulator, ADMIN, "/autopost @akhbar_ma 500/h")
    assert bad.text.startswith("الوتيرة «500/h» غير صالحة")
    bad = await ask(emulator, ADMIN, "/autopost @akhbar_ma 25:00-07:00")
    assert bad.text.startswith("ساعات الهدوء «25:00-07:00» غير صالحة")
    bad = await ask(emulator, ADMIN, "/autopost maroc")
    assert bad.text.startswith("لتفعيل النشر التلقائي في قناة اذكر اسمها")


async def test_rules_are_listed_and_stopped_by_number(emulator, app):
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc")
    await ask(emulator, ADMIN, "/autopost @akhbar_ma sport photo preview 23:00-07:00")
    listing = await ask(emulator, ADMIN, "/autopost @akhbar_ma")
    lines = listing.text.splitlines()
    assert lines[0] == "النشر التلقائي في قناة الأخبار"
    assert lines[1] == "1. maroc · عناوين · بحد أقصى 10 في الساعة"
    assert lines[2] == (
        "2. sport · صورة وملخص · بحد أقصى 10 في الساعة · لا نشر بين 23:00 و07:00"
        " · مع معاينة الروابط"
    )
    done = await ask(emulator, ADMIN, "/autopost off 1 @akhbar_ma")
    assert done.text == "تم إيقاف النشر التلقائي في قناة الأخبار (1)."
    missing = await ask(emulator, ADMIN, "/autopost off 7 @akhbar_ma")
    assert missing.text == "لا يوجد نشر تلقائي بالرقم 7 في قناة الأخبار."
    [left] = await services(app).autopost.of_chat(CHANNEL)
    assert left.topics == ("sport",)


async def test_a_channel_that_removed_the_bot_pauses_and_the_admin_is_told(emulator, feeds, app):
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc")
    emulator.add_my_chat_member_update(CHANNEL, new_status="left", old_status="administrator")
    await ask(emulator, READERS[0], "/help")  # updates are handled in order
    [rule] = await services(app).autopost.of_chat(CHANNEL)
    assert rule.is_paused
    await app.bot_data.delivery.drain()
    notice = await emulator.next_message(ADMIN)
    assert "أوقفت النشر التلقائي" in notice.text and "قناة الأخبار" in notice.text
    feeds.publish("/maroc.xml", rss(story(1)))
    await poll(app, "maroc")
    assert posts(emulator, CHANNEL) == []


async def test_hiding_an_image_edits_the_auto_posted_photo(emulator, feeds, app):
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc photo")
    feeds.publish("/maroc.xml", rss(story(1, image="https://news.test/1.jpg")))
    await poll(app, "maroc")
    [photo] = posts(emulator, CHANNEL)
    [(_, data)] = photo.buttons
    for reader in READERS:
        query = await emulator.press_button(CHANNEL, photo.message_id, data, user_id=reader)
        await emulator.wait_for_callback_answer(query)
    # The edit is queued once the third report is answered, and delivered by the worker.
    await emulator.wait_for(lambda call: call.method == "editMessageMedia" and call.is_ok)
    [edited] = posts(emulator, CHANNEL)
    assert edited.is_edited and edited.photo != "https://news.test/1.jpg"
    assert edited.caption == photo.caption


async def test_a_restart_mid_burst_neither_loses_nor_doubles_a_post(emulator, feeds, config, clock):
    channel_with_admin(emulator)
    forum_with_admin(emulator)
    # A named worker: the restarted bot takes back the rows its predecessor held at once.
    named = config.model_copy(
        update={"delivery": FAST_DELIVERY.model_copy(update={"worker_id": "akhbar"})}
    )
    slow = config.model_copy(
        update={
            "delivery": DeliveryConfig(
                per_chat_interval_seconds=0.05, concurrency=1, worker_id="akhbar"
            )
        }
    )
    first = build_application(slow, clock=clock)
    async with polling(first, poll_timeout=1):
        await ask(emulator, ADMIN, "/autopost @akhbar_ma 30/h")
        await ask(emulator, FORUM, "/autopost 30/h", user_id=ADMIN, message_thread_id=TOPIC)
        feeds.publish("/maroc.xml", rss(*(story(n) for n in range(30))))
        maroc = await stored_sources.get(services(first).db, "maroc")
        await services(first).ingestion.poll(maroc)
        await services(first).autopost.post_new_articles()
        first.bot_data.delivery.wake()
        await emulator.wait_for(
            lambda call: (
                call.method == "sendMessage"
                and call.is_ok
                and str(call.params.get("chat_id")) == str(CHANNEL)
            ),
            10,
        )
        # A crash: the worker stops where it is, nothing more is recorded.
        at_risk = await first.bot_data.delivery.abort()
        first.bot_data.delivery = None
    sent_before = len(posts(emulator, CHANNEL)) + len(posts(emulator, FORUM))
    assert 0 < sent_before < 60  # the crash came mid-burst

    second = build_application(named, clock=clock)
    async with polling(second, poll_timeout=1):
        await poll(second, "maroc")  # polling again finds nothing new
        await second.bot_data.delivery.drain()
        db = services(second).db
        for chat in (CHANNEL, FORUM):
            assert (await autopost_items.counts(db, chat_id=chat)) == {"posted": 30}
    for chat in (CHANNEL, FORUM):
        titles = [m.text.splitlines()[0] for m in posts(emulator, chat) if m.text.startswith("خبر")]
        assert set(titles) == {f"خبر عاجل رقم {n} من الرباط" for n in range(30)}
        doubled = len(titles) - 30
        # Only a send in flight at the instant of the crash may arrive twice (concurrency 1).
        assert doubled == 0 or (doubled == 1 and chat in at_risk)


async def test_an_admin_never_gets_old_news_when_auto_posting_starts(emulator, feeds, app):
    feeds.publish("/maroc.xml", rss(story(1)))
    await poll(app, "maroc")
    channel_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma on")
    await poll(app, "maroc")
    assert posts(emulator, CHANNEL) == []
    assert [r.kind for r in await outbox_rows(services(app), CHANNEL)] == []
    feeds.publish("/maroc.xml", rss(story(1), story(2)))
    await poll(app, "maroc")
    assert [m.text.splitlines()[0] for m in posts(emulator, CHANNEL)] == [
        "خبر عاجل رقم 2 من الرباط"
    ]


async def press(emulator: BotApiEmulator, message: SentMessage, data: str, user_id: int = ADMIN):
    """Tap a button and return the message once the bot has edited it (or the alert)."""
    query = await emulator.press_button(message.chat_id, message.message_id, data, user_id=user_id)
    answer = await emulator.wait_for_callback_answer(query)

    def current() -> SentMessage:
        [now] = [m for m in emulator.sent(message.chat_id) if m.message_id == message.message_id]
        return now

    async with asyncio.timeout(5):
        while not answer.show_alert and current().text == message.text:
            await emulator.api.messages_changed.wait(1)
    return current(), answer


async def test_settings_buttons_turn_a_picked_channel_s_auto_posting_on_and_off(emulator, app):
    channel_with_admin(emulator)
    user, chat = sender_and_chat(emulator.state, ADMIN, None)
    origin = {"type": "channel", "chat": emulator.state.chats[CHANNEL].json, "message_id": 3,
              "date": 1}  # fmt: skip
    forwarded = user_message(emulator.state, user, chat, text="خبر", forward_origin=origin)
    emulator.api.push_update("message", forwarded)
    assert (await emulator.next_message(ADMIN)).text.startswith("تم اختيار «قناة الأخبار»")
    settings = await ask(emulator, ADMIN, "/settings")
    [(label, data)] = [b for b in settings.buttons if b[1].startswith("ap1:")]
    assert label == "📡 النشر التلقائي في قناتي"
    menu, _ = await press(emulator, settings, data)
    assert menu.text.startswith("لا يوجد نشر تلقائي في قناة الأخبار.")
    summary = next(d for text, d in menu.buttons if text == "عنوان وملخص")
    menu, _ = await press(emulator, menu, summary)
    assert "1. كل المواضيع · عنوان وملخص · بحد أقصى 10 في الساعة" in menu.text
    [rule] = await services(app).autopost.of_chat(CHANNEL)
    assert rule.created_by == ADMIN
    emulator.set_member(CHANNEL, ADMIN, "member")  # no longer an admin: the next tap is refused
    stop = next(d for text, d in menu.buttons if text == "⏹ إيقاف النشر التلقائي")
    _, answer = await press(emulator, menu, stop)
    assert answer.text == "هذا الأمر لمشرفي قناة الأخبار فقط." and answer.show_alert
    emulator.set_member(CHANNEL, ADMIN, "administrator")
    menu, _ = await press(emulator, menu, stop)
    assert menu.text.startswith("لا يوجد نشر تلقائي في قناة الأخبار.")
    assert await services(app).autopost.of_chat(CHANNEL) == []


async def test_link_previews_follow_the_admin_s_choice(emulator, feeds, app):
    channel_with_admin(emulator)
    forum_with_admin(emulator)
    await ask(emulator, ADMIN, "/autopost @akhbar_ma maroc preview")
    await ask(emulator, FORUM, "/autopost maroc", user_id=ADMIN)
    feeds.publish("/maroc.xml", rss(story(1)))
    await poll(app, "maroc")
    sends = {
        int(call.params["chat_id"]): json.loads(call.params["link_preview_options"])
        for call in emulator.requests
        if call.method == "sendMessage" and "خبر عاجل" in str(call.params.get("text"))
    }
    assert sends == {CHANNEL: {"is_disabled": False}, FORUM: {"is_disabled": True}}
