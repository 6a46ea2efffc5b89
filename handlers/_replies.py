"""Small reply helpers shared by areas."""

from __future__ import annotations

from collections import OrderedDict
from weakref import WeakKeyDictionary

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackContext


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


class _ShownPages:
    """Which page each recently turned list shows, as a hash of its text and buttons.

    A quick double tap sends two callbacks that both carry the message as it was before the
    first edit, so the message in the second cannot tell that the page is already shown. Kept
    in memory, one per running bot, and bounded: forgetting (a restart, an old list) costs only
    one refused edit.
    """

    def __init__(self, size: int = 2000) -> None:
        self._size = size
        self._shown: OrderedDict[tuple[int, int], int] = OrderedDict()

    def is_shown(self, key: tuple[int, int], page: int) -> bool:
        return self._shown.get(key) == page

    def remember(self, key: tuple[int, int], page: int) -> None:
        self._shown[key] = page
        self._shown.move_to_end(key)
        if len(self._shown) > self._size:
            self._shown.popitem(last=False)


_shown_pages: WeakKeyDictionary[Application, _ShownPages] = WeakKeyDictionary()


async def show_page(
    context: CallbackContext, callback: CallbackQuery, html: str, markup: InlineKeyboardMarkup
) -> None:
    """Show another page of a list in the message its button belongs to; when it is the page
    already shown, only answer the tap, as Telegram refuses an edit that changes nothing."""
    shown_pages = _shown_pages.setdefault(context.application, _ShownPages())
    message = callback.message
    if not isinstance(message, Message):
        await replace_message(callback, html, markup)
        return
    key, page = (message.chat_id, message.message_id), hash((html, markup))
    if markup == message.reply_markup or shown_pages.is_shown(key, page):
        await callback.answer()
        return
    await replace_message(callback, html, markup)
    shown_pages.remember(key, page)


def topic_of(update: Update) -> int | None:
    """The forum topic the update happened in, so answers go to the same topic."""
    message = update.effective_message
    return message.message_thread_id if message and message.is_topic_message else None
