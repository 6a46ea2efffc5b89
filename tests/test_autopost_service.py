"""AutopostService over a real database (SQLite and PostgreSQL): what it queues, holds, folds
and leaves out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import BotConfig, Config, StorageConfig
from bot.errors import TooManyAutopostRules
from bot.models import ArticleDraft, AutopostStyle, ChatRights, TargetChat
from bot.services import open_services
from bot.subscriptions.autopost_requests import AutopostRequest
from storage import autopost_items
from tests.support.clock import FakeClock
from tests.support.digest_world import outbox_rows, store

RIGHTS = ChatRights(is_admin=True, bot_may_post=True)
CHANNELS = (-1001, -1002, -1003)
GROUP = -500


@pytest.fixture
def clock():
    return FakeClock(datetime(2025, 3, 3, 7, 0, tzinfo=UTC))


@pytest.fixture
async def services(db_path, clock):
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        bot=BotConfig(load_sample_news=False),
    )
    opened = await open_services(config, clock=clock)
    await opened.digests.remember_bot_username("akhbar_test_bot")
    yield opened
    await opened.close()


async def rule(services, chat_id: int, **request) -> None:
    target = TargetChat(chat_id, "channel", f"قناة {chat_id}")
    await services.autopost.create(
        target, AutopostRequest(**request), rights=RIGHTS, user_id=42, thread_id=None,
        language="ar",
    )  # fmt: skip


def draft(n: int, *, image: str | None = None) -> ArticleDraft:
    return ArticleDraft(
        source="هسبريس",
        title=f"خبر رقم {n}",
        body=f"نص الخبر {n}.",
        url=f"https://news.test/{n}",
        published_at=datetime(2025, 3, 3, 6, n, tzinfo=UTC),
        topics=("maroc",),
        image_url=image,
    )


async def test_posts_are_queued_round_robin_across_chats(services):
    for chat in CHANNELS:
        await rule(services, chat)
    await store(services, draft(1), draft(2))
    assert await services.autopost.post_new_articles() == 6
    rows = await outbox_rows(services)
    assert [r.chat_id for r in rows] == sorted(CHANNELS) * 2
    assert {r.key for r in rows} == {f"autopost:{c}:{a}" for c in CHANNELS for a in (1, 2)}


async def test_a_second_pass_and_a_replayed_pass_queue_nothing_more(services):
    await rule(services, CHANNELS[0])
    await store(services, draft(1))
    assert await services.autopost.post_new_articles() == 1
    assert await services.autopost.post_new_articles() == 0
    await services.db.execute("DELETE FROM bot_settings WHERE name = 'autopost_after_id'")
    await services.db.execute("INSERT INTO bot_settings VALUES ('autopost_after_id', '0')")
    await services.db.commit()
    assert await services.autopost.post_new_articles() == 0  # decided once per chat and article
    assert len(await outbox_rows(services)) == 1


async def test_a_photo_post_carries_its_image_and_a_hidden_image_falls_back_to_text(services):
    await rule(services, CHANNELS[0], style=AutopostStyle.PHOTO)
    shown_id, hidden_id = await store(
        services, draft(1, image="https://img.test/1.jpg"), draft(2, image="https://img.test/2.jpg")
    )
    image = await services.moderation.register_article_image(
        hidden_id, "https://img.test/2.jpg", data=None
    )
    for reader in (7, 8, 9):
        await services.moderation.report(image, reporter_id=reader, chat_id=reader)
    await services.autopost.post_new_articles()
    rows = await services.db.execute_fetchall(
        "SELECT key, photo_url, image_id, report_button FROM outbox ORDER BY id"
    )
    by_key = {r["key"]: r for r in rows}
    photo = by_key[f"autopost:{CHANNELS[0]}:{shown_id}"]
    assert photo["photo_url"] == "https://img.test/1.jpg" and photo["image_id"]
    assert photo["report_button"] == "🚩 إبلاغ عن الصورة"
    assert by_key[f"autopost:{CHANNELS[0]}:{hidden_id}"]["photo_url"] is None


async def test_held_articles_of_a_removed_rule_are_never_sent(services, clock):
    await rule(services, CHANNELS[0], hourly_cap=1)
    await store(services, draft(1), draft(2), draft(3))
    assert await services.autopost.post_new_articles() == 1
    await services.autopost.remove(CHANNELS[0], number=1, thread_id=None, rights=RIGHTS)
    clock.advance(hours=2)
    assert await services.autopost.flush_due() == 0
    counts = await autopost_items.counts(services.db, chat_id=CHANNELS[0])
    assert counts == {"posted": 1, "duplicate": 2}


async def test_a_paused_chat_gets_no_late_pile_of_news(services, clock):
    await rule(services, CHANNELS[0], hourly_cap=1)
    await store(services, draft(1), draft(2))
    await services.autopost.post_new_articles()
    await services.subscriptions.chat_unreachable(CHANNELS[0], "removed")
    clock.advance(hours=2)
    assert await services.autopost.flush_due() == 0
    await services.subscriptions.chat_reachable(CHANNELS[0])
    assert await services.autopost.flush_due() == 0
    kinds = [r.kind for r in await outbox_rows(services, CHANNELS[0])]
    assert kinds == ["autopost"]


async def test_a_migrated_group_keeps_its_rules_and_history(services):
    await rule(services, GROUP)
    await store(services, draft(1))
    await services.autopost.post_new_articles()
    await services.subscriptions.chat_migrated(GROUP, -100500)
    [moved] = await services.autopost.of_chat(-100500)
    assert moved.topics == ()
    counts = await autopost_items.counts(services.db, chat_id=-100500)
    assert counts == {"posted": 1}


async def test_each_chat_may_have_only_so_many_rules(services):
    for _ in range(services.config.autopost.max_rules_per_chat):
        await rule(services, CHANNELS[0])
    with pytest.raises(TooManyAutopostRules):
        await rule(services, CHANNELS[0])
