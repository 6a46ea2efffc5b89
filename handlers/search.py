"""/search <words> and its page buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.errors import NothingSearchable, QueryTooLong
from bot.i18n.catalogs import Texts
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.reading.news import MAX_QUERY_LENGTH
from handlers._keyboards import fits_callback, listing_markup
from handlers._replies import replace_message


@dataclass(frozen=True, slots=True)
class SearchPageData:
    """A search page button: the page, the page size of the first answer, and the query.

    The query itself travels so that page buttons survive restarts; a query too long for
    Telegram's 64 bytes gets its first page without paging buttons.
    """

    PREFIX: ClassVar[str] = "s2"
    page: int
    size: int
    query: str

    def encode(self) -> str | None:
        """The callback data, or None when it would not fit Telegram's 64 bytes."""
        encoded = f"{self.PREFIX}:{self.page}:{self.size}:{self.query}"
        return encoded if fits_callback(encoded) else None

    @classmethod
    def decode(cls, data: str) -> SearchPageData | None:
        """The button's page, or None when the data is not a current search button."""
        match = _SEARCH_DATA.fullmatch(data)
        if match is None or not 1 <= int(match["size"]) <= MAX_PAGE_SIZE:
            return None
        return cls(int(match["page"]), int(match["size"]), match["query"])


MAX_PAGE_SIZE = 20
_SEARCH_DATA = re.compile(r"s2:(?P<page>\d{1,6}):(?P<size>\d{1,2}):(?P<query>.+)", re.DOTALL)


async def _results(
    context: AkhbarContext, t: Texts, query: str, page: int, tz: ZoneInfo, size: int | None = None
):
    """The results page as (html, markup); errors the user should hear about become text."""
    try:
        listing = await context.services.news.search(query, page=page, size=size)
    except QueryTooLong:
        return formatting.text(
            t, "search-too-long", characters=t.plural("count-characters", MAX_QUERY_LENGTH)
        ), None
    except NothingSearchable:
        return formatting.text(t, "search-nothing-searchable", query=query[:80]), None
    if not listing.articles:
        return formatting.text(t, "search-no-results", query=query), None
    title = t("search-title", query=query, results=t.plural("count-results", listing.total))
    body = formatting.headline_list(t, title, listing.articles, listing.page, tz)
    return body, listing_markup(t, listing.articles, listing.page, _paging(listing.size, query))


def _paging(size: int, query: str):
    return lambda page: SearchPageData(page, size, query).encode()


async def search(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    query = " ".join(context.args or []).strip()
    if not query:
        await update.effective_message.reply_html(formatting.text(t, "search-usage"))
        return
    body, markup = await _results(context, t, query, 1, await context.zone(update))
    await update.effective_message.reply_html(body, reply_markup=markup)


async def search_page(update: Update, context: AkhbarContext) -> None:
    callback = update.callback_query
    wanted = SearchPageData.decode(callback.data)
    t = await context.texts(update)
    zone = await context.zone(update)
    body, markup = await _results(context, t, wanted.query, wanted.page, zone, wanted.size)
    await replace_message(callback, body, markup)


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("search", search))
    app.add_handler(
        CallbackQueryHandler(
            search_page, pattern=lambda data: SearchPageData.decode(data) is not None
        )
    )
