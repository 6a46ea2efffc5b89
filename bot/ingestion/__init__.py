"""Getting the news in: fetching feeds and pages, parsing RSS/Atom and text dumps, storing."""

from bot.ingestion.service import IngestionService, SourceReport

__all__ = ["IngestionService", "SourceReport"]
