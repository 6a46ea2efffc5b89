"""Articles stored as ingestion would store them, and the outbox rows services queued."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.models import ArticleDraft
from bot.services import Services


def draft(title: str, *, source: str = "hespress", topics=("maroc",), body=None, minutes=0):
    return ArticleDraft(
        source=source,
        title=title,
        body=body,
        url=f"https://news.test/{abs(hash((title, source)))}",
        published_at=datetime(2025, 3, 3, 6, tzinfo=UTC) + timedelta(minutes=minutes),
        topics=tuple(topics),
    )


async def store(services: Services, *drafts: ArticleDraft) -> list[int]:
    """Store drafts as ingestion does; return the new ids."""
    before = (await services.db.execute_fetchall("SELECT coalesce(max(id), 0) FROM articles"))[0][0]
    await services.ingestion.store(list(reversed(drafts)))  # store() keeps the source's order
    await services.db.commit()
    rows = await services.db.execute_fetchall(
        "SELECT id FROM articles WHERE id > ? ORDER BY id", (before,)
    )
    return [row[0] for row in rows]


@dataclass(frozen=True)
class OutboxRow:
    key: str
    chat_id: int
    thread_id: int | None
    kind: str
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.parts)


async def outbox_rows(services: Services, chat_id: int | None = None) -> list[OutboxRow]:
    rows = await services.db.execute_fetchall(
        "SELECT o.key, o.chat_id, o.thread_id, o.kind, coalesce(b.parts, o.parts) AS parts"
        " FROM outbox o LEFT JOIN outbox_bodies b ON b.id = o.body_id ORDER BY o.id"
    )
    found = [
        OutboxRow(r["key"], r["chat_id"], r["thread_id"], r["kind"], tuple(json.loads(r["parts"])))
        for r in rows
    ]
    return [r for r in found if chat_id is None or r.chat_id == chat_id]
