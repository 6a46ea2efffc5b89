"""Reading the news: latest headlines, articles, and Arabic-aware search."""

from bot.reading.news import Listing, NewsService
from bot.reading.topics import Topics

__all__ = ["Listing", "NewsService", "Topics"]
