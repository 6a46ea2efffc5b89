"""The bot keeps its manners when Telegram, users or feeds misbehave."""

from __future__ import annotations

import io
import logging
import re

import pytest

from bot.formatting import MESSAGE_LIMIT
from bot.logs import configure_logging
from tests.support import TOKEN
from tests.support.chat import USER, ask, listed_ids
from tests.support.feeds import item, rss

OTHER_USER = 8


@pytest.fixture
def production_logs():
    """The bot's own logging set-up, at its most talkative, restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    written = io.StringIO()
    configure_logging(TOKEN, level=logging.DEBUG, stream=written)
    yield written
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


async def test_a_failing_handler_apologises_and_logs_without_the_token(
    emulator, akhbar, production_logs
):
    emulator.fail_next("sendMessage", status=400, description="Bad Request: something broke")
    apology = await ask(emulator, "/help")
    assert apology.text.startswith("عذرا، حدث خطأ")
    logged = production_logs.getvalue()
    assert re.search(r"ERROR handlers.errors: update \d+ failed", logged)
    assert "Something broke" in logged  # the traceback is there
    assert TOKEN.split(":")[1] not in logged
    assert (await ask(emulator, "/help")).text.startswith("كيف تستعمل")  # still serving


async def test_too_many_requests_is_honoured_and_the_reply_still_arrives(emulator, akhbar):
    emulator.fail_next("sendMessage", status=429, retry_after=1)
    reply = await ask(emulator, "/help")
    assert reply.text.startswith("كيف تستعمل")
    statuses = [call.status for call in emulator.requests if call.method == "sendMessage"]
    assert statuses == [429, 200]
    retried, first = (c for c in reversed(emulator.requests) if c.method == "sendMessage")
    assert retried.at - first.at >= 1.0


async def test_a_user_who_blocked_the_bot_does_not_stop_it_serving_others(emulator, akhbar):
    await emulator.send_text(USER, "/start")
    await emulator.next_message(USER)
    emulator.block(USER)
    await emulator.send_text(USER, "/latest")
    await emulator.wait_for(lambda call: call.method == "sendMessage" and call.status == 403)
    reply = await ask(emulator, "/start", chat_id=OTHER_USER)
    assert reply.text.startswith("مرحبا")


async def ingest(akhbar, feeds, body: str) -> None:
    feeds.publish("/feed.xml", body)
    services = akhbar.bot_data.services
    from bot.config import SourceConfig

    source = SourceConfig(name="test", url=feeds.url("/feed.xml"))
    report = await services.ingestion.ingest_source(source)
    assert not report.failed, report.error


async def test_an_article_with_a_photo_is_sent_as_photo_caption_then_body(emulator, akhbar, feeds):
    await ingest(
        akhbar,
        feeds,
        rss(
            item(
                "صورة اليوم",
                "https://news.test/photo",
                body="<p>الفقرة الأولى.</p><p>الفقرة الثانية.</p>",
                image="https://news.test/photo.jpg",
            )
        ),
    )
    [article_id] = listed_ids(await ask(emulator, "/search صورة اليوم"))
    photo = await ask(emulator, f"/read {article_id}")
    assert photo.photo == "https://news.test/photo.jpg"
    assert photo.caption.startswith("صورة اليوم")
    body = await emulator.next_message(USER)
    assert body.text == "الفقرة الأولى.\n\nالفقرة الثانية."
    assert body.buttons == (("اقرأ في المصدر", "https://news.test/photo"),)


async def test_a_photo_telegram_cannot_fetch_falls_back_to_text(emulator, akhbar, feeds):
    await ingest(
        akhbar,
        feeds,
        rss(item("خبر بصورة معطوبة", "https://news.test/x", body="نص", image="https://x.test/i")),
    )
    [article_id] = listed_ids(await ask(emulator, "/search معطوبة"))
    emulator.fail_next(
        "sendPhoto", status=400, description="Bad Request: wrong file identifier/HTTP URL specified"
    )
    reply = await ask(emulator, f"/read {article_id}")
    assert reply.photo is None
    assert reply.text.startswith("خبر بصورة معطوبة") and reply.text.endswith("نص")


async def test_feed_markup_and_huge_articles_never_break_messages(emulator, akhbar, feeds):
    paragraph = "هذه جملة طويلة & فيها <رموز> خاصة. " * 40
    await ingest(
        akhbar,
        feeds,
        rss(
            item(
                "أ &lt; ب &amp; ج",
                "https://news.test/huge",
                body="".join(f"<p>{n} {paragraph}</p>" for n in range(40)).replace(
                    "<رموز>", "&lt;رموز&gt;"
                ),
            )
        ),
    )
    listing = await ask(emulator, "/latest 1")
    assert "أ < ب & ج" in listing.text
    [article_id] = listed_ids(listing)
    await emulator.send_text(USER, f"/read {article_id}")
    parts = [await emulator.next_message(USER)]
    while not parts[-1].buttons:
        parts.append(await emulator.next_message(USER))
    assert len(parts) > 10
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)
    numbers = [int(n) for p in parts for n in re.findall(r"^(\d+) هذه", p.text, re.MULTILINE)]
    assert numbers == list(range(40))
    assert all(call.status == 200 for call in emulator.requests if call.method == "sendMessage")
