"""Reading the news: latest headlines, articles, and Arabic-aware search."""

from bot.reading.news import Listing, NewsService

__all__ = ["Listing", "NewsService"]
