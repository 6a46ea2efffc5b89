"""Dates in the reader's language: Moroccan month names in Arabic, configurable style and digits."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import formatting
from bot.i18n.catalogs import Catalogs, Texts, TextStyle

TZ = ZoneInfo("Africa/Casablanca")
MOROCCAN_MONTHS = (
    "يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو",
    "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر",
)  # fmt: skip


def texts(language: str, **style) -> Texts:
    return Catalogs("ar", TextStyle(**style)).texts(language)


@pytest.mark.parametrize("month", range(1, 13))
def test_arabic_dates_use_moroccan_month_names(month):
    day = datetime(2026, month, 15, 12, tzinfo=UTC)
    assert formatting.format_day(texts("ar"), day, TZ) == f"15 {MOROCCAN_MONTHS[month - 1]} 2026"


def test_french_and_english_dates_name_the_month_too():
    day = datetime(2026, 8, 1, 12, tzinfo=UTC)
    assert formatting.format_day(texts("fr"), day, TZ) == "1 août 2026"
    assert formatting.format_day(texts("en"), day, TZ) == "1 August 2026"


def test_the_numeric_style_and_another_arabic_locale_are_available():
    day = datetime(2026, 8, 1, 12, tzinfo=UTC)
    assert formatting.format_day(texts("ar", date_style="numeric"), day, TZ) == "01 - 08 - 2026"
    assert formatting.format_day(texts("ar", arabic_locale="ar_EG"), day, TZ) == "1 أغسطس 2026"


def test_arabic_indic_digits_are_an_option_and_commands_keep_latin_digits():
    arabic_digits = texts("ar", digits="arab")
    day = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert formatting.format_day(arabic_digits, day, TZ) == "١ دجنبر ٢٠٢٦"
    assert "١٢" in arabic_digits("read-not-found", id=12)
    assert "/read 12" in arabic_digits("read-usage")  # an example to type stays typeable
    assert formatting.format_day(texts("fr", digits="arab"), day, TZ) == "1 décembre 2026"
