"""Inline mode: `@bot words` in any chat offers matching articles to share, and each chosen
result counts as a share of its article."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ChosenInlineResultHandler, InlineQueryHandler

from bot import formatting
from bot.errors import NothingSearchable, QueryTooLong
from bot.i18n.catalogs import Texts
from bot.i18n.languages import query_language
from bot.models import Article
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.reading.news import Listing

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 20  # Telegram takes at most 50
CACHE_SECONDS = 30
RESULT_PREFIX = "a"
MAX_PAGE = 50
INLINE_TITLE = 200
INLINE_DESCRIPTION = 200


def result_id(article_id: int) -> str:
    """The inline result id of an article (at most 64 bytes, unique within an answer)."""
    return f"{RESULT_PREFIX}{article_id}"


def article_of_result(result: str) -> int | None:
    """The article a chosen result id names, or None for an id the bot did not make."""
    number = result.removeprefix(RESULT_PREFIX)
    if result.startswith(RESULT_PREFIX) and number.isdecimal() and len(number) <= 9:
        return int(number)
    return None


def _page_of(offset: str) -> int | None:
    if not offset:
        return 1
    if offset.isdecimal() and len(offset) <= 3 and 1 <= int(offset) <= MAX_PAGE:
        return int(offset)
    return None


async def _listing(context: AkhbarContext, words: str, page: int) -> Listing | None:
    news = context.services.news
    try:
        if words:
            return await news.search(words, page=page, size=RESULTS_PER_PAGE)
        return await news.latest(page=page, size=RESULTS_PER_PAGE)
    except (QueryTooLong, NothingSearchable):
        return None


def _result(
    context: AkhbarContext, t: Texts, article: Article, *, show_image: bool
) -> InlineQueryResultArticle:
    tz = context.services.config.bot.tz
    username = context.bot.username
    button = InlineKeyboardButton(
        t("inline-read-button"), url=formatting.read_link(username, article.id)
    )
    return InlineQueryResultArticle(
        id=result_id(article.id),
        title=formatting.shorten(article.title, INLINE_TITLE),
        description=formatting.shorten(
            formatting.share_description(t, article, tz), INLINE_DESCRIPTION
        ),
        input_message_content=InputTextMessageContent(
            formatting.share_text(t, article, tz=tz, bot_username=username),
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        reply_markup=InlineKeyboardMarkup([[button]]),
        thumbnail_url=article.image_url if show_image else None,
    )


async def inline_query(update: Update, context: AkhbarContext) -> None:
    query = update.inline_query
    words = query.query.strip()
    catalogs = context.services.catalogs
    language = query_language(
        words, telegram_code=query.from_user.language_code, default=catalogs.default_language
    )
    t = catalogs.texts(language)
    page = _page_of(query.offset)
    listing = None if page is None else await _listing(context, words, page)
    # The listing clamps a page past the end to the last one: that page was already shown.
    if listing is None or listing.page.number != page:
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=False)
        return
    hidden = await context.services.moderation.hidden_article_ids(a.id for a in listing.articles)
    results = [
        _result(context, t, a, show_image=bool(a.image_url) and a.id not in hidden)
        for a in listing.articles
    ]
    more = listing.page.has_next and page < MAX_PAGE
    await query.answer(
        results,
        cache_time=CACHE_SECONDS,
        is_personal=False,
        # None, not "": the application's ExtBot sends an empty next_offset as "[]", which
        # Telegram would take for a real offset; left out, it means "no more results".
        next_offset=str(page + 1) if more else None,
    )


async def chosen_result(update: Update, context: AkhbarContext) -> None:
    chosen = update.chosen_inline_result
    article_id = article_of_result(chosen.result_id)
    if article_id is None:
        log.info("chosen inline result with an unknown id ignored")
        return
    await context.services.shares.record(article_id, chosen.from_user.id)


def register(app: AkhbarApp) -> None:
    app.add_handler(InlineQueryHandler(inline_query))
    app.add_handler(ChosenInlineResultHandler(chosen_result))
