"""Reading and search defects a reviewer met as a new user, checked through the real bot."""

from __future__ import annotations

import re
import time

from emulator import BotApiEmulator, SentMessage

USER = 7


async def ask(emulator: BotApiEmulator, text: str, chat_id: int = USER, **user) -> SentMessage:
    await emulator.send_text(chat_id, text, **user)
    return await emulator.next_message(chat_id)


def listed_ids(message: SentMessage) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", message.text, flags=re.MULTILINE)]


def button(message: SentMessage, label: str) -> str:
    return next(data for text, data in message.buttons if text == label)


async def test_search_ignores_the_definite_article_and_hamza(emulator, akhbar):
    for one, other in (
        ("الانتخابات", "انتخابات"),
        ("الكلاسيكو", "كلاسيكو"),
        ("ألمانيا", "المانيا"),
    ):
        found = listed_ids(await ask(emulator, f"/search {one}"))
        assert found, one
        assert listed_ids(await ask(emulator, f"/search {other}")) == found


async def test_lone_article_and_particles_are_nothing_searchable(emulator, akhbar):
    assert "لم أجد كلمات" in (await ask(emulator, "/search ال")).text
    assert "لم أجد كلمات" in (await ask(emulator, "/search و")).text
    with_particle = await ask(emulator, "/search و المغرب")
    assert listed_ids(with_particle) == listed_ids(await ask(emulator, "/search المغرب"))


async def test_search_lists_title_matches_first_then_newest(emulator, akhbar):
    first = await ask(emulator, "/search المغرب")
    ids = listed_ids(first)
    assert len(ids) == 8
    assert ids == sorted(ids, reverse=True)  # the sample's items are dated by their order


async def open_headline_only(emulator: BotApiEmulator, title: str) -> SentMessage:
    found = await ask(emulator, f"/search {title}")
    article_id = listed_ids(found)[0]
    return await ask(emulator, f"/read {article_id}")


async def test_related_news_needs_more_than_one_shared_word_and_comes_once(emulator, akhbar):
    wanted = "لولاية رابعة.. موخاريق على رأس الاتحاد المغربي للشغل"
    opened = await open_headline_only(emulator, wanted)
    await emulator.press_button(USER, opened.message_id, button(opened, "🔎 أخبار قريبة منه"))
    related = await emulator.next_message(USER)
    assert related.text.startswith(f"أخبار قريبة من «{wanted}»")
    # "الاتحاد" or "المغربي" alone is no link: each listed headline shares two words or more.
    for line in re.findall(r"^\d+\. (.+)$", related.text, flags=re.MULTILINE):
        shared = {"موخاريق", "رابعة", "لولاية", "الاتحاد", "المغربي", "للشغل", "رأس"}
        assert len([w for w in shared if w.removeprefix("ال") in line]) >= 2, line
    refreshed = emulator.state.chats[USER].messages[opened.message_id].payload
    labels = [b["text"] for row in refreshed["reply_markup"]["inline_keyboard"] for b in row]
    assert "🔎 أخبار قريبة منه" not in labels
    assert "اقرأ في المصدر" in labels


async def test_latest_counts_out_of_range_get_the_count_error(emulator, akhbar):
    for count in ("999999999", "-3", "0", "21"):
        reply = await ask(emulator, f"/latest {count}")
        assert "العدد يجب أن يكون بين 1 و20" in reply.text, count


def forge_button(emulator: BotApiEmulator, message: SentMessage, data: str) -> None:
    """Put an old button (from before a restart or an upgrade) on a message the bot sent."""
    emulator.state.chats[USER].messages[message.message_id].payload["reply_markup"] = {
        "inline_keyboard": [[{"text": "x", "callback_data": data}]]
    }


async def press_and_answer(emulator: BotApiEmulator, message: SentMessage, data: str):
    query = await emulator.press_button(USER, message.message_id, data)
    return await emulator.wait_for_callback_answer(query)


def edits(emulator: BotApiEmulator) -> int:
    return sum(call.method == "editMessageText" for call in emulator.requests)


async def test_a_stale_latest_button_of_an_unknown_topic_leaves_the_list(emulator, akhbar):
    page = await ask(emulator, "/latest")
    forge_button(emulator, page, "l2:2:8:nosuchtopic")
    answer = await press_and_answer(emulator, page, "l2:2:8:nosuchtopic")
    assert "قديم" in answer.text
    assert emulator.sent(USER)[-1].text == page.text
    assert edits(emulator) == 0


