"""The single error handler: log first, then apologise to the user and tell the operator."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot import formatting
from bot.logs import Redactor, token_forms
from bot.ptb.context import AkhbarApp, AkhbarContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: AkhbarContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if isinstance(update, Update):
        await _apologise(update, context)
    await _tell_operator(update_id, context)


async def _apologise(update: Update, context: AkhbarContext) -> None:
    if update.effective_chat is None:
        return
    try:
        t = await context.texts(update)
        if update.callback_query is not None:
            await update.callback_query.answer()  # stop the button's spinner
        await context.bot.send_message(
            update.effective_chat.id, formatting.text(t, "error-apology")
        )
    except (TelegramError, RuntimeError) as error:
        # The apology itself failed (blocked user, Telegram down): logging is all that is left.
        if not isinstance(error, Forbidden):
            log.warning("could not apologise for update %s: %s", update.update_id, error)
    except Exception:
        log.exception("could not apologise for update %s", update.update_id)


async def _tell_operator(update_id: int | None, context: AkhbarContext) -> None:
    admin_chat = context.bot_data.services and context.bot_data.services.config.bot.admin_chat_id
    if not admin_chat:
        return
    summary = f"{type(context.error).__name__}: {context.error}"
    summary = Redactor(token_forms(context.bot.token))(summary)[:500]
    try:
        await context.bot.send_message(admin_chat, formatting.operator_alert(update_id, summary))
    except Exception:
        log.exception("could not report update %s to the operator", update_id)


def register(app: AkhbarApp) -> None:
    app.add_error_handler(on_error)
