"""Operators manage the news sources from chat: /sources, /addsource (look, then confirm),
/removesource, /pausesource, /resumesource."""

from __future__ import annotations

import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.errors import AkhbarError, SourceExists, SourceNotFound
from bot.formatting import Page
from bot.i18n.catalogs import LANGUAGES, Texts
from bot.ingestion import health
from bot.ptb.context import AkhbarApp, AkhbarContext
from handlers._keyboards import page_buttons
from handlers._replies import replace_message

PAGE_SIZE = 8
MAX_TOPICS = 5
MAX_TOPIC_LENGTH = 32
PAGE_BUTTON = r"^s1:p:(\d{1,4})$"
CONFIRM_BUTTON = r"^s1:(a|x):([\w-]{1,16})$"


async def operator_texts(update: Update, context: AkhbarContext) -> Texts | None:
    """The texts for an operator; None (after a polite refusal) for anyone else."""
    t = await context.texts(update)
    user = update.effective_user
    if user is None or user.id not in context.services.config.moderation.operator_ids:
        if update.callback_query is not None:
            await update.callback_query.answer(t("sources-operators-only"), show_alert=True)
        else:
            await update.effective_message.reply_html(formatting.text(t, "sources-operators-only"))
        return None
    return t


async def _page(context: AkhbarContext, t: Texts, number: int):
    items = await context.services.sources.health()
    count = max(math.ceil(len(items) / PAGE_SIZE), 1)
    page = Page(min(max(number, 1), count), count)
    shown = items[(page.number - 1) * PAGE_SIZE : page.number * PAGE_SIZE]
    html = formatting.sources_page(t, shown, page, len(items), context.services.config.bot.tz)
    row = page_buttons(t, page, lambda n: f"s1:p:{n}")
    return html, InlineKeyboardMarkup([row]) if row else None


async def list_sources(update: Update, context: AkhbarContext) -> None:
    if (t := await operator_texts(update, context)) is None:
        return
    html, markup = await _page(context, t, 1)
    await update.effective_message.reply_html(html, reply_markup=markup)


async def sources_page(update: Update, context: AkhbarContext) -> None:
    if (t := await operator_texts(update, context)) is None:
        return
    html, markup = await _page(context, t, int(context.matches[0].group(1)))
    await replace_message(update.callback_query, html, markup)


def _add_arguments(args: list[str]) -> tuple[str, tuple[str, ...], str | None]:
    url, rest = args[0], list(args[1:])
    language = rest.pop() if rest and rest[-1].lower() in LANGUAGES else None
    topics = tuple(dict.fromkeys(w.lower()[:MAX_TOPIC_LENGTH] for w in rest))[:MAX_TOPICS]
    return url, topics, language.lower() if language else None


async def add_source(update: Update, context: AkhbarContext) -> None:
    if (t := await operator_texts(update, context)) is None:
        return
    message = update.effective_message
    if not context.args:
        await message.reply_html(formatting.text(t, "addsource-usage"))
        return
    # Fetching may take the whole timeout: do it beside the update queue, not in it, so
    # nobody else waits for a slow site.
    context.application.create_task(
        _preview(update, context, t, *_add_arguments(context.args)), update=update
    )


async def _preview(
    update: Update,
    context: AkhbarContext,
    t: Texts,
    url: str,
    topics: tuple[str, ...],
    language: str | None,
) -> None:
    message = update.effective_message
    try:
        preview = await context.services.sources.preview(url, topics=topics, language=language)
    except SourceExists:
        await message.reply_html(formatting.text(t, "addsource-exists"))
        return
    except AkhbarError as error:
        reason = t(f"source-error-{health.error_kind(error)}")
        await message.reply_html(formatting.text(t, "addsource-failed", error=reason))
        return
    html = formatting.source_preview(
        t, preview.source, count=preview.article_count, headlines=preview.headlines,
        discovered=preview.discovered,
    )  # fmt: skip
    buttons = [
        InlineKeyboardButton(t("button-add-source"), callback_data=f"s1:a:{preview.token}"),
        InlineKeyboardButton(t("button-cancel"), callback_data=f"s1:x:{preview.token}"),
    ]
    await message.reply_html(html, reply_markup=InlineKeyboardMarkup([buttons]))


async def confirm_source(update: Update, context: AkhbarContext) -> None:
    if (t := await operator_texts(update, context)) is None:
        return
    action, token = context.matches[0].group(1), context.matches[0].group(2)
    catalog = context.services.sources
    if action == "x":
        catalog.cancel(token)
        html = formatting.text(t, "addsource-cancelled")
        await replace_message(update.callback_query, html, None)
        return
    try:
        source = await catalog.confirm(token)
    except SourceExists:
        html = formatting.text(t, "addsource-exists")
    else:
        if source is None:
            html = formatting.text(t, "addsource-expired")
        else:
            html = formatting.text(t, "addsource-added", name=source.name)
            context.wake_source_polls()
    await replace_message(update.callback_query, html, None)


def _switch(action: str, usage: str, done: str):
    async def handle(update: Update, context: AkhbarContext) -> None:
        if (t := await operator_texts(update, context)) is None:
            return
        message = update.effective_message
        if len(context.args or []) != 1:
            await message.reply_html(formatting.text(t, usage))
            return
        name = context.args[0]
        try:
            await getattr(context.services.sources, action)(name)
        except SourceNotFound:
            await message.reply_html(formatting.text(t, "source-unknown", name=name))
            return
        context.wake_source_polls()
        await message.reply_html(formatting.text(t, done, name=name))

    handle.__name__ = f"{action}_source"
    return handle


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("sources", list_sources))
    app.add_handler(CommandHandler("addsource", add_source))
    for command, action, usage, done in (
        ("removesource", "remove", "removesource-usage", "source-removed"),
        ("pausesource", "pause", "pausesource-usage", "source-paused"),
        ("resumesource", "resume", "resumesource-usage", "source-resumed"),
    ):
        app.add_handler(CommandHandler(command, _switch(action, usage, done)))
    app.add_handler(CallbackQueryHandler(sources_page, pattern=PAGE_BUTTON))
    app.add_handler(CallbackQueryHandler(confirm_source, pattern=CONFIRM_BUTTON))
