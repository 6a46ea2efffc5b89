"""The moderation service over a real database (SQLite and PostgreSQL): counting reports,
hiding, restoring, review."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import BadThreshold, ImageNotFound, NotModerator, ThresholdTooLow
from bot.models import ArticleDraft, AuditAction
from bot.moderation.image_identity import perceptual_hash
from bot.moderation.service import ModerationService, ModerationSettings, ReportStatus
from bot.ops import retention
from bot.reading import search_text
from storage import articles, database, image_messages
from storage.connection import is_postgres
from tests.support.pictures import encode, news_card, photo, resized

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
OPERATOR = 1
CHAT = -100500
SETTINGS = ModerationSettings(operator_ids=frozenset({OPERATOR}))


@pytest.fixture(autouse=True)
def monday_morning(clock) -> None:
    clock.set(NOW)


async def _connect(path):
    return await database.connect(path, index_terms=search_text.index_text)


@pytest.fixture
def service(db, clock):
    def build(**settings) -> ModerationService:
        return ModerationService(db, settings=replace(SETTINGS, **settings), clock=clock)

    return build


@pytest.fixture
def moderation(service) -> ModerationService:
    return service()


async def _photo(moderation: ModerationService, name: str = "photo", *, phash=None) -> int:
    sizes = [f"{name}-small", f"{name}-medium", f"{name}-large"]
    return await moderation.register_telegram_photo(sizes, phash=phash)


async def _reports(moderation, image, reporters, *, chat_id=CHAT, **options):
    return [
        await moderation.report(image, reporter_id=user, chat_id=chat_id, **options)
        for user in reporters
    ]


async def _article(db, title: str) -> int:
    draft = ArticleDraft(source="hespress", title=title, url=f"https://news.test/{title}")
    await articles.insert_many(db, [articles.NewArticle(draft, title, NOW)])
    await db.commit()
    rows = await db.execute_fetchall("SELECT id FROM articles WHERE title = ?", (title,))
    return rows[0][0]


async def _writes_so_far(db) -> object:
    """What changes with any write: SQLite's count of changed rows; on PostgreSQL each table's
    row count and newest row version (`xmin`, the id of the transaction that wrote it)."""
    if not is_postgres(db):
        return db.total_changes
    tables = await db.execute_fetchall(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    marks = []
    for (table,) in tables:
        rows = await db.execute_fetchall(
            f'SELECT count(*), max(CAST(CAST(xmin AS TEXT) AS BIGINT)) FROM "{table}"'
        )
        marks.append((table, *rows[0]))
    return marks


async def test_three_distinct_people_hide_an_image(moderation):
    image = await _photo(moderation)
    outcomes = await _reports(moderation, image, [11, 12, 13])
    assert [o.status for o in outcomes] == [ReportStatus.COUNTED] * 3
    assert [(o.count, o.threshold) for o in outcomes] == [(1, 3), (2, 3), (3, 3)]
    assert [o.just_hidden for o in outcomes] == [False, False, True]
    assert await moderation.is_hidden(image)


async def test_one_person_reporting_three_times_is_counted_once(moderation):
    image = await _photo(moderation)
    outcomes = await _reports(moderation, image, [11, 11, 11])
    assert [o.status for o in outcomes] == [
        ReportStatus.COUNTED,
        ReportStatus.ALREADY_REPORTED,
        ReportStatus.ALREADY_REPORTED,
    ]
    assert outcomes[-1].count == 1
    assert not await moderation.is_hidden(image)


async def test_any_size_of_a_photo_can_be_reported(moderation):
    image = await _photo(moderation)
    outcomes = await _reports(moderation, "photo-small", [11]) + await _reports(
        moderation, "photo-large", [12]
    )
    assert [(o.image_id, o.count) for o in outcomes] == [(image, 1), (image, 2)]


async def test_registering_a_photo_again_returns_the_same_image(moderation):
    image = await _photo(moderation)
    again = await moderation.register_telegram_photo(["photo-large", "photo-xl"], phash=None)
    assert again == image
    assert (await moderation.report("photo-xl", reporter_id=11, chat_id=CHAT)).image_id == image


@pytest.mark.parametrize("threshold", [3, 100])
async def test_100_simultaneous_reports_count_exactly_and_hide_once(service, threshold):
    moderation = service(threshold=threshold, rate_limit_per_hour=1000)
    image = await _photo(moderation)
    outcomes = await asyncio.gather(
        *(moderation.report(image, reporter_id=1000 + n, chat_id=CHAT) for n in range(100))
    )
    counted = [o for o in outcomes if o.status is ReportStatus.COUNTED]
    assert sorted(o.count for o in counted) == list(range(1, threshold + 1))
    assert sum(o.just_hidden for o in outcomes) == 1
    assert [o.count for o in outcomes if o.just_hidden] == [threshold]
    assert sum(o.status is ReportStatus.ALREADY_HIDDEN for o in outcomes) == 100 - threshold
    [item] = await moderation.review_queue()
    assert (item.weight, item.reporters, item.image.is_hidden) == (threshold, threshold, True)


@pytest.mark.parametrize("threshold", [3, 100])
async def test_two_processes_sharing_the_database_hide_once(db_path, db, clock, threshold):
    settings = replace(SETTINGS, threshold=threshold, rate_limit_per_hour=1000)
    other_db = await _connect(db_path)
    try:
        first = ModerationService(db, settings=settings, clock=clock)
        second = ModerationService(other_db, settings=settings, clock=clock)
        image = await _photo(first)
        outcomes = await asyncio.gather(
            *(
                (first if n % 2 else second).report(image, reporter_id=1000 + n, chat_id=CHAT)
                for n in range(100)
            )
        )
    finally:
        await other_db.close()
    assert sum(o.status is ReportStatus.COUNTED for o in outcomes) == threshold
    assert sum(o.just_hidden for o in outcomes) == 1
    [item] = await first.review_queue()
    assert item.weight == threshold
    hides = [e for e in await first.audit() if e.action is AuditAction.HIDDEN_BY_REPORTS]
    assert len(hides) == 1


async def test_two_processes_counting_the_last_two_reports_at_once_hide_once(db_path, db, clock):
    # Two database objects are what two bot processes have: on PostgreSQL two pools, two
    # sessions, so each race below is decided by the database, not by this event loop.
    settings = replace(SETTINGS, threshold=3, rate_limit_per_hour=1000)
    other_db = await _connect(db_path)
    try:
        first = ModerationService(db, settings=settings, clock=clock)
        second = ModerationService(other_db, settings=settings, clock=clock)
        images = [await _photo(first, f"race{n}") for n in range(20)]
        races = []
        for image in images:  # one race at a time, so both start together every time
            await _reports(first, image, [11])
            races.append(
                await asyncio.gather(
                    first.report(image, reporter_id=12, chat_id=CHAT),
                    second.report(image, reporter_id=13, chat_id=CHAT),
                )
            )
        hidden = [await second.is_hidden(image) for image in images]
    finally:
        await other_db.close()
    for pair in races:
        assert [o.status for o in pair] == [ReportStatus.COUNTED] * 2
        assert sorted(o.count for o in pair) == [2, 3]
        assert [o.count for o in pair if o.just_hidden] == [3]
    assert all(hidden)
    hides = [e.image_id for e in await first.audit() if e.action is AuditAction.HIDDEN_BY_REPORTS]
    assert sorted(hides) == sorted(images)


async def test_one_person_reporting_from_two_processes_at_once_counts_once(db_path, db, clock):
    settings = replace(SETTINGS, rate_limit_per_hour=1000)
    other_db = await _connect(db_path)
    try:
        first = ModerationService(db, settings=settings, clock=clock)
        second = ModerationService(other_db, settings=settings, clock=clock)
        images = [await _photo(first, f"twice{n}") for n in range(20)]
        races = [
            await asyncio.gather(
                first.report(image, reporter_id=11, chat_id=CHAT),
                second.report(image, reporter_id=11, chat_id=CHAT),
            )
            for image in images
        ]
    finally:
        await other_db.close()
    for pair in races:
        assert sorted(o.status for o in pair) == sorted(
            [ReportStatus.COUNTED, ReportStatus.ALREADY_REPORTED]
        )
    queue = await first.review_queue(limit=50)
    assert sorted((i.image.id, i.weight, i.reporters) for i in queue) == [
        (image, 1, 1) for image in images
    ]


async def test_the_rate_limit_stops_a_flood_until_the_hour_has_passed(moderation, clock):
    images = [await _photo(moderation, f"p{n}") for n in range(22)]
    outcomes = [await moderation.report(i, reporter_id=11, chat_id=CHAT) for i in images[:21]]
    assert [o.status for o in outcomes] == [ReportStatus.COUNTED] * 20 + [ReportStatus.RATE_LIMITED]
    assert outcomes[-1].count == 0  # the refused report was not stored
    clock.advance(minutes=59)
    assert (await moderation.report(images[21], reporter_id=11, chat_id=CHAT)).status is (
        ReportStatus.RATE_LIMITED
    )
    clock.advance(minutes=2)
    assert (await moderation.report(images[21], reporter_id=11, chat_id=CHAT)).is_counted


@pytest.mark.parametrize("forged", [987654, -1, "no-such-photo"])
async def test_a_forged_or_stale_image_is_refused_and_counts_nothing(moderation, forged):
    image = await _photo(moderation)
    outcome = await moderation.report(forged, reporter_id=11, chat_id=CHAT)
    assert outcome.status is ReportStatus.UNKNOWN_IMAGE
    assert await moderation.review_queue() == []
    assert (await moderation.report(image, reporter_id=11, chat_id=CHAT)).count == 1


async def test_reporting_a_hidden_image_is_acknowledged_not_counted(moderation):
    image = await _photo(moderation)
    await _reports(moderation, image, [11, 12, 13])
    outcome = await moderation.report(image, reporter_id=14, chat_id=CHAT)
    assert (outcome.status, outcome.count, outcome.just_hidden) == (
        ReportStatus.ALREADY_HIDDEN,
        3,
        False,
    )


async def test_unhide_restores_and_earlier_reports_no_longer_count(moderation, clock):
    image = await _photo(moderation)
    await _reports(moderation, image, [11, 12, 13])
    assert await moderation.unhide(image, actor_id=OPERATOR)
    assert not await moderation.is_hidden(image)
    clock.advance(hours=25)
    outcomes = await _reports(moderation, image, [11, 12, 13])
    assert [o.count for o in outcomes] == [1, 2, 3]
    assert [o.just_hidden for o in outcomes] == [False, False, True]


async def test_no_automatic_hiding_again_during_the_cool_down(moderation, clock):
    image = await _photo(moderation)
    await _reports(moderation, image, [11, 12, 13])
    await moderation.unhide(image, actor_id=OPERATOR)
    during = await _reports(moderation, image, [21, 22, 23])
    clock.advance(hours=23, minutes=59)
    during += await _reports(moderation, image, [24])
    assert [o.count for o in during] == [1, 2, 3, 4]
    assert not any(o.just_hidden for o in during)
    assert not await moderation.is_hidden(image)
    clock.advance(minutes=1)
    [after] = await _reports(moderation, image, [25])
    assert after.just_hidden
    assert await moderation.is_hidden(image)


async def test_unhiding_a_visible_image_changes_nothing(moderation):
    image = await _photo(moderation)
    await _reports(moderation, image, [11])
    assert not await moderation.unhide(image, actor_id=OPERATOR)
    assert (await moderation.report(image, reporter_id=12, chat_id=CHAT)).count == 2


async def test_an_ignored_reporter_is_acknowledged_not_counted(moderation):
    image = await _photo(moderation)
    await _reports(moderation, image, [11])
    assert await moderation.ignore_reporter(11, actor_id=OPERATOR)
    outcomes = await _reports(moderation, image, [12, 13, 14])
    assert [o.count for o in outcomes] == [1, 2, 3]  # 11's earlier report stopped counting
    assert [o.just_hidden for o in outcomes] == [False, False, True]
    other = await _photo(moderation, "other")
    ignored = await moderation.report(other, reporter_id=11, chat_id=CHAT)
    assert (ignored.status, ignored.count) == (ReportStatus.IGNORED_REPORTER, 0)


async def test_an_unignored_reporter_counts_again(moderation):
    image = await _photo(moderation)
    await moderation.ignore_reporter(11, actor_id=OPERATOR)
    assert await moderation.unignore_reporter(11, actor_id=OPERATOR)
    assert (await moderation.report(image, reporter_id=11, chat_id=CHAT)).is_counted


async def test_a_chat_threshold_overrides_the_global_one(moderation):
    strict, lenient = -1001, -1002
    await moderation.set_chat_threshold(strict, 2, actor_id=OPERATOR)
    await moderation.set_chat_threshold(lenient, 5, actor_id=77, is_chat_admin=True)
    first, second = await _photo(moderation, "a"), await _photo(moderation, "b")
    in_strict = await _reports(moderation, first, [11, 12], chat_id=strict)
    in_lenient = await _reports(moderation, second, [11, 12, 13, 14], chat_id=lenient)
    assert in_strict[-1].just_hidden and in_strict[-1].threshold == 2
    assert not any(o.just_hidden for o in in_lenient) and in_lenient[-1].threshold == 5
    await moderation.set_chat_threshold(lenient, None, actor_id=OPERATOR)
    assert await moderation.chat_threshold(lenient) == 3


@pytest.mark.parametrize("threshold", [0, 101])
async def test_a_threshold_out_of_range_is_refused(moderation, threshold):
    with pytest.raises(BadThreshold):
        await moderation.set_chat_threshold(CHAT, threshold, actor_id=OPERATOR)


async def test_an_admins_report_weighs_more(service):
    moderation = service(admin_weight=2)
    image = await _photo(moderation)
    admin = await moderation.report(image, reporter_id=11, chat_id=CHAT, is_admin=True)
    [user] = await _reports(moderation, image, [12])
    assert (admin.count, user.count, user.just_hidden) == (2, 3, True)


async def test_only_operators_and_chat_admins_moderate(moderation):
    image = await _photo(moderation)
    with pytest.raises(NotModerator):
        await moderation.unhide(image, actor_id=99)
    with pytest.raises(NotModerator):
        await moderation.ignore_reporter(11, actor_id=99)
    with pytest.raises(NotModerator):
        await moderation.set_chat_threshold(CHAT, 1, actor_id=99)
    with pytest.raises(ImageNotFound):
        await moderation.unhide(424242, actor_id=OPERATOR)
    assert await moderation.audit() == []


async def test_a_resized_copy_of_a_hidden_image_is_hidden_an_unrelated_one_is_not(moderation):
    original = photo(7)
    image = await _photo(moderation, "original", phash=perceptual_hash(encode(original)))
    await _reports(moderation, image, [11, 12, 13])
    copy_hash = perceptual_hash(encode(resized(original), "JPEG", quality=60))
    copy = await _photo(moderation, "copy", phash=copy_hash)
    unrelated = await _photo(moderation, "unrelated", phash=perceptual_hash(encode(news_card(7))))
    assert await moderation.is_hidden(copy)
    assert not await moderation.is_hidden(unrelated)
    assert (await moderation.image(copy)).copy_of == image


async def test_copies_are_found_across_the_sign_bit_of_the_stored_hash(moderation):
    # Hashes are stored as signed 64-bit integers: the top bit must count like any other.
    top = (1 << 63) | 0x0F0F_00FF
    image = await _photo(moderation, "original", phash=top)
    await _reports(moderation, image, [11, 12, 13])
    near = await _photo(moderation, "near", phash=top ^ 0b1011)  # 3 bits apart
    across = await _photo(moderation, "across", phash=top ^ (1 << 63) ^ 1)  # 2, one the sign
    far = await _photo(moderation, "far", phash=top ^ 0xFF800)  # 9 or more from each
    full = await _photo(moderation, "full", phash=2**64 - 1)
    assert [await moderation.is_hidden(i) for i in (near, across, far)] == [True, True, False]
    assert (await moderation.image(image)).phash == top
    assert (await moderation.image(full)).phash == 2**64 - 1


async def test_a_photo_seen_before_the_hiding_is_hidden_when_seen_again(moderation):
    original = photo(8)
    early_copy = await _photo(moderation, "early", phash=perceptual_hash(encode(resized(original))))
    image = await _photo(moderation, "original", phash=perceptual_hash(encode(original)))
    await _reports(moderation, image, [11, 12, 13])
    assert not await moderation.is_hidden(early_copy)
    await moderation.register_telegram_photo(["early-small"], phash=None)
    assert await moderation.is_hidden(early_copy)


async def test_restoring_an_image_restores_its_hidden_copies(moderation):
    original = photo(9)
    image = await _photo(moderation, "original", phash=perceptual_hash(encode(original)))
    await _reports(moderation, image, [11, 12, 13])
    copy_hash = perceptual_hash(encode(original, "JPEG", quality=40))
    copy = await _photo(moderation, "copy", phash=copy_hash)
    await moderation.unhide(image, actor_id=OPERATOR)
    assert not await moderation.is_hidden(copy)
    assert await _photo(moderation, "copy", phash=copy_hash) == copy
    assert not await moderation.is_hidden(copy)


async def test_articles_whose_image_is_hidden_are_found_cheaply(db, moderation):
    original = photo(10)
    first, second, third = [await _article(db, title) for title in ("one", "two", "three")]
    hidden = await moderation.register_article_image(
        first, "https://img.test/1.jpg", data=encode(original, "JPEG", quality=90)
    )
    await moderation.register_article_image(
        second, "https://img.test/2.jpg", data=encode(photo(11), "JPEG")
    )
    await _reports(moderation, hidden, [11, 12, 13])
    await moderation.register_article_image(
        third, "https://mirror.test/small.jpg", data=encode(resized(original, 0.3), "JPEG")
    )
    assert await moderation.hidden_article_ids([first, second, third, 999]) == {first, third}


async def test_the_same_article_image_at_another_url_is_the_same_image(db, moderation):
    one, two = await _article(db, "one"), await _article(db, "two")
    data = encode(photo(12), "JPEG")
    first = await moderation.register_article_image(one, "https://a.test/x.jpg", data=data)
    second = await moderation.register_article_image(two, "https://b.test/y.jpg", data=data)
    by_url = await moderation.register_article_image(one, "https://a.test/x.jpg", data=None)
    assert first == second == by_url


async def test_places_shown_pages_through_10000_chats(db, moderation, clock):
    image = await _photo(moderation)
    other = await _photo(moderation, "other")
    for chat in range(10_000):
        await image_messages.record(
            db, chat_id=chat, message_id=chat + 7, image_id=image, caption_html="<b>t</b>", at=NOW
        )
    await db.commit()
    await moderation.record_sent(5, 6, other, caption_html=None)
    batches = [batch async for batch in moderation.iter_places_shown(image, batch=500)]
    assert [len(batch) for batch in batches] == [500] * 20
    places = [(m.chat_id, m.message_id) for batch in batches for m in batch]
    assert places == [(chat, chat + 7) for chat in range(10_000)]
    [only] = await moderation.places_shown(other)
    assert (only.chat_id, only.message_id, only.has_caption) == (5, 6, False)


async def test_the_review_queue_lists_reported_and_hidden_images_newest_first(moderation, clock):
    quiet, hidden, reported = [await _photo(moderation, n) for n in ("q", "h", "r")]
    await _reports(moderation, hidden, [11, 12, 13])
    clock.advance(minutes=5)
    await _reports(moderation, reported, [14])
    queue = await moderation.review_queue()
    assert [(i.image.id, i.weight, i.image.is_hidden) for i in queue] == [
        (reported, 1, False),
        (hidden, 3, True),
    ]
    assert queue[0].last_report_at == NOW + timedelta(minutes=5)
    assert quiet not in {i.image.id for i in queue}


async def test_every_moderator_action_is_audited(moderation, clock):
    image = await _photo(moderation)
    await _reports(moderation, image, [11, 12, 13])
    clock.advance(minutes=1)
    await moderation.unhide(image, actor_id=OPERATOR)
    await moderation.ignore_reporter(11, actor_id=OPERATOR)
    await moderation.set_chat_threshold(CHAT, 4, actor_id=56, is_chat_admin=True)
    entries = await moderation.audit()
    assert [(e.action, e.actor_id, e.at) for e in entries] == [
        (AuditAction.SET_CHAT_THRESHOLD, 56, clock.now),
        (AuditAction.IGNORE_REPORTER, OPERATOR, clock.now),
        (AuditAction.UNHIDE, OPERATOR, clock.now),
        (AuditAction.HIDDEN_BY_REPORTS, None, NOW),
    ]
    assert (entries[1].subject_id, entries[2].image_id) == (11, image)


async def test_reports_survive_a_restart(db_path, db, clock, moderation):
    image = await _photo(moderation)
    await _reports(moderation, image, [11, 12])
    await db.close()
    reopened = await _connect(db_path)
    try:
        again = ModerationService(reopened, settings=SETTINGS, clock=clock)
        [outcome] = await _reports(again, image, [13])
    finally:
        await reopened.close()
    assert outcome.just_hidden


async def test_reading_an_article_again_writes_nothing_and_sees_it_hidden(db, moderation):
    article = await _article(db, "one")
    first = await moderation.article_image(article, "https://img.test/a.jpg")
    writes = await _writes_so_far(db)
    again = await moderation.article_image(article, "https://img.test/a.jpg")
    assert again.id == first.id and not again.is_hidden
    assert await _writes_so_far(db) == writes, "a second /read must not write"
    await _reports(moderation, first.id, [11, 12, 13])
    assert (await moderation.article_image(article, "https://img.test/a.jpg")).is_hidden


async def test_a_chat_admin_cannot_lower_the_bar_below_the_global_threshold(moderation):
    with pytest.raises(ThresholdTooLow) as refused:
        await moderation.set_chat_threshold(-100, 1, actor_id=60, is_chat_admin=True)
    assert refused.value.floor == SETTINGS.threshold
    await moderation.set_chat_threshold(-100, 1, actor_id=OPERATOR)
    assert await moderation.chat_threshold(-100) == 1


async def test_messages_showing_an_image_are_forgotten_after_the_kept_history(
    db, moderation, clock
):
    image = await _photo(moderation)
    await moderation.record_sent(5, 50, image, caption_html=None)
    clock.advance(days=20)
    await moderation.record_sent(6, 60, image, caption_html=None)
    clock.advance(days=12)  # the first message is 32 days old, the second 12
    pruned = await retention.prune_history(db, now=clock(), keep_days=31)
    assert pruned.photos == 1
    assert [(m.chat_id, m.message_id) for m in await moderation.places_shown(image)] == [(6, 60)]
