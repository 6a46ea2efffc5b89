"""What the bot says when nothing else answered: unknown commands, plain text, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.ptb.context import AkhbarApp, AkhbarContext
from handlers.search import plain_text


async def unknown_command(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    await update.effective_message.reply_text(t("unknown-command"), parse_mode=None)


async def stale_button(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    await update.callback_query.answer(t("button-stale"), show_alert=True)


def register(app: AkhbarApp) -> None:
    # Must be registered after every area: within a group the first matching handler wins,
    # so these only see what no area answered.
    # In groups other bots' commands are none of our business: answer only private chats.
    app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command))
    # Plain text too: in a private chat it is for the bot (a search); in a group, for people.
    app.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, plain_text))
    app.add_handler(CallbackQueryHandler(stale_button))
