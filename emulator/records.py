"""Frozen, public views of what the emulator saw: sent messages, API calls, callback answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Button = tuple[str, str]
"""A keyboard button as (text, callback_data or url or "")."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the bot sent, as it stands now (edits applied, deletion flagged)."""

    chat_id: int
    message_id: int
    date: int
    text: str | None = None
    caption: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    photo: str | None = None
    photo_file_ids: tuple[str, ...] = ()
    reply_markup: tuple[tuple[Button, ...], ...] = ()
    entities: tuple[dict[str, Any], ...] = ()
    message_thread_id: int | None = None
    reply_to_message_id: int | None = None
    is_edited: bool = False
    is_deleted: bool = False

    @property
    def buttons(self) -> tuple[Button, ...]:
        """Return all keyboard buttons, row by row."""
        return tuple(button for row in self.reply_markup for button in row)

    @property
    def body(self) -> str:
        """Return the text or, for media, the caption (empty when neither)."""
        return self.text if self.text is not None else self.caption or ""


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP request to the Bot API: method, decoded parameters, status, monotonic time."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    description: str | None = None

    @property
    def is_ok(self) -> bool:
        """Return True when Telegram would have answered ok."""
        return self.status == 200


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot said in answerCallbackQuery."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True, slots=True)
class CommandScope:
    """The key setMyCommands stores under: scope type, its chat/user, and language."""

    type: str = "default"
    chat_id: int | str | None = None
    user_id: int | None = None
    language_code: str = ""


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """What the bot answered to an inline query (results as the JSON objects it sent)."""

    query_id: str
    results: tuple[dict[str, Any], ...]
    next_offset: str
    cache_time: int
    is_personal: bool

    @property
    def result_ids(self) -> tuple[str, ...]:
        """The results' ids, in order."""
        return tuple(r["id"] for r in self.results)

    @property
    def titles(self) -> tuple[str, ...]:
        """The article results' titles, in order."""
        return tuple(r.get("title", "") for r in self.results)
