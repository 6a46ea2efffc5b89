"""Reading the news: /latest, /read <id> (and /read_<id>), and their buttons."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import formatting
from bot.errors import ArticleNotFound
from bot.i18n.catalogs import Texts
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.reading.news import Listing
from handlers._keyboards import fits_callback, listing_markup, report_markup, source_markup
from handlers._replies import replace_message, topic_of

MAX_COUNT = 20
MAX_TOPIC_LENGTH = 60
# `/latest shared`: today's most shared articles instead of the newest.
MOST_SHARED_WORDS = ("shared", "partagés", "partages", "مشاركة", "الأكثر_مشاركة")
READ_SHORTCUT = r"^/read_(\d{1,9})(?:@\w+)?$"


def _latest_data(topic: str | None):
    def data(page: int) -> str | None:
        encoded = f"l1:{page}:{topic or ''}"
        return encoded if fits_callback(encoded) else None

    return data


def _parse_latest_args(args: list[str]) -> tuple[int | None, str | None]:
    count = next((int(a) for a in args if a.isdecimal() and len(a) <= 6), None)
    words = [a for a in args if not a.isdecimal()]
    return count, " ".join(words).casefold()[:MAX_TOPIC_LENGTH] or None


def _render_latest(context: AkhbarContext, t: Texts, listing: Listing, topic: str | None):
    title = t("latest-title-topic", topic=topic) if topic else t("latest-title")
    tz = context.services.config.bot.tz
    body = formatting.headline_list(t, title, listing.articles, listing.page, tz)
    return body, listing_markup(t, listing.articles, listing.page, _latest_data(topic))


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
    body, markup = _render_latest(context, t, listing, topic)
    await update.effective_message.reply_html(body, reply_markup=markup)


async def _empty_latest(context: AkhbarContext, t: Texts, topic: str | None) -> str:
    if topic is None:
        return formatting.text(t, "latest-empty")
    known = ", ".join(await context.services.news.topics()) or "—"
    return formatting.text(t, "latest-topic-empty", topic=topic, topics=known)


async def latest_page(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    _, page, topic = query.data.split(":", 2)
    t = await context.texts(update)
    listing = await context.services.news.latest(page=int(page), topic=topic or None)
    body, markup = _render_latest(context, t, listing, topic or None)
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
    image_id = None
    if article.image_url:
        image_id = await moderation.register_article_image(article.id, article.image_url, data=None)
    hidden = image_id is not None and await moderation.is_hidden(image_id)
    view = formatting.article_view(t, article, context.services.config.bot.tz, image_hidden=hidden)
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
    markup = source_markup(t, view.source_url)
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


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("latest", latest))
    app.add_handler(CommandHandler("read", read))
    app.add_handler(MessageHandler(filters.Regex(READ_SHORTCUT), read_shortcut))
    app.add_handler(CallbackQueryHandler(latest_page, pattern=r"^l1:\d{1,6}:"))
    app.add_handler(CallbackQueryHandler(open_article, pattern=r"^r1:\d{1,9}$"))
