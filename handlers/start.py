"""/start (with the read_<id> deep link) and /help."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler

from bot import formatting
from bot.ptb.context import AkhbarApp, AkhbarContext
from handlers.news import send_article

DEEP_LINK_READ = "read_"


async def start(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    payload = (context.args or [""])[0]
    article_id = payload.removeprefix(DEEP_LINK_READ)
    if payload.startswith(DEEP_LINK_READ) and article_id.isdecimal() and len(article_id) <= 9:
        await send_article(update, context, t, int(article_id))
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
