"""Reading the news: /latest, /read <id> (and /read_<id>), and their buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import formatting
from bot.errors import ArticleNotFound
from bot.i18n.catalogs import Texts
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.reading.news import Listing
from handlers._keyboards import (
    fits_callback,
    listing_markup,
    open_buttons,
    report_markup,
    source_markup,
)
from handlers._replies import replace_message, topic_of

MAX_COUNT = 20
MAX_TOPIC_LENGTH = 60
# `/latest shared`: today's most shared articles instead of the newest.
MOST_SHARED_WORDS = ("shared", "partagés", "partages", "مشاركة", "الأكثر_مشاركة")
READ_SHORTCUT = r"^/read_(\d{1,9})(?:@\w+)?$"
RELATED_TITLE = 80


@dataclass(frozen=True, slots=True)
class LatestPageData:
    """A /latest page button: the page, the page size the list was asked with, its topic.

    The size travels with the page so that "next" after `/latest 2` continues the same
    numbering instead of jumping to the default size's page 2.
    """

    PREFIX: ClassVar[str] = "l2"
    page: int
    size: int
    topic: str | None = None

    def encode(self) -> str | None:
        """The callback data, or None when it would not fit Telegram's 64 bytes."""
        encoded = f"{self.PREFIX}:{self.page}:{self.size}:{self.topic or ''}"
        return encoded if fits_callback(encoded) else None

    @classmethod
    def decode(cls, data: str) -> LatestPageData | None:
        """The button's page, or None when the data is not a current /latest button."""
        match = _LATEST_DATA.fullmatch(data)
        if match is None or not 1 <= int(match["size"]) <= MAX_COUNT:
            return None
        return cls(int(match["page"]), int(match["size"]), match["topic"] or None)


_LATEST_DATA = re.compile(r"l2:(?P<page>\d{1,6}):(?P<size>\d{1,2}):(?P<topic>.*)", re.DOTALL)


def _latest_data(size: int, topic: str | None):
    return lambda page: LatestPageData(page, size, topic).encode()


def _parse_latest_args(args: list[str]) -> tuple[int | None, str | None]:
    count = next((int(a) for a in args if a.isdecimal() and len(a) <= 6), None)
    words = [a for a in args if not a.isdecimal()]
    return count, " ".join(words).casefold()[:MAX_TOPIC_LENGTH] or None


def _render_latest(t: Texts, listing: Listing, topic: str | None, tz: ZoneInfo):
    title = t("latest-title-topic", topic=topic) if topic else t("latest-title")
    body = formatting.headline_list(t, title, listing.articles, listing.page, tz)
    paging = _latest_data(listing.size, topic)
    return body, listing_markup(t, listing.articles, listing.page, paging)


