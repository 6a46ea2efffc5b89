"""What a new reader meets first: paging, topics, headline-only items, help, preview."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from bot.config import SourceConfig
from emulator import BotApiEmulator, SentMessage
from tests.support.chat import ask, button, listed_ids, listed_titles, press_and_see_edit

USER = 7


@pytest.fixture
def bot_config(bot_config):
    """A configured source whose topic (economie) has no article yet."""
    desk = SourceConfig(name="economy-desk", url="https://economy.test/feed", topics=("economie",))
    return bot_config.model_copy(update={"sources": (desk,)})


def page_line(message: SentMessage) -> str:
    return next(line for line in message.text.splitlines() if line.startswith("الصفحة"))


async def walk_pages(emulator: BotApiEmulator, first: SentMessage) -> list[SentMessage]:
    pages = [first]
    while "التالي ←" in [text for text, _ in pages[-1].buttons]:
        pages.append(await press_and_see_edit(emulator, pages[-1], button(pages[-1], "التالي ←")))
    return pages


async def test_next_page_of_a_short_latest_continues_with_the_same_page_size(emulator, akhbar):
    everything = listed_ids(await ask(emulator, "/latest 20"))
    first = await ask(emulator, "/latest 2")
    assert page_line(first) == "الصفحة 1 من 30"
    second = await press_and_see_edit(emulator, first, button(first, "التالي ←"))
    assert page_line(second) == "الصفحة 2 من 30"
    assert listed_ids(first) + listed_ids(second) == everything[:4]


async def test_paging_search_results_with_an_arabic_query_shows_every_result_once(emulator, akhbar):
    first = await ask(emulator, "/search المغرب")
    total = int(re.search(r"\((\d+) ", first.text).group(1))
    pages = await walk_pages(emulator, first)
    seen = [article_id for page in pages for article_id in listed_ids(page)]
    assert len(pages) > 1
    assert len(seen) == len(set(seen)) == total


async def test_old_page_buttons_without_a_page_size_are_answered_as_stale(emulator, akhbar):
    page = await ask(emulator, "/latest 2")
    emulator.state.chats[USER].messages[page.message_id].payload["reply_markup"] = {
        "inline_keyboard": [[{"text": "x", "callback_data": "l1:2:"}]]
    }
    query = await emulator.press_button(USER, page.message_id, "l1:2:")
    assert "قديم" in (await emulator.wait_for_callback_answer(query)).text


async def test_paging_a_topic_shows_every_article_of_it_once(emulator, akhbar):
    small = await walk_pages(emulator, await ask(emulator, "/latest 3 maroc"))
    seen = [article_id for page in small for article_id in listed_ids(page)]
    assert all(page.text.startswith("آخر الأخبار: المغرب") for page in small)
    assert len(small) > 1 and len(seen) == len(set(seen))
    default = await walk_pages(emulator, await ask(emulator, "/latest maroc"))
    assert seen == [article_id for page in default for article_id in listed_ids(page)]


async def test_the_shipped_sample_has_the_topics_help_and_topics_offer(emulator, akhbar):
    for topic, name in (("maroc", "المغرب"), ("monde", "العالم"), ("sport", "رياضة")):
        reply = await ask(emulator, f"/latest 5 {topic}")
        assert reply.text.startswith(f"آخر الأخبار: {name}")
        assert len(listed_ids(reply)) == 5


async def test_a_headline_only_item_names_its_source_and_links_to_a_search_there(emulator, akhbar):
    [article_id] = listed_ids(await ask(emulator, "/latest 1"))
    opened = await ask(emulator, f"/read {article_id}")
    title, source_line, _, note = opened.text.splitlines()
    assert source_line == "المصدر: هسبريس"
    assert "هسبريس" in note
    (label, url), (related_label, _) = opened.buttons
    assert label == "اقرأ في المصدر"
    assert url.startswith("https://www.hespress.com/?s=") and quote(title) in url
    assert related_label == "🔎 أخبار قريبة منه"


async def test_a_headline_only_item_offers_the_stored_news_that_shares_its_words(emulator, akhbar):
    wanted = "لولاية رابعة.. موخاريق على رأس الاتحاد المغربي للشغل"
    found = await ask(emulator, "/search موخاريق")
    pairs = zip(listed_ids(found), listed_titles(found), strict=True)
    article_id = next(i for i, title in pairs if title == wanted)
    opened = await ask(emulator, f"/read {article_id}")
    await emulator.press_button(USER, opened.message_id, button(opened, "🔎 أخبار قريبة منه"))
    related = await emulator.next_message(USER)
    assert related.text.startswith(f"أخبار قريبة من «{wanted}»")
    titles = listed_titles(related)
    assert titles[0] == "الميلودي موخاريق يقود الاتحاد المغربي للشغل لولاية رابعة"
    assert wanted not in titles
    assert [label for label, _ in related.buttons] == [str(i) for i in listed_ids(related)]


ADMIN = 42
GROUP = -1009876


def lines_counted(message: SentMessage) -> int:
    return len(re.findall(r"^\d+\. ", message.text, flags=re.MULTILINE))


async def test_preview_shows_every_schedule_privately_even_an_empty_one(emulator, akhbar):
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    emulator.add_chat(ADMIN, "private")
    for request in ("/schedule 08:00 maroc 3", "/schedule 18:00 economie 2"):
        await ask(emulator, request, chat_id=GROUP, user_id=ADMIN)
    said = await ask(emulator, "/preview", chat_id=GROUP, user_id=ADMIN)
    assert "الخاص" in said.text
    first, digest, second = [await emulator.next_message(ADMIN) for _ in range(3)]
    assert first.text.startswith("معاينة الموجز القادم للجدول 1 في نادي القراءة")
    assert lines_counted(digest) == 3
    assert second.text.startswith("معاينة الموجز القادم للجدول 2 في نادي القراءة")
    assert "فارغا" in second.text
    named = await ask(emulator, "/preview 2", chat_id=GROUP, user_id=ADMIN)
    assert "الخاص" in named.text and "فارغا" in (await emulator.next_message(ADMIN)).text
    assert len(emulator.sent(GROUP)) == 4  # two confirmations of /schedule, two of /preview


def test_page_button_codecs_round_trip_and_stay_within_64_bytes():
    from handlers.news import LatestPageData
    from handlers.search import SearchPageData

    arabic_topic = "اقتصاد" * 4  # 24 letters, 48 bytes
    latest = LatestPageData(123, 20, arabic_topic)
    assert LatestPageData.decode(latest.encode()) == latest
    assert len(latest.encode().encode("utf-8")) <= 64
    assert LatestPageData(1, 5, arabic_topic + "ة" * 8).encode() is None  # too long: no button
    assert LatestPageData.decode(LatestPageData(2, 8).encode()) == LatestPageData(2, 8, None)
    search = SearchPageData(2, 8, "المغرب الرياضة")
    assert SearchPageData.decode(search.encode()) == search
    for forged in ("l2:1:0:", "l2:1:99:", "l1:2:", "s2:1:8:", "l2:x:8:"):
        assert LatestPageData.decode(forged) is None and SearchPageData.decode(forged) is None
