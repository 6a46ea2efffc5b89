"""Telegram's input rules: parse modes, text limits, keyboards, commands, callback answers."""

from __future__ import annotations

import functools
import re
from typing import Any

from .errors import bad_request
from .html_parser import HtmlError, ParsedText, parse_html, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
# Telegram refuses an inline keyboard of more than 100 buttons (REPLY_MARKUP_TOO_LONG).
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
_URL_SCHEMES = ("http://", "https://", "tg://")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def normalise_parse_mode(parse_mode: str | None) -> str | None:
    """Return the canonical parse mode name, or fail on an unknown one."""
    if not parse_mode:
        return None
    canonical = _PARSE_MODES.get(parse_mode.lower())
    if canonical is None:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return canonical


def parse_text(source: str, parse_mode: str | None, entities: Any = None) -> ParsedText:
    """Return the text Telegram would store, with the bot commands it finds in it marked;
    Markdown is passed through unparsed."""
    if entities is None:
        return _parse_repeated(source, parse_mode)
    return _parse(source, parse_mode, entities)


# A broadcast sends one text to thousands of chats: parsing it once keeps the stand-in from
# being the slowest part of a benchmark. Entities are never changed once parsed.
@functools.lru_cache(maxsize=256)
def _parse_repeated(source: str, parse_mode: str | None) -> ParsedText:
    return _parse(source, parse_mode, None)


def _parse(source: str, parse_mode: str | None, entities: Any) -> ParsedText:
    if parse_mode == "HTML":
        try:
            parsed = parse_html(source)
        except HtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = ParsedText(source, tuple(entities or ()))
    return _with_commands(_strip(parsed))


# Telegram (tdlib's find_bot_commands) takes a `/command` only where the character before and
# the one after are not a letter, a digit, `_`, `/`, `<` or `>`: invisible direction marks
# (format characters) do not hide a command.
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_NO_COMMANDS_INSIDE = frozenset({"code", "pre", "text_link", "url"})


def bot_commands(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram detects in a message's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _BOT_COMMAND.finditer(text)
    ]


def _with_commands(parsed: ParsedText) -> ParsedText:
    shielded = [e for e in parsed.entities if e["type"] in _NO_COMMANDS_INSIDE]
    found = [
        command
        for command in bot_commands(parsed.text)
        if not any(_overlap(command, entity) for entity in shielded)
    ]
    if not found:
        return parsed
    ordered = sorted([*parsed.entities, *found], key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(parsed.text, tuple(ordered))


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"]


def _strip(parsed: ParsedText) -> ParsedText:
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return parsed
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, tuple(entities))


def check_message_text(parsed: ParsedText) -> None:
    """Refuse empty text and text over 4096 UTF-16 code units."""
    if not parsed.text:
        raise bad_request("message text is empty")
    if parsed.length > MAX_TEXT:
        raise bad_request("message is too long")


def check_caption(parsed: ParsedText) -> None:
    """Refuse captions over 1024 UTF-16 code units."""
    if parsed.length > MAX_CAPTION:
        raise bad_request("message caption is too long")


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup object and return it unchanged."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_rows(markup["keyboard"])
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _check_rows(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')


def _check_inline_keyboard(rows: Any) -> None:
    _check_rows(rows)
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode()) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.lower().startswith(_URL_SCHEMES):
            raise bad_request("BUTTON_URL_INVALID")


def check_callback_answer(text: str | None) -> None:
    """Refuse callback answers longer than 200 characters."""
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def check_commands(commands: Any) -> tuple[tuple[str, str], ...]:
    """Validate a setMyCommands list and return (command, description) pairs."""
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    pairs = []
    for entry in commands:
        command = entry.get("command", "") if isinstance(entry, dict) else ""
        description = entry.get("description", "") if isinstance(entry, dict) else ""
        if not _COMMAND.fullmatch(command.removeprefix("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        pairs.append((command.removeprefix("/"), description))
    return tuple(pairs)


def check_chat_action(action: str | None) -> None:
    """Refuse unknown chat actions."""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
