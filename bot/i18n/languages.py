"""Each chat's language (its own choice, else Telegram's guess, else the configured default)
and time zone (its own choice, else the bot's): the one place both are resolved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n.catalogs import LANGUAGES, Catalogs, Texts
from bot.models import ChatSettings
from storage import chats
from storage.connection import Connection
from storage.database import transaction


def chat_zone(chat: ChatSettings | None, default: ZoneInfo) -> ZoneInfo:
    """The time zone a chat's dates and digests follow."""
    return ZoneInfo(chat.timezone) if chat and chat.timezone else default


def _has_arabic_letters(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" for c in text)


def query_language(query: str, *, telegram_code: str | None, default: str) -> str:
    """The language to answer an inline query in: Arabic words get Arabic; otherwise the
    person's Telegram language when the bot speaks it, Latin words else getting French
    (Morocco's other newsroom language), an empty query else the default."""
    if _has_arabic_letters(query):
        return "ar"
    guess = (telegram_code or "").split("-")[0].lower()
    if guess in LANGUAGES and (guess != "ar" or not query.strip()):
        return guess
    return "fr" if query.strip() else default


class LanguageService:
    def __init__(
        self,
        db: Connection,
        catalogs: Catalogs,
        *,
        default_tz: ZoneInfo,
        clock: Callable[[], datetime],
    ):
        self._db = db
        self._catalogs = catalogs
        self._default_tz = default_tz
        self._clock = clock

    async def zone_for(self, chat_id: int) -> ZoneInfo:
        """The time zone to show dates in for this chat."""
        return chat_zone(await chats.get(self._db, chat_id), self._default_tz)

    async def texts_for(
        self, chat_id: int, *, chat_type: str, title: str | None, telegram_code: str | None
    ) -> Texts:
        """The texts to answer this chat with; the chat is remembered on first contact."""
        async with transaction(self._db):
            await chats.remember(self._db, chat_id, type=chat_type, title=title, at=self._clock())
        chosen = await chats.language(self._db, chat_id)
        return self._catalogs.texts(self._catalogs.pick(chosen=chosen, telegram_code=telegram_code))

    async def choose(self, chat_id: int, language: str) -> Texts:
        """Store a chat's choice; raise ValueError for a language the bot does not speak."""
        if language not in LANGUAGES:
            raise ValueError(language)
        async with transaction(self._db):
            await chats.set_language(self._db, chat_id, language)
        return self._catalogs.texts(language)
