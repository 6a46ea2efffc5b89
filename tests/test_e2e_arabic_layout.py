"""Arabic messages are laid out right to left, and the commands in them stay tappable."""

from __future__ import annotations

import re

from bot.i18n.bidi import first_strong_direction
from emulator import BotApiEmulator, SentMessage
from emulator.html_parser import utf16_len

USER, ADMIN = 7, 42
GROUPS = (-1002468, -1002469)  # two groups: Telegram's pace of 20 messages a minute per group
PRIVATE_REQUESTS = (
    "/start", "/help", "/latest", "/latest 3 maroc", "/latest 99", "/read", "/read abc",
    "/read 1", "/read 999999", "/search", "/search المغرب", "/search زلزال", "/topics",
    "/subscribe", "/topics", "/digest", "/digest 08:00", "/timezone", "/settings", "/filter",
    "/filter +المغرب", "/unsubscribe", "/language xx", "/weather", "/schedule", "/report",
)  # fmt: skip
GROUP_REQUESTS = (
    "/schedule", "/schedule 25:00", '/schedule cron "0 8 * * 1-5" maroc 3',
    "/schedule 08:00 mon-fri maroc 3", "/schedules", "/preview", "/unschedule 9",
    "/reportthreshold", "/reports", "/unhide", "/ignorereports", "/help",
)  # fmt: skip
TYPED_COMMAND = re.compile(r"(?<![\w/<>])/[a-z][a-z0-9_]*")


def commands_marked(message: SentMessage) -> list[str]:
    text = message.body
    marked = {(e["offset"], e["length"]) for e in message.entities if e["type"] == "bot_command"}
    missing = []
    for found in TYPED_COMMAND.finditer(text):
        if (utf16_len(text[: found.start()]), utf16_len(found[0])) not in marked:
            missing.append(found[0])
    return missing


def left_to_right_lines(message: SentMessage) -> list[str]:
    return [line for line in message.body.splitlines() if first_strong_direction(line) == "L"]


async def everything_said(emulator: BotApiEmulator) -> list[SentMessage]:
    for group in GROUPS:
        emulator.add_chat(group, "supergroup", title="نادي القراءة")
        emulator.set_member(group, ADMIN, "administrator")
    emulator.add_chat(ADMIN, "private")
    for request in PRIVATE_REQUESTS:
        await emulator.send_text(USER, request)
        await emulator.next_message(USER)
    for number, request in enumerate(GROUP_REQUESTS):
        group = GROUPS[number * len(GROUPS) // len(GROUP_REQUESTS)]
        await emulator.send_text(group, request, user_id=ADMIN)
        await emulator.next_message(group)
    return [m for chat in (USER, ADMIN, *GROUPS) for m in emulator.sent(chat)]


async def test_every_arabic_line_reads_right_to_left(emulator, akhbar):
    said = await everything_said(emulator)
    assert len(said) >= len(PRIVATE_REQUESTS) + len(GROUP_REQUESTS)
    offending = {line for message in said for line in left_to_right_lines(message)}
    assert offending == set()


async def test_commands_inside_arabic_text_are_still_tappable(emulator, akhbar):
    said = await everything_said(emulator)
    assert sum("/latest" in m.body for m in said) >= 2
    assert {m.body[:40]: commands_marked(m) for m in said if commands_marked(m)} == {}


async def test_a_command_in_arabic_text_keeps_its_slash_on_its_left(emulator, akhbar):
    said = await everything_said(emulator)
    drifting = [
        m.body[max(found.start() - 15, 0) : found.end()]
        for m in said
        for found in TYPED_COMMAND.finditer(m.body)
        if m.body[found.start() - 1 : found.start()] != "\u200e"
    ]
    assert drifting == []


async def test_counted_nouns_agree_with_their_number(emulator, akhbar):
    group = GROUPS[0]
    emulator.add_chat(group, "supergroup", title="نادي القراءة")
    emulator.set_member(group, ADMIN, "administrator")
    for count, phrase in ((1, "عنوان واحد"), (2, "عنوانان"), (3, "3 عناوين"), (11, "11 عنوانا")):
        await emulator.send_text(group, f"/schedule 08:00 {count}", user_id=ADMIN)
        assert f"، {phrase}." in (await emulator.next_message(group)).text
    await emulator.send_text(USER, "/search " + "كلمة " * 60)
    assert "200 حرف على الأكثر" in (await emulator.next_message(USER)).text


async def test_arabic_lists_use_the_arabic_comma(emulator, akhbar):
    group = GROUPS[0]
    emulator.add_chat(group, "supergroup", title="نادي القراءة")
    emulator.set_member(group, ADMIN, "administrator")
    await emulator.send_text(group, "/schedule 08:00 mon-wed maroc monde", user_id=ADMIN)
    created = (await emulator.next_message(group)).text
    assert "(الاثنين، الثلاثاء، الأربعاء)" in created
    assert "المواضيع: maroc، monde" in created
    await emulator.send_text(USER, "/latest اقتصاد")
    assert "المواضيع المتوفرة: maroc، monde، sport" in (await emulator.next_message(USER)).text
