"""Every example in /help and in the README's command tables works on the shipped sample."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from bot.i18n.catalogs import Catalogs
from emulator import BotApiEmulator, SentMessage

USER, ADMIN, GROUP = 7, 42, -1004321
README = Path(__file__).resolve().parents[1] / "README.md"
GROUP_COMMANDS = {
    "schedule", "schedules", "preview", "unschedule", "autopost",
    "report", "reportthreshold", "reports", "unhide", "ignorereports",
}  # fmt: skip
# Answers that mean an example did not do what /help says it does.
FAILURE_KEYS = (
    "unknown-command", "error-apology", "latest-topic-empty", "latest-empty", "read-not-found",
    "read-not-a-number", "search-no-results", "search-nothing-searchable", "private-only",
    "not-subscribed", "moderation-forbidden", "schedule-not-admin", "report-usage",
    "report-no-image", "unschedule-not-found", "topics-none", "schedule-bad-time",
    "schedule-bad-count", "timezone-unknown", "language-unknown",
)  # fmt: skip
_MARKS = "\u200e\u200f\u2066\u2067\u2068\u2069"


def failure_starts(language: str) -> list[str]:
    t = Catalogs("ar").texts(language)
    return [t(key).split("{")[0][:20] for key in FAILURE_KEYS if t(key).split("{")[0][:20]]


def help_examples(text: str) -> list[str]:
    """The command that begins each `/command args — what it does` line of a help text."""
    examples = []
    for line in text.splitlines():
        example, dash, _ = line.strip(_MARKS + " ").partition(" — ")
        if dash and example.startswith("/"):
            examples.append(example)
    return examples


def readme_examples() -> list[str]:
    """The runnable examples quoted in the README's "What subscribers can do" table."""
    section = README.read_text(encoding="utf-8").split("## What subscribers can do")[1]
    table = section.split("### Subscriptions and digests")[0]
    return [e for e in re.findall(r"`(/[a-z]+[^`<\[|]*)`", table) if "<" not in e]


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def run(emulator: BotApiEmulator, example: str) -> SentMessage:
    command = example[1:].split()[0].split("_")[0]
    if command not in GROUP_COMMANDS:
        await emulator.send_text(USER, example)
        return await emulator.next_message(USER)
    reply_to = None
    if command == "report":
        posted = await emulator.send_photo_from_user(GROUP, photo(), user_id=USER)
        reply_to = posted["message_id"]
    await emulator.send_text(GROUP, example, user_id=ADMIN, reply_to_message_id=reply_to)
    chat = ADMIN if command == "report" else GROUP  # reporters are thanked privately
    return await emulator.next_message(chat)


@pytest.fixture
def world(emulator):
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    emulator.set_member(GROUP, USER, "member")
    emulator.add_chat(ADMIN, "private")
    return emulator


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
async def test_every_example_in_help_gets_a_sensible_answer(world, akhbar, language):
    emulator = world
    await emulator.send_text(USER, f"/language {language}")
    await emulator.next_message(USER)
    shown = await emulator.send_text(USER, "/help")
    help_text = (await emulator.next_message(USER)).text
    examples = help_examples(help_text)
    assert len(examples) >= 18, examples
    failures = failure_starts(language)
    for example in examples:
        answer = await run(emulator, example)
        assert answer.body, example
        assert not any(answer.body.startswith(f) for f in failures), (example, answer.body)
    assert shown


async def test_every_example_in_the_readme_command_table_works(world, akhbar):
    examples = readme_examples()
    assert "/latest maroc" in examples and "/latest 5" in examples
    failures = failure_starts("ar")
    for example in examples:
        answer = await run(world, example)
        assert not any(answer.body.startswith(f) for f in failures), (example, answer.body)


async def test_start_and_help_list_every_menu_command_grouped(world, akhbar):
    menu = [command for command, _ in world.commands_for()]
    assert len(menu) == 19
    for request in ("/start", "/help"):
        await world.send_text(USER, request)
        shown = (await world.next_message(USER)).text
        missing = [c for c in menu if f"/{c}" not in shown and c not in ("start", "help")]
        assert missing == [], request
        for title in ("القراءة", "الموجز اليومي", "المجموعات والقنوات", "الإبلاغ عن الصور"):
            assert f"\n{title}" in shown
    await world.send_text(GROUP, "/help", user_id=USER)
    in_group = await world.next_message(GROUP)
    assert "/schedule" in in_group.text and "/subscribe" not in in_group.text
