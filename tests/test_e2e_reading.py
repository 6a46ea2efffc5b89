"""A subscriber reads the shipped sample news through the real bot and the Bot API emulator."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from importlib import resources

from bot.models import ArticleDraft
from emulator import BotApiEmulator, SentMessage

USER = 7
SAMPLE_HEADLINES = [
    h.strip()
    for h in re.split(
        "\u00a0{2,}",
        (resources.files("bot") / "data" / "sample_news.txt")
        .read_text(encoding="utf-8")
        .splitlines()[0],
    )
    if h.strip()
]
ARTICLE_TITLE = 'تنظيم "داعش" يفقد معظم جيوبه في شرق آسيا'


async def ask(emulator: BotApiEmulator, text: str, chat_id: int = USER, **user) -> SentMessage:
    await emulator.send_text(chat_id, text, **user)
    return await emulator.next_message(chat_id)


def button(message: SentMessage, label: str) -> str:
    return next(data for text, data in message.buttons if text == label)


async def press_and_see_edit(emulator: BotApiEmulator, message: SentMessage, data: str):
    """Tap a button and return the message once the bot has edited it."""
    pressed_at = time.monotonic()
    await emulator.press_button(message.chat_id, message.message_id, data)
    await emulator.wait_for(lambda call: call.method == "editMessageText" and call.at >= pressed_at)
    return next(m for m in emulator.sent(message.chat_id) if m.message_id == message.message_id)


async def press(emulator: BotApiEmulator, message: SentMessage, data: str) -> None:
    query = await emulator.press_button(message.chat_id, message.message_id, data)
    await emulator.wait_for_callback_answer(query)


def listed_titles(message: SentMessage) -> list[str]:
    return re.findall(r"^\d+\. (.+)$", message.text, flags=re.MULTILINE)


def listed_ids(message: SentMessage) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", message.text, flags=re.MULTILINE)]


async def test_start_welcomes_in_arabic_with_what_the_bot_can_do(emulator, akhbar):
    reply = await ask(emulator, "/start", first_name="سلمى")
    assert reply.text.startswith("مرحبا سلمى!")
    for command in ("/latest", "/read", "/search", "/language"):
        assert command in reply.text


async def test_start_follows_telegram_language_for_french_users(emulator, akhbar):
    reply = await ask(emulator, "/start", language_code="fr", first_name="Inès")
    assert reply.text.startswith("Bonjour Inès !")


async def test_subscriber_pages_through_all_58_sample_headlines_in_order(emulator, akhbar):
    assert len(SAMPLE_HEADLINES) == 58
    page = await ask(emulator, "/latest")
    assert page.text.startswith("آخر الأخبار")
    seen = listed_titles(page)
    while "التالي ←" in [text for text, _ in page.buttons]:
        page = await press_and_see_edit(emulator, page, button(page, "التالي ←"))
        assert page.is_edited
        seen += listed_titles(page)
    assert seen[:58] == SAMPLE_HEADLINES
    assert seen[58] == ARTICLE_TITLE


async def test_latest_offers_a_button_per_headline_that_opens_it(emulator, akhbar):
    page = await ask(emulator, "/latest 3")
    ids = listed_ids(page)
    assert len(ids) == 3
    assert [text for text, _ in page.buttons[:3]] == [str(i) for i in ids]
    await press(emulator, page, page.buttons[0][1])
    opened = await emulator.next_message(USER)
    assert opened.text.startswith(SAMPLE_HEADLINES[0])
    assert "النص الكامل لهذا الخبر غير محفوظ عندنا" in opened.text


async def test_reading_the_sample_article_shows_title_source_date_body_and_link(emulator, akhbar):
    results = await ask(emulator, "/search داعش")
    [article_id] = listed_ids(results)
    await emulator.send_text(USER, f"/read {article_id}")
    first = await emulator.next_message(USER)
    assert first.text.splitlines()[0] == ARTICLE_TITLE
    assert {"type": "bold", "offset": 0, "length": len(ARTICLE_TITLE)} in [
        {k: e[k] for k in ("type", "offset", "length")} for e in first.entities
    ]
    assert first.text.splitlines()[1] == "نشر في هسبريس يوم 20 مارس 2019"
    assert "قالت قوات سوريا الديمقراطية" in first.text
    messages = [first]
    while not messages[-1].buttons:  # the source button comes with the last part
        messages.append(await emulator.next_message(USER))
    whole = "\n\n".join(m.text for m in messages)
    assert "*خطر العودة" in whole
    assert whole.rstrip().endswith("قوات سوريا الديمقراطية.")
    [(label, url)] = messages[-1].buttons
    assert label == "اقرأ في المصدر" and url.startswith("https://www.hespress.com/")


async def test_read_shortcut_and_deep_link_open_the_same_article(emulator, akhbar):
    page = await ask(emulator, "/latest 1")
    [article_id] = listed_ids(page)
    by_shortcut = await ask(emulator, f"/read_{article_id}")
    by_deep_link = await ask(emulator, f"/start read_{article_id}")
    assert by_shortcut.text == by_deep_link.text
    assert by_shortcut.text.startswith(SAMPLE_HEADLINES[0])


async def test_bad_read_requests_get_clear_replies(emulator, akhbar):
    assert "اكتب رقم الخبر" in (await ask(emulator, "/read")).text
    assert "«abc» ليس رقم خبر" in (await ask(emulator, "/read abc")).text
    assert "لا يوجد خبر بالرقم 999999" in (await ask(emulator, "/read 999999")).text
    assert "ليس رقم خبر" in (await ask(emulator, "/read 99999999999999999999")).text


async def test_search_finds_every_form_of_a_word(emulator, akhbar):
    by_form = {}
    for query in ("المغرب", "مغرب", "المغربية"):
        reply = await ask(emulator, f"/search {query}")
        by_form[query] = set(listed_ids(reply))
        assert f"نتائج البحث عن «{query}»" in reply.text
    assert by_form["المغرب"] == by_form["مغرب"] == by_form["المغربية"]
    titles = listed_titles(await ask(emulator, "/search المغرب"))
    assert "المغرب يعود إلى الساعة القانونية" in titles


async def test_search_results_are_paged_with_buttons(emulator, akhbar):
    first = await ask(emulator, "/search في")
    total = int(re.search(r"\((\d+) ", first.text).group(1))
    assert total > 8
    second = await press_and_see_edit(emulator, first, button(first, "التالي ←"))
    assert "الصفحة 2 من" in second.text
    assert not set(listed_ids(first)) & set(listed_ids(second))


async def test_bad_searches_get_clear_replies(emulator, akhbar):
    assert "اكتب ما تبحث عنه" in (await ask(emulator, "/search")).text
    assert "طويل جدا" in (await ask(emulator, "/search " + "كلمة " * 60)).text
    assert "لا نتائج" in (await ask(emulator, "/search زلزال")).text
    assert "لم أجد كلمات" in (await ask(emulator, "/search ؟؟")).text


async def test_language_can_be_chosen_by_command_or_keyboard_and_is_remembered(emulator, akhbar):
    assert (await ask(emulator, "/language fr")).text.startswith("C'est fait.")
    assert (await ask(emulator, "/help")).text.startswith("Comment utiliser")
    keyboard = await ask(emulator, "/language")
    chosen = await press_and_see_edit(emulator, keyboard, button(keyboard, "English"))
    assert chosen.text.startswith("Done.")
    assert (await ask(emulator, "/latest 1")).text.startswith("Latest news")
    assert "ar, fr" in (await ask(emulator, "/language de")).text


async def test_unknown_command_and_stale_button_are_answered_politely(emulator, akhbar):
    assert "لا أعرف هذا الأمر" in (await ask(emulator, "/weather")).text
    page = await ask(emulator, "/latest 1")
    query = await emulator.press_button(USER, page.message_id, page.buttons[0][1])
    answer = await emulator.wait_for_callback_answer(query)
    assert answer.text is None  # a real button works
    emulator.state.chats[USER].messages[page.message_id].payload["reply_markup"] = {
        "inline_keyboard": [[{"text": "x", "callback_data": "r0:forged"}]]
    }
    query = await emulator.press_button(USER, page.message_id, "r0:forged")
    assert "قديم" in (await emulator.wait_for_callback_answer(query)).text


async def test_commands_are_registered_in_every_language(emulator, akhbar):
    for language, label in (
        ("ar", "آخر الأخبار"),
        ("fr", "Dernières nouvelles"),
        ("en", "Latest news"),
    ):
        commands = dict(emulator.commands_for(language_code=language))
        assert commands["latest"] == label
    assert dict(emulator.commands_for())["search"] == "البحث في الأخبار"


async def test_editing_a_command_does_not_run_it_again(emulator, akhbar):
    sent = await emulator.send_text(USER, "/latest 1")
    await emulator.next_message(USER)
    await emulator.edit_text(USER, sent["message_id"], "/latest 2")
    follow_up = await ask(emulator, "/help")  # updates are handled in order
    assert follow_up.text.startswith("كيف تستعمل")
    assert len(emulator.sent(USER)) == 2


async def test_other_bots_commands_in_groups_get_no_unknown_command_reply(emulator, akhbar):
    emulator.add_chat(-700, "supergroup", title="مجموعة")
    await emulator.send_text(-700, "/weather@OtherBot", user_id=USER)
    reply = await ask(emulator, "/help", chat_id=-700, user_id=USER)
    assert reply.text.startswith("كيف تستعمل")
    assert len(emulator.sent(-700)) == 1


async def test_an_article_read_in_a_forum_topic_arrives_in_that_topic(emulator, akhbar):
    emulator.add_chat(-800, "supergroup", title="منتدى", is_forum=True)
    page = await ask(emulator, "/latest 1", chat_id=-800, user_id=USER)
    [article_id] = listed_ids(page)
    await emulator.send_text(-800, f"/read_{article_id}", user_id=USER, message_thread_id=5)
    article = await emulator.next_message(-800)
    assert article.text.startswith(SAMPLE_HEADLINES[0])
    assert article.message_thread_id == 5


async def test_only_group_admins_change_a_groups_language(emulator, akhbar):
    emulator.add_chat(-900, "supergroup", title="مجموعة")
    emulator.set_member(-900, USER, "member")
    emulator.set_member(-900, 42, "administrator")
    refused = await ask(emulator, "/language fr", chat_id=-900, user_id=USER)
    assert refused.text == "في المجموعات والقنوات، يغير المشرفون وحدهم لغة البوت."
    done = await ask(emulator, "/language fr", chat_id=-900, user_id=42)
    assert done.text.startswith("C'est fait.")


async def test_dates_are_shown_in_the_readers_own_time_zone(emulator, akhbar):
    services = akhbar.bot_data.services
    # 23:30 in Casablanca (the bot's zone) is already the next morning in Tokyo.
    late = datetime(2025, 2, 22, 22, 30, tzinfo=UTC)
    draft = ArticleDraft(
        source="hespress", title="خبر متأخر", url="https://n.test/1", published_at=late
    )
    await services.ingestion.store([draft])
    await services.db.commit()

    def date_line(message: SentMessage) -> str:
        return next(line for line in message.text.split("\n") if "/read_" in line)

    before = date_line(await ask(emulator, "/search متأخر"))
    await ask(emulator, "/subscribe")
    await ask(emulator, "/timezone Asia/Tokyo")
    after = date_line(await ask(emulator, "/search متأخر"))
    assert "22" in before and "23" not in before
    assert "23" in after and "22" not in after
