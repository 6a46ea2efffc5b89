"""Inline keyboards shared by several areas."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.formatting import Page
from bot.i18n.catalogs import Texts
from bot.models import Article
from bot.moderation.hiding import report_callback_data

BUTTONS_PER_ROW = 4


def open_buttons(articles: Sequence[Article]) -> list[list[InlineKeyboardButton]]:
    """One button per article, labelled with its number, opening it in the chat."""
    buttons = [InlineKeyboardButton(str(a.id), callback_data=f"r1:{a.id}") for a in articles]
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def page_buttons(t: Texts, page: Page, data_for_page) -> list[InlineKeyboardButton]:
    """Previous/next buttons; `data_for_page(n)` gives the callback data, None when it can't."""
    row = []
    for wanted, label in ((page.number - 1, "button-previous"), (page.number + 1, "button-next")):
        data = data_for_page(wanted) if 1 <= wanted <= page.count else None
        if data is not None:
            row.append(InlineKeyboardButton(t(label), callback_data=data))
    return row


def listing_markup(t: Texts, articles, page: Page, data_for_page) -> InlineKeyboardMarkup | None:
    rows = open_buttons(articles)
    paging = page_buttons(t, page, data_for_page)
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows) if rows else None


def source_markup(
    t: Texts, url: str | None, *, related_to: int | None = None
) -> InlineKeyboardMarkup | None:
    """A "read at the source" button when the article has an address, and a "related news"
    button when it is given the article to relate to."""
    rows = []
    if url:
        rows.append([InlineKeyboardButton(t("button-source"), url=url)])
    if related_to is not None:
        data = f"q1:{related_to}"
        rows.append([InlineKeyboardButton(t("button-related"), callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


def fits_callback(data: str) -> bool:
    """Telegram accepts callback data of 1 to 64 UTF-8 bytes."""
    return 1 <= len(data.encode("utf-8")) <= 64


def report_markup(t: Texts, image_id: int) -> InlineKeyboardMarkup:
    """The "report image" button every photo the bot sends carries."""
    data = report_callback_data(image_id)
    button = InlineKeyboardButton(t("button-report-image"), callback_data=data)
    return InlineKeyboardMarkup([[button]])


AUTOPOST_PREFIX = "ap1"


def autopost_menu_button(t: Texts) -> InlineKeyboardButton:
    """The /settings button that opens auto-posting for the channel an admin picked."""
    return InlineKeyboardButton(t("button-autopost"), callback_data=f"{AUTOPOST_PREFIX}:m")
