"""The operator panel's bot-side figures and buttons, given to the web chat as callbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.ptb import jobs as digest_jobs
from bot.ptb.context import AkhbarApp
from emulator.webchat import WebChat
from sandbox.clock import MovableClock


class OperatorPanel:
    """Outbox figures, the sandbox clock, "send this chat's digest now", "advance the clock"."""

    def __init__(self, app: AkhbarApp, clock: MovableClock) -> None:
        self._app = app
        self._clock = clock

    def register(self, webchat: WebChat) -> None:
        webchat.set_operator_status(self.status)
        webchat.add_operator_action(
            "digest-now", "Send this chat's next digest now", self.digest_now, needs_chat=True
        )
        webchat.add_operator_action(
            "advance-clock", "Advance the clock to the next digest", self.advance_clock
        )

    @property
    def _services(self):
        services = self._app.bot_data.services
        if services is None:
            raise RuntimeError("the bot is not running")
        return services

    async def status(self) -> dict[str, Any]:
        stats = await self._services.outbox.stats()
        upcoming = await self.next_digest()
        tz = self._services.config.bot.tz
        rate = "—" if stats.last_rate is None else f"{stats.last_rate:.1f} messages/s"
        return {
            "Clock": _show(self._clock(), tz),
            "Next digest": _show(upcoming, tz) if upcoming else "none scheduled",
            "Outbox queued": stats.queued,
            "Outbox sending": stats.sending,
            "Outbox sent": stats.sent,
            "Outbox failed": stats.failed,
            "Last broadcast rate": rate,
        }

    async def next_digest(self) -> datetime | None:
        """The earliest time a running schedule fires (the scheduler loop's own next due time)."""
        return await self._services.digests.next_due()

    async def digest_now(self, chat_id: int | None) -> str:
        if chat_id is None:
            return "Open a chat first."
        queued = await self._services.digests.send_now(chat_id)
        if self._app.bot_data.delivery is not None:
            self._app.bot_data.delivery.wake()
        if queued:
            return f"A digest is queued for chat {chat_id}."
        return f"Nothing new for chat {chat_id} (or the bot does not know it yet)."

    async def advance_clock(self, chat_id: int | None) -> str:
        upcoming = await self.next_digest()
        if upcoming is None:
            return "No schedule yet: use /schedule or /subscribe first."
        self._clock.advance_to(upcoming)
        queued = await digest_jobs.run_due_digests(self._app)
        tz = self._services.config.bot.tz
        return f"Clock moved to {_show(upcoming, tz)}: {queued} digest(s) queued."


def _show(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
