"""Small reply helpers shared by areas."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest


async def replace_message(
    callback: CallbackQuery, html: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Show new content in the message a button belongs to; tapping the same page twice is fine."""
    await callback.answer()
    try:
        await callback.edit_message_text(html, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


def topic_of(update: Update) -> int | None:
    """The forum topic the update happened in, so answers go to the same topic."""
    message = update.effective_message
    return message.message_thread_id if message and message.is_topic_message else None
