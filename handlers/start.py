"""/start (with the read_<id> deep link) and /help."""

from __future__ import annotations

from telegram import Update
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
    await update.effective_message.reply_html(formatting.text(t, "start-welcome", name=name))


async def help_command(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    await update.effective_message.reply_html(formatting.text(t, "help"))


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
