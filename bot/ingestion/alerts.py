"""Notices to the operators about a source's health, queued in the outbox with the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import formatting
from bot.i18n.catalogs import Catalogs
from bot.models import OutgoingMessage, Source
from storage import chats, outbox
from storage.connection import Connection


class OperatorAlerts:
    """Queues "source failing", "source recovered" and "source gone" notices to each operator.

    Called inside the transaction that records the poll, so the notice and the `alerted` flag
    commit together: operators are told exactly once per failing spell.
    """

    def __init__(self, db: Connection, catalogs: Catalogs, operator_ids: Sequence[int]) -> None:
        self._db = db
        self._catalogs = catalogs
        self._operators = tuple(operator_ids)

    async def failing(self, source: Source, error_kind: str, *, since: datetime, now: datetime):
        hours = max(round((now - since).total_seconds() / 3600), 1)
        await self._queue(
            f"source:failing:{source.name}:{int(since.timestamp())}",
            now,
            lambda t: formatting.text(
                t, "source-alert-failing", name=source.name, hours=hours,
                error=t(f"source-error-{error_kind}"),
            ),
        )  # fmt: skip

    async def recovered(self, source: Source, *, now: datetime) -> None:
        since = int(source.failing_since.timestamp()) if source.failing_since else 0
        await self._queue(
            f"source:recovered:{source.name}:{since}",
            now,
            lambda t: formatting.text(t, "source-alert-recovered", name=source.name),
        )

    async def gone(self, source: Source, *, now: datetime) -> None:
        await self._queue(
            f"source:gone:{source.name}:{int(now.timestamp())}",
            now,
            lambda t: formatting.text(t, "source-alert-gone", name=source.name),
        )

    async def _queue(self, key: str, now: datetime, render) -> None:
        messages = []
        for operator in self._operators:
            t = self._catalogs.texts(await chats.language(self._db, operator))
            messages.append(
                OutgoingMessage(f"{key}:{operator}", operator, (render(t),), None, "notice")
            )
        if messages:
            await outbox.add(self._db, messages, at=now)