async def latest(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    args = context.args or []
    if len(args) == 1 and args[0].casefold() in MOST_SHARED_WORDS:
        found = await context.services.shares.most_shared_today(limit=MAX_COUNT)
        text = formatting.most_shared(t, found, context.services.config.bot.tz)
        await update.effective_message.reply_html(text)
        return
    count, topic = _parse_latest_args(context.args or [])
    if count is not None and not 1 <= count <= MAX_COUNT:
        await update.effective_message.reply_html(
            formatting.text(t, "latest-bad-count", max=MAX_COUNT)
        )
        return
    listing = await context.services.news.latest(topic=topic, size=count)
    if not listing.articles:
        await update.effective_message.reply_html(await _empty_latest(context, t, topic))
        return
    body, markup = _render_latest(t, listing, topic, await context.zone(update))
    await update.effective_message.reply_html(body, reply_markup=markup)


async def _empty_latest(context: AkhbarContext, t: Texts, topic: str | None) -> str:
    if topic is None:
        return formatting.text(t, "latest-empty")
    known = t.join(await context.services.news.topics()) or "—"
    return formatting.text(t, "latest-topic-empty", topic=topic, topics=known)


async def latest_page(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    wanted = LatestPageData.decode(query.data)
    t = await context.texts(update)
    listing = await context.services.news.latest(
        page=wanted.page, topic=wanted.topic, size=wanted.size
    )
    body, markup = _render_latest(t, listing, wanted.topic, await context.zone(update))
    await replace_message(query, body, markup)


async def send_article(update: Update, context: AkhbarContext, t: Texts, article_id: int) -> None:
    """Send one article to the chat the update came from, or say politely it does not exist."""
    chat_id, thread = update.effective_chat.id, topic_of(update)
    try:
        article = await context.services.news.article(article_id)
    except ArticleNotFound:
        text = formatting.text(t, "read-not-found", id=article_id)
        await context.bot.send_message(chat_id, text, message_thread_id=thread)
        return
    moderation = context.services.moderation
    image = article.image_url and await moderation.article_image(article.id, article.image_url)
    image_id = image.id if image else None
    hidden = bool(image and image.is_hidden)
    view = formatting.article_view(t, article, await context.zone(update), image_hidden=hidden)
    messages = list(view.messages)
    if view.photo_url:
        try:
            sent = await context.bot.send_photo(
                chat_id, view.photo_url, caption=view.caption,
                reply_markup=report_markup(t, image_id), message_thread_id=thread,
            )  # fmt: skip
        except BadRequest:
            # Telegram could not fetch or use the picture: the text alone still reads well.
            messages = formatting.pack([view.caption, *messages])
        else:
            await moderation.record_sent(
                chat_id, sent.message_id, image_id, caption_html=view.caption,
                file_unique_ids=[size.file_unique_id for size in sent.photo],
            )  # fmt: skip
    # Only the headline is stored: offer the stored news that shares its words.
    related = article.id if not article.body else None
    markup = source_markup(t, view.source_url, related_to=related)
    for number, message in enumerate(messages, start=1):
        last = number == len(messages)
        await context.bot.send_message(
            chat_id, message, reply_markup=markup if last else None, message_thread_id=thread
        )


async def read(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    args = context.args or []
    if not args:
        await update.effective_message.reply_html(formatting.text(t, "read-usage"))
        return
    wanted = args[0].lstrip("#")
    if not wanted.isdecimal() or len(wanted) > 9:
        text = formatting.text(t, "read-not-a-number", text=args[0][:40])
        await update.effective_message.reply_html(text)
        return
    await send_article(update, context, t, int(wanted))


async def read_shortcut(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    await send_article(update, context, t, int(context.matches[0].group(1)))


async def open_article(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    t = await context.texts(update)
    await query.answer()
    await send_article(update, context, t, int(query.data.split(":", 1)[1]))


async def related_news(update: Update, context: AkhbarContext) -> None:
    """The stored headlines closest to a headline-only article, as a new list."""
    query = update.callback_query
    t = await context.texts(update)
    await query.answer()
    try:
        article, found = await context.services.news.related(int(query.data.split(":", 1)[1]))
    except ArticleNotFound as error:
        text = formatting.text(t, "read-not-found", id=error.args[0])
        await context.bot.send_message(update.effective_chat.id, text)
        return
    title = formatting.shorten(article.title, RELATED_TITLE)
    if not found:
        text = formatting.text(t, "related-none", title=title)
        await context.bot.send_message(update.effective_chat.id, text)
        return
    heading = t("related-title", title=title)
    body = formatting.headline_list(t, heading, found, None, context.services.config.bot.tz)
    markup = InlineKeyboardMarkup(open_buttons(found))
    await context.bot.send_message(
        update.effective_chat.id, body, reply_markup=markup, message_thread_id=topic_of(update)
    )


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("latest", latest))
    app.add_handler(CommandHandler("read", read))
    app.add_handler(MessageHandler(filters.Regex(READ_SHORTCUT), read_shortcut))
    app.add_handler(
        CallbackQueryHandler(
            latest_page, pattern=lambda data: LatestPageData.decode(data) is not None
        )
    )
    app.add_handler(CallbackQueryHandler(open_article, pattern=r"^r1:\d{1,9}$"))
    app.add_handler(CallbackQueryHandler(related_news, pattern=r"^q1:\d{1,9}$"))
