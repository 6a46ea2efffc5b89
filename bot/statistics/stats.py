"""The operators' statistics: the numbers of `akhbar stats` and 14 days of activity."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, timedelta

from bot.clock import Clock
from bot.delivery.outbox import Outbox
from bot.statistics.charts import ChartData, ChartLabels, render, series_for
from storage import stats as storage_stats
from storage.connection import Connection

CHART_DAYS = 14


@dataclass(frozen=True, slots=True)
class StatsReport:
    numbers: dict[str, int | str]
    outbox: dict[str, int]
    chart: ChartData


class StatsService:
    def __init__(self, db: Connection, *, outbox: Outbox, clock: Clock) -> None:
        self._db = db
        self._outbox = outbox
        self._clock = clock

    async def report(self) -> StatsReport:
        numbers = await storage_stats.collect(self._db)
        box = await self._outbox.stats()
        outbox = {"queued": box.queued, "sending": box.sending, "sent": box.sent,
                  "failed": box.failed}  # fmt: skip
        return StatsReport(numbers, outbox, await self._chart_data())

    async def _chart_data(self) -> ChartData:
        today = self._clock().astimezone(UTC).date()
        first = today - timedelta(days=CHART_DAYS - 1)
        days = tuple((first + timedelta(days=n)).isoformat() for n in range(CHART_DAYS))
        since = int(
            self._clock().astimezone(UTC).replace(
                year=first.year, month=first.month, day=first.day,
                hour=0, minute=0, second=0, microsecond=0,
            ).timestamp()
        )  # fmt: skip
        series = await storage_stats.daily(self._db, since=since)
        articles = {
            name.removeprefix("articles:"): series_for(days, counts)
            for name, counts in series.items()
            if name.startswith("articles:")
        }
        return ChartData(
            days=days,
            articles=articles,
            deliveries=series_for(days, series["deliveries"]),
            subscribers=series_for(days, series["subscribers"]),
            reports=series_for(days, series["reports"]),
        )

    async def chart(self, data: ChartData, labels: ChartLabels) -> bytes:
        """The PNG, drawn in a thread (matplotlib takes a few hundred milliseconds)."""
        return await asyncio.to_thread(render, data, labels)
