"""/search <words> and its page buttons."""

from __future__ import annotations

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


def _search_data(query: str):
    # Callback data holds the query itself so page buttons survive restarts; a query too long
    # for Telegram's 64 bytes gets its first page without paging buttons.
    def data(page: int) -> str | None:
        encoded = f"s1:{page}:{query}"
        return encoded if fits_callback(encoded) else None

    return data


async def _results(context: AkhbarContext, t: Texts, query: str, page: int, tz: ZoneInfo):
    """The results page as (html, markup); errors the user should hear about become text."""
    try:
        listing = await context.services.news.search(query, page=page)
    except QueryTooLong:
        return formatting.text(t, "search-too-long", max=MAX_QUERY_LENGTH), None
    except NothingSearchable:
        return formatting.text(t, "search-nothing-searchable", query=query[:80]), None
    if not listing.articles:
        return formatting.text(t, "search-no-results", query=query), None
    title = t("search-title", query=query, total=listing.total)
    body = formatting.headline_list(t, title, listing.articles, listing.page, tz)
    return body, listing_markup(t, listing.articles, listing.page, _search_data(query))


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
    _, page, query = callback.data.split(":", 2)
    t = await context.texts(update)
    body, markup = await _results(context, t, query, int(page), await context.zone(update))
    await replace_message(callback, body, markup)


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("search", search))
    app.add_handler(CallbackQueryHandler(search_page, pattern=r"^s1:\d{1,6}:."))
