"""Storing article drafts the way ingestion stores them, without a feed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from bot.config import IngestionConfig
from bot.ingestion.service import IngestionService
from bot.models import ArticleDraft
from storage.connection import Connection

TZ = ZoneInfo("Africa/Casablanca")


async def store_drafts(
    db: Connection, drafts: list[ArticleDraft], *, at: datetime
) -> tuple[int, int]:
    """Store `drafts` through IngestionService as fetched at `at`; return (new, duplicate)."""
    async with httpx.AsyncClient() as client:
        ingestion = IngestionService(
            db, settings=IngestionConfig(), tz=TZ, client=client, clock=lambda: at
        )
        return await ingestion.store(drafts)
