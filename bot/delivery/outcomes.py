"""What one send attempt came to, and the Sender protocol that answers with it.

Outcomes are translated from the Telegram library at the boundary (`handlers.delivery`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.models import PhotoPost, UnreachableReason


@dataclass(frozen=True, slots=True)
class Delivered:
    """Telegram accepted the message."""


@dataclass(frozen=True, slots=True)
class FloodWait:
    """429: wait `seconds` before sending anything."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Unreachable:
    """403: blocked, kicked or deactivated; never retried."""

    reason: UnreachableReason
    detail: str = ""  # Telegram's description, for the log only


@dataclass(frozen=True, slots=True)
class Migrated:
    """The group became a supergroup with a new id; send there instead."""

    new_chat_id: int


@dataclass(frozen=True, slots=True)
class TransientFailure:
    """Network trouble, timeout or 5xx: retried with backoff."""

    reason: str


@dataclass(frozen=True, slots=True)
class ApiUnavailable:
    """The Bot API could not be reached at all (connection refused, name not resolved, connect
    timeout): the request never arrived, and every other request would fail alike."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """400 or another refusal retrying cannot fix."""

    reason: str


SendOutcome = (
    Delivered | FloodWait | Unreachable | Migrated | TransientFailure | ApiUnavailable | Rejected
)
# Told of every answered request and how long it took (metrics); must not block or raise.
SendObserver = Callable[[SendOutcome, float], None]


class Sender(Protocol):
    """Talks to Telegram for the worker; implemented over python-telegram-bot in
    handlers.delivery. Edits answer Delivered when done (also when Telegram says the message is
    not modified) and Rejected when Telegram refuses to change the message."""

    async def send(
        self, chat_id: int, text: str, *, thread_id: int | None, link_preview: bool = False
    ) -> SendOutcome: ...

    async def send_photo(
        self, chat_id: int, photo: PhotoPost, *, caption: str, thread_id: int | None
    ) -> SendOutcome:
        """A photo with its caption and report button; the text alone when the image is
        hidden or Telegram cannot use it."""
        ...

    async def edit_to_placeholder(
        self, chat_id: int, message_id: int, *, caption: str | None
    ) -> SendOutcome: ...

    async def delete(self, chat_id: int, message_id: int) -> SendOutcome: ...
