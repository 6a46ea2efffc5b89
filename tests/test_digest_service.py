"""Digest composition and queueing over a real database (SQLite and PostgreSQL): what a chat
would notice."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, time

import pytest

from bot.config import BotConfig, Config, DigestConfig, SourceConfig, StorageConfig
from bot.formatting import MESSAGE_LIMIT, telegram_length
from bot.models import ChatRights, ScheduleRule, TargetChat, UnreachableReason
from bot.services import open_services
from bot.subscriptions import digests as digests_module
from bot.subscriptions.composition import BulkComposer
from bot.subscriptions.rules import ScheduleRequest
from storage import deliveries, schedules
from tests.support.digest_world import draft, outbox_rows, store

USER = 7
GROUP = -100500
ADMIN = 42
MONDAY_0800 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # Casablanca is UTC+0 in Ramadan 2025
ADMIN_RIGHTS = ChatRights(is_admin=True, bot_may_post=True)


@pytest.fixture(autouse=True)
def monday_seven(clock) -> None:
    clock.set(datetime(2025, 3, 3, 7, 0, tzinfo=UTC))


# A configured source makes its topics known before any article carries them.
DESK = SourceConfig(name="desk", url="https://news.test/feed", topics=("maroc", "sport"))


@pytest.fixture
async def services(db_path, clock):
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        bot=BotConfig(load_sample_news=False),
        digests=DigestConfig(max_per_source=2),
        sources=(DESK,),
    )
    opened = await open_services(config, clock=clock)
    await opened.digests.remember_bot_username("akhbar_test_bot")
    yield opened
    await opened.close()


async def subscriber(services, chat_id=USER, topics=()):
    await services.languages.texts_for(chat_id, chat_type="private", title=None, telegram_code="ar")
    change = await services.subscriptions.subscribe(chat_id, topics, language="ar")
    return change.schedule


async def group_schedule(services, *, times=(time(8),), topics=(), count=None, thread_id=None):
    target = TargetChat(GROUP, "supergroup", "أخبار الحي")
    request = ScheduleRequest(ScheduleRule(times=times), topics, count)
    return await services.schedules.create(
        target, request, rights=ADMIN_RIGHTS, user_id=ADMIN, thread_id=thread_id, language="ar"
    )


def headlines(text: str) -> list[str]:
    return re.findall(r'^<b>\d+\.</b> <a href="[^"]+">([^<]+)</a>', text, flags=re.MULTILINE)


async def test_scheduled_digest_lists_new_headlines_newest_first_with_deep_links(services, clock):
    schedule = await subscriber(services)
    await store(services, draft("الخبر الأول", minutes=1), draft("الخبر الثاني", minutes=2))
    clock.set(MONDAY_0800)
    digest = await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, USER)
    assert row.kind == "digest" and digest is not None
    assert headlines(row.text) == ["الخبر الثاني", "الخبر الأول"]
    assert "https://t.me/akhbar_test_bot?start=read_" in row.text
    assert row.text.startswith("<b>📰 موجز الأخبار · ")
    assert "3 مارس 2025" in row.parts[0]  # the date, in the chat's language and zone


def _around_composing(monkeypatch, hook, *, before: bool) -> None:
    """Run `hook` when a slot composes digests, alike chats together or one by one."""
    for name in ("compose", "compose_shared"):
        original = getattr(BulkComposer, name)

        async def compose(self, *args, original=original, **kwargs):
            if before:
                await hook()
            composed = await original(self, *args, **kwargs)
            if not before:
                await hook()
            return composed

        monkeypatch.setattr(BulkComposer, name, compose)


def before_composing(monkeypatch, hook) -> None:
    _around_composing(monkeypatch, hook, before=True)


def after_composing(monkeypatch, hook) -> None:
    _around_composing(monkeypatch, hook, before=False)


async def test_the_same_slot_is_never_queued_twice(services, clock):
    schedule = await subscriber(services)
    await store(services, draft("خبر"))
    clock.set(MONDAY_0800)
    assert await services.digests.run_schedule(schedule.id) is not None
    clock.advance(minutes=5)  # a re-run of the job within the grace period
    assert await services.digests.run_schedule(schedule.id) is None
    assert len(await outbox_rows(services, USER)) == 1


@pytest.mark.sqlite_only
async def test_other_writers_are_not_held_while_a_slot_is_composed(
    services, clock, db_path, monkeypatch
):
    # The outbox worker writes on its own connection (its sends, its share of the send rate);
    # SQLite has one write lock, so a slot must not hold it while composing digests.
    writable_while_composing = []

    async def try_a_write():
        other = sqlite3.connect(db_path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
            writable_while_composing.append(True)
        except sqlite3.OperationalError:  # database is locked
            writable_while_composing.append(False)
        finally:
            other.close()

    before_composing(monkeypatch, try_a_write)
    await subscriber(services)
    await store(services, draft("خبر"))
    clock.set(MONDAY_0800)
    assert await services.digests.run_due(MONDAY_0800) == (1, 1, False)
    assert writable_while_composing == [True]
    assert len(await outbox_rows(services, USER)) == 1


async def test_a_slot_of_many_different_digests_runs_in_batches_of_a_few_compositions(
    services, clock, monkeypatch
):
    monkeypatch.setattr(digests_module, "GROUPS_PER_BATCH", 2)
    chats = {USER: (), 8: (), 9: ("maroc",), 10: ("sport",), 11: ("maroc", "sport")}
    for chat_id, topics in chats.items():
        await subscriber(services, chat_id, topics)
    await store(services, draft("خبر مغربي"), draft("خبر رياضي", topics=("sport",), minutes=1))
    clock.set(MONDAY_0800)

    batches = []
    while (run := await services.digests.run_due(MONDAY_0800)).claimed:
        batches.append(run)

    # Four kinds of digest, two per batch; the chats alike share one batch.
    assert [(run.claimed, run.more) for run in batches] == [(3, True), (2, True)]
    assert sum(run.queued for run in batches) == len(chats)
    for chat_id in chats:
        assert len(await outbox_rows(services, chat_id)) == 1


async def test_a_failure_between_chunks_of_one_group_leaves_the_rest_due_and_none_twice(
    services, clock, monkeypatch
):
    monkeypatch.setattr(digests_module, "SERVE_CHUNK", 2)
    chats = [USER, 8, 9, 10, 11]
    for chat_id in chats:
        await subscriber(services, chat_id)
    await store(services, draft("خبر للجميع"))
    clock.set(MONDAY_0800)
    claim_and_serve = schedules.claim_and_serve
    calls = 0

    async def failing_second_time(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return await claim_and_serve(*args, **kwargs)

    monkeypatch.setattr(schedules, "claim_and_serve", failing_second_time)
    with pytest.raises(sqlite3.OperationalError):
        await services.digests.run_due(MONDAY_0800)
    assert [len(await outbox_rows(services, c)) for c in chats] == [1, 1, 0, 0, 0]

    monkeypatch.setattr(schedules, "claim_and_serve", claim_and_serve)
    assert await services.digests.run_due(MONDAY_0800) == (3, 3, False)
    assert [len(await outbox_rows(services, c)) for c in chats] == [1] * len(chats)


async def test_an_article_pushed_while_a_slot_is_composed_is_not_in_its_digest(
    services, clock, monkeypatch
):
    await subscriber(services)
    pushed, _ = await store(services, draft("خبر عاجل"), draft("خبر آخر", minutes=1))

    async def push():
        if not await deliveries.delivered_to(services.db, chat_ids=[USER], article_ids=[pushed]):
            # An instant push of the first article lands between composing and queueing.
            await deliveries.record(
                services.db, chat_id=USER, article_ids=[pushed], kind="instant", at=MONDAY_0800
            )
            await services.db.commit()

    after_composing(monkeypatch, push)
    clock.set(MONDAY_0800)
    assert await services.digests.run_due(MONDAY_0800) == (1, 1, False)
    [row] = await outbox_rows(services, USER)
    assert headlines(row.text) == ["خبر آخر"]


async def test_an_article_never_reaches_a_chat_twice(services, clock):
    schedule = await subscriber(services)
    await store(services, draft("خبر قديم"))
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    await store(services, draft("خبر جديد", minutes=5))
    await services.digests.send_now(USER)  # the operator's manual digest, same rules
    clock.set(datetime(2025, 3, 4, 8, 0, tzinfo=UTC))
    assert await services.digests.run_schedule(schedule.id) is None  # nothing left to send
    texts = [row.text for row in await outbox_rows(services, USER)]
    assert [headlines(t) for t in texts] == [["خبر قديم"], ["خبر جديد"]]


async def test_topics_choose_what_a_digest_holds(services, clock):
    schedule = await subscriber(services, topics=["sport"])
    await store(
        services,
        draft("مباراة الرجاء", topics=("sport",)),
        draft("البرلمان يصوت", topics=("maroc",)),
    )
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, USER)
    assert headlines(row.text) == ["مباراة الرجاء"]


async def test_keyword_filters_keep_and_leave_out_words_whatever_their_arabic_form(services, clock):
    schedule = await subscriber(services)
    await services.subscriptions.update_filters(USER, ["+المغرب", "-كرة"])
    await store(
        services,
        draft("المغربية تفوز بجائزة", minutes=1),
        draft("كرة القدم في المغرب", minutes=2),
        draft("أخبار تونس", minutes=3),
    )
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, USER)
    assert headlines(row.text) == ["المغربية تفوز بجائزة"]


async def test_at_most_a_few_headlines_per_source_and_the_schedule_count(services, clock):
    schedule = await group_schedule(services, count=3)
    await store(
        services,
        *(draft(f"هسبريس {n}", source="hespress", minutes=n) for n in range(5)),
        *(draft(f"فرانس {n}", source="france24", minutes=10 + n) for n in range(5)),
    )
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, GROUP)
    assert headlines(row.text) == ["فرانس 4", "فرانس 3", "هسبريس 4"]


async def test_one_source_alone_still_fills_the_count_the_schedule_promises(services, clock):
    schedule = await group_schedule(services, count=4)
    await store(services, *(draft(f"هسبريس {n}", source="hespress", minutes=n) for n in range(6)))
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, GROUP)
    assert headlines(row.text) == ["هسبريس 5", "هسبريس 4", "هسبريس 3", "هسبريس 2"]


async def test_the_cap_gives_way_only_for_the_slots_other_sources_cannot_fill(services, clock):
    schedule = await group_schedule(services, count=5)
    await store(
        services,
        *(draft(f"هسبريس {n}", source="hespress", minutes=10 + n) for n in range(5)),
        draft("فرانس 0", source="france24", minutes=0),
    )
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, GROUP)
    # two of hespress (the cap), france24's one, then the newest held back, in date order
    assert headlines(row.text) == ["هسبريس 4", "هسبريس 3", "هسبريس 2", "هسبريس 1", "فرانس 0"]


async def test_nothing_new_skips_the_digest_but_serves_the_slot(services, clock):
    schedule = await subscriber(services)
    clock.set(MONDAY_0800)
    assert await services.digests.run_schedule(schedule.id) is None
    assert await outbox_rows(services) == []
    await store(services, draft("خبر بعد الموعد"))
    clock.advance(minutes=1)  # the same slot again: still nothing
    assert await services.digests.run_schedule(schedule.id) is None


async def test_nothing_new_sends_a_short_note_when_configured(db_path, clock):
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        bot=BotConfig(load_sample_news=False),
        digests=DigestConfig(empty="note"),
    )
    services = await open_services(config, clock=clock)
    try:
        schedule = await subscriber(services)
        clock.set(MONDAY_0800)
        await services.digests.run_schedule(schedule.id)
        [row] = await outbox_rows(services, USER)
        assert "لا جديد منذ الموجز الأخير" in row.text
    finally:
        await services.close()


async def test_a_long_digest_is_split_between_headlines_within_telegram_limits(services, clock):
    schedule = await group_schedule(services, count=30)
    long_titles = [f"<عنوان> {n} " + "كلمة & " * 40 for n in range(30)]
    await store(
        services,
        *(draft(t, source=f"s{n}", minutes=n) for n, t in enumerate(long_titles)),
    )
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, GROUP)
    assert len(row.parts) > 1
    assert all(telegram_length(part) <= MESSAGE_LIMIT for part in row.parts)
    numbers = [int(n) for p in row.parts for n in re.findall(r"^<b>(\d+)\.</b>", p, re.M)]
    assert numbers == list(range(1, 31))
    assert all(p.count("<a ") == p.count("</a>") for p in row.parts)
    assert "&lt;عنوان&gt;" in row.parts[0] and "&amp;" in row.parts[0]


async def test_a_forum_schedule_posts_in_its_topic(services, clock):
    schedule = await group_schedule(services, thread_id=77)
    await store(services, draft("خبر"))
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    [row] = await outbox_rows(services, GROUP)
    assert row.thread_id == 77


async def test_a_missed_slot_is_sent_within_the_grace_period_only(services, clock):
    schedule = await subscriber(services)
    await store(services, draft("خبر"))
    clock.set(datetime(2025, 3, 3, 9, 30, tzinfo=UTC))  # 90 min late, grace is 60
    assert not services.digests.is_missed(schedule, await services.digests.zone_of(USER))
    assert await services.digests.run_schedule(schedule.id) is None
    clock.set(datetime(2025, 3, 3, 8, 40, tzinfo=UTC))
    assert services.digests.is_missed(schedule, await services.digests.zone_of(USER))
    assert await services.digests.run_schedule(schedule.id) is not None


async def test_a_schedule_made_after_its_time_does_not_send_that_slot(services, clock):
    clock.set(datetime(2025, 3, 3, 8, 10, tzinfo=UTC))
    schedule = await subscriber(services)
    await store(services, draft("خبر"))
    assert await services.digests.run_schedule(schedule.id) is None


async def test_operator_digest_goes_to_every_subscribed_and_scheduled_chat(services, clock):
    await subscriber(services, chat_id=7)
    await subscriber(services, chat_id=8)
    await group_schedule(services)
    await store(services, draft("خبر للجميع"))
    assert await services.digests.send_now() == 3
    assert {row.chat_id for row in await outbox_rows(services)} == {7, 8, GROUP}
    assert await services.digests.send_now() == 0  # they already got it


async def test_unreachable_chat_pauses_its_schedules_and_tells_the_admin(services, clock):
    schedule = await group_schedule(services)
    await services.subscriptions.chat_unreachable(GROUP, UnreachableReason.REMOVED)
    [notice] = await outbox_rows(services, ADMIN)
    assert notice.kind == "notice"
    assert "أخبار الحي" in notice.text and "أوقفت" in notice.text
    assert "لم أعد عضوا فيها" in notice.text
    assert not re.search("[A-Za-z]", notice.text), "an Arabic notice holds no English"
    [paused] = await services.schedules.of_chat(GROUP)
    assert paused.is_paused
    await store(services, draft("خبر"))
    clock.set(MONDAY_0800)
    assert await services.digests.run_schedule(schedule.id) is None
    await services.subscriptions.chat_unreachable(GROUP, UnreachableReason.REMOVED)  # no 2nd notice
    assert len(await outbox_rows(services, ADMIN)) == 1


async def test_a_migrated_group_keeps_its_schedule_and_history(services, clock):
    schedule = await group_schedule(services)
    await store(services, draft("خبر أول"))
    clock.set(MONDAY_0800)
    await services.digests.run_schedule(schedule.id)
    await services.subscriptions.chat_migrated(GROUP, -1009999)
    assert [s.id for s in await services.schedules.of_chat(-1009999)] == [schedule.id]
    await store(services, draft("خبر ثان", minutes=3))
    clock.set(datetime(2025, 3, 4, 8, 0, tzinfo=UTC))
    await services.digests.run_schedule(schedule.id)
    rows = await outbox_rows(services, -1009999)
    assert [headlines(r.text) for r in rows] == [["خبر ثان"]]


async def test_instant_topics_push_new_articles_once_through_filters(services, clock):
    await subscriber(services)
    await services.subscriptions.toggle_topic(USER, "sport", instant=True)
    await services.subscriptions.update_filters(USER, ["-الوداد"])
    assert await services.instant.push_new_articles() == 0  # the first pass sets the mark
    await store(
        services,
        draft("الرجاء يفوز", topics=("sport",)),
        draft("الوداد يخسر", topics=("sport",)),
        draft("البرلمان", topics=("maroc",)),
    )
    assert await services.instant.push_new_articles() == 1
    assert await services.instant.push_new_articles() == 0
    [row] = await outbox_rows(services, USER)
    assert row.kind == "instant" and "الرجاء يفوز" in row.text
    clock.set(MONDAY_0800)  # the digest does not repeat what was pushed
    [schedule] = await services.schedules.of_chat(USER)
    await services.digests.run_schedule(schedule.id)
    digest = (await outbox_rows(services, USER))[-1]
    assert "الرجاء يفوز" not in digest.text and "البرلمان" in digest.text


async def test_subscription_survives_a_restart(db_path, clock):
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        bot=BotConfig(load_sample_news=False),
        sources=(DESK,),
    )
    first = await open_services(config, clock=clock)
    await subscriber(first, topics=["sport"])
    await first.subscriptions.set_digest_times(USER, ["07:15", "21:00"])
    await first.subscriptions.set_timezone(USER, "europe/paris")
    await first.subscriptions.update_filters(USER, ["+المغرب"])
    await first.close()
    second = await open_services(config, clock=clock)
    try:
        view = await second.subscriptions.settings(USER)
        assert view.subscription.topics == ("sport",)
        assert view.subscription.filters.include == ("المغرب",)
        assert view.timezone == "Europe/Paris"
        assert [s.rule.times for s in view.schedules] == [(time(7, 15), time(21, 0))]
    finally:
        await second.close()


async def test_instant_pushes_reach_each_subscriber_once_across_batches(services, clock):
    chats = range(100, 107)
    for chat_id in chats:
        await subscriber(services, chat_id=chat_id)
        await services.subscriptions.toggle_topic(chat_id, "sport", instant=True)
    await services.subscriptions.update_filters(101, ["-الوداد"])
    assert await services.instant.push_new_articles() == 0  # the first pass sets the mark
    ids = await store(
        services,
        draft("الرجاء يفوز", topics=("sport",)),
        draft("الوداد يخسر", topics=("sport",)),
    )
    await deliveries.record(services.db, chat_id=102, article_ids=[ids[0]], kind="x", at=clock())
    await services.db.commit()
    services.instant.batch_size = 3  # several batches of subscribers
    assert await services.instant.push_new_articles() == 2 * 7 - 1 - 1
    rows = await outbox_rows(services)
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == 12
    assert {r.chat_id for r in rows if "الوداد" in r.text} == set(chats) - {101}
    assert {r.chat_id for r in rows if "الرجاء" in r.text} == set(chats) - {102}
