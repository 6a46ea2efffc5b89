"""Reading and search defects a reviewer met as a new user, checked through the real bot."""

from __future__ import annotations

import re

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
