"""Inline mode through the real bot and the emulator: `@bot words` in any chat offers articles
Telegram would accept, paged, in the reader's language; chosen results count as shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram.error import BadRequest

from bot.app import build_application, polling
from bot.models import ArticleDraft
from emulator import BotApiEmulator, InlineAnswer
from emulator.html_parser import parse_html
from tests.support import NOW
from tests.support.clock import FakeClock
from tests.support.digest_world import store

USER = 7
READERS = (7, 8, 9)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def app(emulator, bot_config, clock):
    application = build_application(bot_config, clock=clock, poll_sources=False)
    async with polling(application, poll_timeout=1):
        yield application


def draft(title: str, language: str, *, image: str | None = None, n: int = 0) -> ArticleDraft:
    return ArticleDraft(
        source="le360" if language != "ar" else "هسبريس",
        title=title,
        body=f"{title}. Corps de l'article.",
        url=f"https://news.test/inline/{language}/{n}",
        published_at=datetime(2025, 2, 23, 9, n, tzinfo=UTC),
        language=language,
        topics=("maroc",),
        image_url=image,
    )


async def inline(
    emulator: BotApiEmulator, query: str, *, offset: str = "", language: str | None = "ar"
) -> InlineAnswer:
    query_id = emulator.send_inline_query(USER, query, offset=offset, language_code=language)
    return await emulator.wait_for_inline_answer(query_id)


def assert_telegram_accepts(answer: InlineAnswer) -> None:
    # The emulator already refused what Telegram refuses; these are the limits named in the issue.
    assert len(answer.results) <= 50
    assert len(set(answer.result_ids)) == len(answer.result_ids)
    assert all(1 <= len(rid.encode()) <= 64 for rid in answer.result_ids)
    assert len(answer.next_offset.encode()) <= 64
    assert answer.cache_time > 0 and not answer.is_personal


async def test_an_arabic_query_finds_articles_and_answers_in_arabic(emulator, app):
    answer = await inline(emulator, "المغرب", language="en")
    assert_telegram_accepts(answer)
    assert answer.results and all(r["type"] == "article" for r in answer.results)
    first = answer.results[0]
    assert "المغرب" in first["title"] or "المغرب" in first["input_message_content"]["message_text"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    shared = parse_html(content["message_text"])
    assert "اقرأ الخبر في البوت" in shared.text
    [[button]] = first["reply_markup"]["inline_keyboard"]
    assert button["text"] == "📖 اقرأ في البوت"
    assert button["url"].startswith("https://t.me/akhbar_test_bot?start=read_")


async def test_french_and_english_queries_get_french_and_english_texts(emulator, app):
    await store(
        app.bot_data.services,
        draft("Le Maroc se qualifie pour la finale", "fr", n=1),
        draft("Morocco opens a new port in Nador", "en", n=2),
    )
    french = await inline(emulator, "maroc finale", language="fr")
    assert_telegram_accepts(french)
    assert french.titles[0] == "Le Maroc se qualifie pour la finale"
    assert "Lire dans le bot" in french.results[0]["input_message_content"]["message_text"]
    english = await inline(emulator, "Nador port", language="en")
    assert_telegram_accepts(english)
    assert english.titles[0] == "Morocco opens a new port in Nador"
    assert "Read it in the bot" in english.results[0]["input_message_content"]["message_text"]
    assert "le360" in english.results[0]["description"]


async def test_an_empty_query_pages_through_the_latest_with_next_offset(emulator, app):
    first = await inline(emulator, "")
    assert_telegram_accepts(first)
    assert len(first.results) == 20 and first.next_offset == "2"
    second = await inline(emulator, "", offset=first.next_offset)
    assert_telegram_accepts(second)
    assert not set(first.result_ids) & set(second.result_ids)
    offset, pages = second.next_offset, 2
    while offset:
        page = await inline(emulator, "", offset=offset)
        assert_telegram_accepts(page)
        offset, pages = page.next_offset, pages + 1
    past_the_end = await inline(emulator, "", offset=str(pages + 1))
    assert past_the_end.results == ()
    forged = await inline(emulator, "", offset="abc")
    assert forged.results == () and forged.next_offset == ""


async def test_hidden_images_never_appear_as_thumbnails(emulator, app):
    services = app.bot_data.services
    shown, hidden = await store(
        services,
        draft("Photo visible de Rabat", "fr", image="https://news.test/ok.jpg", n=3),
        draft("Photo signalée de Rabat", "fr", image="https://news.test/bad.jpg", n=4),
    )
    image_id = await services.moderation.register_article_image(
        hidden, "https://news.test/bad.jpg", data=None
    )
    for reader in READERS:
        await services.moderation.report(image_id, reporter_id=reader, chat_id=reader)
    assert await services.moderation.is_hidden(image_id)
    answer = await inline(emulator, "photo rabat", language="fr")
    thumbnails = {r["id"]: r.get("thumbnail_url") for r in answer.results}
    assert thumbnails[f"a{shown}"] == "https://news.test/ok.jpg"
    assert thumbnails[f"a{hidden}"] is None


async def test_chosen_results_count_as_shares_and_latest_shows_the_most_shared(emulator, app):
    answer = await inline(emulator, "")
    first, second = answer.result_ids[:2]
    emulator.choose_inline_result(USER, first)
    emulator.choose_inline_result(USER, second)
    emulator.choose_inline_result(USER, first)
    await emulator.send_text(USER, "/latest shared")
    reply = await emulator.next_message(USER)
    lines = reply.text.splitlines()
    assert lines[0] == "الأكثر مشاركة اليوم"
    assert lines[2].startswith(f"{first[1:]}.") and "مشاركات: 2" in lines[3]
    assert lines[4].startswith(f"{second[1:]}.") and "مشاركات: 1" in lines[5]


async def test_nothing_shared_yet_says_how_to_share(emulator, app):
    await emulator.send_text(USER, "/latest shared")
    reply = await emulator.next_message(USER)
    assert reply.text.startswith("لم يُشارَك أي خبر اليوم بعد.")


async def test_the_emulator_refuses_answers_telegram_would_refuse(emulator, app):
    query_id = emulator.send_inline_query(USER, "x")
    await emulator.wait_for_inline_answer(query_id)  # the bot answered once
    bot = app.bot
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await bot.answer_inline_query(query_id, [])
