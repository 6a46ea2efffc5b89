"""/start (with the read_<id> deep link) and /help."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler

from bot import formatting
from bot.ptb.context import AkhbarApp, AkhbarContext
from handlers.news import read_typed

DEEP_LINK_READ = "read_"


async def start(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    payload = (context.args or [""])[0]
    if payload.startswith(DEEP_LINK_READ):
        # A cut or mistyped link gets the same answers as a mistyped /read.
        await read_typed(update, context, t, payload.removeprefix(DEEP_LINK_READ))
        return
    user = update.effective_user
    name = user.first_name if user else ""
    welcome = formatting.text(t, "start-welcome", name=name)
    await update.effective_message.reply_html(formatting.help_text(t, welcome, _sections(update)))


async def help_command(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    intro = formatting.text(t, "help")
    await update.effective_message.reply_html(formatting.help_text(t, intro, _sections(update)))


def _sections(update: Update) -> tuple[str, ...]:
    """The help a chat needs: digests are for private chats, schedules for groups (and for
    channels, set up from a private chat)."""
    if update.effective_chat.type == ChatType.PRIVATE:
        return ("reading", "subscriptions", "groups", "moderation")
    return ("reading", "groups", "moderation")


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
