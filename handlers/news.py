"""Reading the news: /latest, /read <id> (and /read_<id>), and their buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
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
from handlers._replies import show_page, topic_of

MAX_COUNT = 20
MAX_TOPIC_LENGTH = 60
# `/latest shared`: today's most shared articles instead of the newest.
MOST_SHARED_WORDS = ("shared", "partagés", "partages", "مشاركة", "الأكثر_مشاركة")
# Any word after `/read_`, so that a mistyped id gets the same answers as `/read <id>`.
READ_SHORTCUT = r"^/read_(\w+?)(?:@(\w+))?$"
MAX_ID_DIGITS = 9  # ids are SQLite rowids far below this; longer numbers cannot exist
MAX_SHOWN = 40
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


_NUMBER = re.compile(r"[+-]?\d+")


def _parse_latest_args(args: list[str]) -> tuple[int | None, str | None]:
    """The count (any whole number, to be range-checked: `-3` and `999999999` are counts, not
    topics) and the topic."""
    numbers = [a for a in args if _NUMBER.fullmatch(a)]
    words = [a for a in args if not _NUMBER.fullmatch(a)]
    count = None
    if numbers:
        digits = numbers[0].lstrip("+-")
        count = int(numbers[0]) if len(digits) <= 6 else MAX_COUNT + 1
    return count, " ".join(words).casefold()[:MAX_TOPIC_LENGTH] or None


def _render_latest(t: Texts, listing: Listing, topic: str | None, tz: ZoneInfo):
    topic = listing.topic or topic
    title = t("latest-title-topic", topic=t.topic(topic)) if topic else t("latest-title")
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
            formatting.text(t, "latest-bad-count", min=1, max=MAX_COUNT)
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
    known = (await context.services.news.topics())[: formatting.MAX_TOPICS_LISTED]
    names = formatting.topic_names(t, known, "—")
    return formatting.text(t, "latest-topic-empty", topic=topic, topics=names)


async def latest_page(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    wanted = LatestPageData.decode(query.data)
    t = await context.texts(update)
    listing = await context.services.news.latest(
        page=wanted.page, topic=wanted.topic, size=wanted.size
    )
    if not listing.articles:
        # The button's topic has no news (any more): keep the list the message shows.
        await query.answer(t("button-stale"), show_alert=True)
        return
    body, markup = _render_latest(t, listing, wanted.topic, await context.zone(update))
    await show_page(context, query, body, markup)


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
    if len(args) > 1:
        # One article at a time (each can be several messages): say the others were not read.
        text = formatting.text(t, "read-one-at-a-time", id=args[0][:MAX_SHOWN])
        await update.effective_message.reply_html(text)
    await read_typed(update, context, t, args[0])


async def read_typed(update: Update, context: AkhbarContext, t: Texts, typed: str) -> None:
    """Open the article whose id the user typed (or a link carried), or say why it cannot."""
    wanted = typed.lstrip("#")
    if not wanted.isdecimal():
        text = formatting.text(t, "read-not-a-number", text=typed[:MAX_SHOWN])
        await update.effective_message.reply_html(text)
        return
    if len(wanted) > MAX_ID_DIGITS:
        shown = t.digits(formatting.shorten(wanted, MAX_SHOWN))
        text = formatting.text(t, "read-not-found", id=shown)
        await update.effective_message.reply_html(text)
        return
    await send_article(update, context, t, int(wanted))


async def read_shortcut(update: Update, context: AkhbarContext) -> None:
    match = context.matches[0]
    if match.group(2) and match.group(2).casefold() != (context.bot.username or "").casefold():
        return  # `/read_5@otherbot` in a group is another bot's command
    t = await context.texts(update)
    await read_typed(update, context, t, match.group(1))


async def open_article(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    t = await context.texts(update)
    await query.answer()
    await send_article(update, context, t, int(query.data.split(":", 1)[1]))


async def related_news(update: Update, context: AkhbarContext) -> None:
    """The stored headlines closest to a headline-only article, as a new list, sent once: the
    button leaves the article's message as the list arrives."""
    query = update.callback_query
    t = await context.texts(update)
    await query.answer()
    await _drop_related_button(query)
    chat_id, thread = update.effective_chat.id, topic_of(update)
    try:
        article, found = await context.services.news.related(int(query.data.split(":", 1)[1]))
    except ArticleNotFound as error:
        text = formatting.text(t, "read-not-found", id=error.args[0])
        await context.bot.send_message(chat_id, text, message_thread_id=thread)
        return
    title = formatting.shorten(article.title, RELATED_TITLE)
    if not found:
        text = formatting.text(t, "related-none", title=title)
        await context.bot.send_message(chat_id, text, message_thread_id=thread)
        return
    heading = t("related-title", title=title)
    body = formatting.headline_list(t, heading, found, None, await context.zone(update))
    markup = InlineKeyboardMarkup(open_buttons(found))
    await context.bot.send_message(chat_id, body, reply_markup=markup, message_thread_id=thread)


async def _drop_related_button(query: CallbackQuery) -> None:
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return
    rows = [
        row
        for row in markup.inline_keyboard
        if not any(str(b.callback_data or "").startswith("q1:") for b in row)
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


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
