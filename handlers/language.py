"""/language [ar|fr|en] and its keyboard."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.i18n.catalogs import LANGUAGE_NAMES, LANGUAGES, language_code
from bot.ptb.chat_rights import is_group_admin
from bot.ptb.context import AkhbarApp, AkhbarContext
from handlers._replies import replace_message


def _keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=f"g1:{code}") for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons])


async def _may_change(update: Update, context: AkhbarContext) -> bool:
    """Anyone in a private chat; in a group (its digests, its replies) only its admins."""
    chat = update.effective_chat
    return chat.type == ChatType.PRIVATE or await is_group_admin(
        context, chat.id, chat.type, update.effective_user.id
    )


async def language(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _may_change(update, context):
        await update.effective_message.reply_html(formatting.text(t, "language-admins-only"))
        return
    typed = " ".join(context.args or [])
    if not typed:
        await update.effective_message.reply_html(
            formatting.text(t, "language-choose"), reply_markup=_keyboard()
        )
        return
    wanted = language_code(typed)
    if wanted is None:
        text = formatting.text(t, "language-unknown", text=typed[:20])
        await update.effective_message.reply_html(text, reply_markup=_keyboard())
        return
    t = await context.services.languages.choose(update.effective_chat.id, wanted)
    await update.effective_message.reply_html(formatting.text(t, _language_set(update)))


async def language_button(update: Update, context: AkhbarContext) -> None:
    callback = update.callback_query
    if not await _may_change(update, context):
        t = await context.texts(update)
        await callback.answer(t("language-admins-only"), show_alert=True)
        return
    code = callback.data.split(":", 1)[1]
    t = await context.services.languages.choose(update.effective_chat.id, code)
    await replace_message(callback, formatting.text(t, _language_set(update)), None)


def _language_set(update: Update) -> str:
    """The confirmation speaks to one person in a private chat, to everyone elsewhere."""
    private = update.effective_chat.type == ChatType.PRIVATE
    return "language-set" if private else "language-set-group"


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("language", language))
    app.add_handler(CallbackQueryHandler(language_button, pattern=r"^g1:(ar|fr|en)$"))