async def test_a_search_page_button_past_the_end_shows_the_last_page(emulator, akhbar):
    first = await ask(emulator, "/search المغرب")
    total = int(re.search(r"\((\d+) ", first.text).group(1))
    last_page = (total + 7) // 8
    assert last_page >= 2
    forge_button(emulator, first, "s2:50:8:المغرب")
    pressed_at = time.monotonic()
    await emulator.press_button(USER, first.message_id, "s2:50:8:المغرب")
    await emulator.wait_for(lambda call: call.method == "editMessageText" and call.at >= pressed_at)
    shown = emulator.sent(USER)[-1]
    assert f"الصفحة {last_page} من {last_page}" in shown.text
    assert len(listed_ids(shown)) == total - 8 * (last_page - 1)


async def test_a_search_button_that_finds_nothing_any_more_leaves_the_results(emulator, akhbar):
    first = await ask(emulator, "/search المغرب")
    forge_button(emulator, first, "s2:2:8:زلزال")
    answer = await press_and_answer(emulator, first, "s2:2:8:زلزال")
    assert "قديم" in answer.text
    assert emulator.sent(USER)[-1].text == first.text


async def test_tapping_a_page_button_twice_edits_the_message_once(emulator, akhbar):
    for command in ("/latest", "/search المغرب"):
        first = await ask(emulator, command)
        before = edits(emulator)
        next_page = button(first, "التالي ←")
        # A quick double tap: both taps are sent before the bot has edited the message.
        taps = [await emulator.press_button(USER, first.message_id, next_page) for _ in "12"]
        for tap in taps:
            await emulator.wait_for_callback_answer(tap)
        await ask(emulator, "/help")  # updates are handled in order: both taps are done
        assert edits(emulator) == before + 1
        assert "الصفحة 2" in emulator.sent(USER)[-2].text


async def test_plain_text_in_a_private_chat_is_searched_or_answered_with_a_hint(emulator, akhbar):
    found = await ask(emulator, "المغرب")
    assert found.text.startswith("نتائج البحث عن «المغرب»")
    assert listed_ids(found) == listed_ids(await ask(emulator, "/search المغرب"))
    for greeting in ("مرحبا", "hello there"):
        hint = await ask(emulator, greeting)
        assert f"لم أجد أخبارا فيها «{greeting}»" in hint.text
        assert "/latest" in hint.text and "/help" in hint.text
    french = await ask(emulator, "bonjour", chat_id=8, language_code="fr")
    assert french.text.startswith("Aucun article ne contient « bonjour »")


async def test_plain_text_in_a_group_gets_no_reply(emulator, akhbar):
    group = -100777
    emulator.add_chat(group, type="supergroup", title="Readers")
    await emulator.send_text(group, "المغرب", user_id=USER)
    await emulator.send_text(group, "/latest 1", user_id=USER)
    reply = await emulator.next_message(group)
    assert reply.text.startswith("آخر الأخبار")
    assert len(emulator.sent(group)) == 1


async def test_mistyped_read_requests_say_what_is_wrong(emulator, akhbar):
    assert "لا يوجد خبر بالرقم 1234567890" in (await ask(emulator, "/read_1234567890")).text
    assert "«12abc» ليس رقم خبر" in (await ask(emulator, "/read_12abc")).text
    assert "لا يوجد خبر بالرقم 99999999999999" in (await ask(emulator, "/read 99999999999999")).text
    await emulator.send_text(USER, "/read 3 4")
    note = await emulator.next_message(USER)
    assert "أفتح خبرا واحدا في كل مرة" in note.text and "3" in note.text
    article = await emulator.next_message(USER)
    assert article.text == (await ask(emulator, "/read 3")).text


async def test_languages_are_chosen_by_their_names_in_three_languages(emulator, akhbar):
    for name, done in (
        ("english", "Done."),
        ("العربية", "تم."),
        ("français", "C'est fait."),
        ("arabic", "تم."),
        ("anglais", "Done."),
        ("الفرنسية", "C'est fait."),
        ("Arabe", "تم."),
    ):
        assert (await ask(emulator, f"/language {name}")).text.startswith(done), name
    assert "ar" in (await ask(emulator, "/language klingon")).text


async def test_text_a_user_typed_is_echoed_without_invisible_marks(emulator, akhbar):
    for command, typed in (
        ("/timezone", "../../etc/passwd"),
        ("/search", "زلزال /etc/x"),
        ("/read", "a/read_5"),
    ):
        reply = await ask(emulator, f"{command} {typed}")
        assert f"«{typed}»" in reply.text, reply.text
        assert "\u200e/read" in (await ask(emulator, "/read")).text  # our own commands keep it


async def test_a_broken_read_link_says_what_is_wrong_instead_of_welcoming(emulator, akhbar):
    assert "لا يوجد خبر بالرقم 1234567890" in (await ask(emulator, "/start read_1234567890")).text
    assert "«12x» ليس رقم خبر" in (await ask(emulator, "/start read_12x")).text
