"""Talking to the bot through the emulator as a user would: ask, tap buttons, read lists."""

from __future__ import annotations

import re
import time

from emulator import BotApiEmulator, SentMessage

USER = 7


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
