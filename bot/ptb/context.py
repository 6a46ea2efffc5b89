"""The typed context every handler receives: services instead of string keys in bot_data."""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n.catalogs import Texts
from bot.ops import Operations
from bot.ptb.leadership import Leadership
from bot.services import Services


class DeliveryControl(Protocol):
    """The running broadcast worker (in this process or its own), as handlers and wiring
    see it."""

    @property
    def is_running(self) -> bool: ...

    def wake(self) -> None: ...

    def chat_reachable(self, chat_id: int) -> None: ...

    async def stop(self) -> None: ...


class SourcePollControl(Protocol):
    """The running source polls, as handlers and wiring see them."""

    name: str

    def wake(self) -> None: ...

    async def stop(self) -> None: ...


class SchedulerControl(Protocol):
    """The running digest scheduler, as wiring sees it."""

    async def run_pending(self) -> int: ...

    async def stop(self) -> None: ...


class BotData:
    """What the application shares between handlers: the open services."""

    __slots__ = ("delivery", "leadership", "ops", "scheduler", "services", "source_polls")

    def __init__(self) -> None:
        self.services: Services | None = None
        self.delivery: DeliveryControl | None = None
        self.source_polls: SourcePollControl | None = None
        self.ops: Operations | None = None
        self.scheduler: SchedulerControl | None = None
        self.leadership: Leadership | None = None


class AkhbarContext(CallbackContext[ExtBot, dict, dict, BotData]):
    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:  # only before post_init or after post_shutdown
            raise RuntimeError("services are not open")
        return services

    def wake_source_polls(self) -> None:
        """A source's due time changed (added, resumed): look at the sources again now (here,
        or in the leading process, which polls them)."""
        polls, leadership = self.bot_data.source_polls, self.bot_data.leadership
        if polls is not None and leadership is not None:
            leadership.wake(polls.name)
        elif polls is not None:
            polls.wake()

    def wake_delivery(self) -> None:
        """Tell the broadcast worker that new outbox rows are committed."""
        if self.bot_data.delivery is not None:
            self.bot_data.delivery.wake()

    async def zone(self, update: Update) -> ZoneInfo:
        """The time zone to show dates in for the chat this update comes from."""
        return await self.services.languages.zone_for(update.effective_chat.id)

    async def texts(self, update: Update) -> Texts:
        """The texts in the language of the chat this update comes from."""
        chat = update.effective_chat
        user = update.effective_user
        return await self.services.languages.texts_for(
            chat.id,
            chat_type=chat.type,
            title=chat.title or chat.username,
            telegram_code=user.language_code if user else None,
        )


AkhbarApp = Application[ExtBot, AkhbarContext, dict, dict, BotData, object]
