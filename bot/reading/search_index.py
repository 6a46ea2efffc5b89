"""Keeping the full-text index in step with the search normalisation it was built with."""

from __future__ import annotations

import logging

from bot.reading.search_text import INDEX_VERSION, forget_memo
from storage import articles, bot_settings
from storage.connection import Connection
from storage.database import transaction

log = logging.getLogger(__name__)

VERSION_SETTING = "search_index_version"
BATCH = 2000


async def ensure_current(db: Connection, *, batch: int = BATCH) -> int | None:
    """Rebuild the index when it was made by another version of the search terms; return how
    many articles were re-indexed, or None when the index was current.

    Terms made the old way would never match a query normalised the new way. Each batch is its
    own transaction, so the rebuild never holds the write lock for long; the version is stored
    last, so a rebuild cut short starts again from scratch at the next start-up.
    """
    if await bot_settings.get(db, VERSION_SETTING) == str(INDEX_VERSION):
        return None
    async with transaction(db):
        await articles.clear_index(db)
    done, after = 0, 0
    while True:
        async with transaction(db):
            indexed, after = await articles.index_batch(db, after_id=after, limit=batch)
        done += indexed
        if indexed < batch:
            break
    async with transaction(db):
        await bot_settings.put(db, VERSION_SETTING, str(INDEX_VERSION))
    # The rebuild filled the memo with the vocabulary of every article: not the serving bot's.
    forget_memo()
    if done:
        log.info("search index rebuilt for version %s: %s articles", INDEX_VERSION, done)
    return done
