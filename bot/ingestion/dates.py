"""Dates as Arab news sites write them, turned into UTC datetimes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, tzinfo

__all__ = ["parse_arabic_date", "to_utc"]

# Month names by region, January first; an empty slot means the region shares the standard name.
_MONTH_NAMES = (
    "يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر",  # standard
    "|||||يونيه|يوليه||||",  # Egypt
    "|||ابريل|ماي||يوليوز|غشت|شتنبر||نونبر|دجنبر",  # Morocco
    "جانفي|فيفري||أفريل||جوان|جويلية|أوت||||",  # Algeria, Tunisia
    "كانون الثاني|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين الأول|تشرين الثاني|كانون الأول",
)

_SPELLING = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹أإآ", "01234567890123456789ااا", "ـ")


def _normalise(text: str) -> str:
    """Western digits, bare alef, no tatweel: one spelling for each month name."""
    return text.translate(_SPELLING)


_MONTHS: dict[str, int] = {}
for _names in _MONTH_NAMES:
    for _number, _name in enumerate(_names.split("|"), start=1):
        if _name:
            _MONTHS[_normalise(_name)] = _number

# Longest names first so "مايو" wins over "ماي"; spaces inside names are flexible.
_MONTH = "|".join(
    re.escape(name).replace(r"\ ", r"\s+") for name in sorted(_MONTHS, key=len, reverse=True)
)
_TIME = r"(?:[^\d\n]{0,20}?(?<!\d)(\d{1,2}):(\d{2})(?!\d))?"
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4})(?!\d)" + _TIME)
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)" + _TIME)
# Reuters Arabic doubles the month ("20 مارس آذار 2019"): the second name is skipped.
_NAMED = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s+({_MONTH})(?!\w)(?:\s+(?:{_MONTH})(?!\w))?\s*[,،]?\s*(\d{{4}})(?!\d)"
    + _TIME
)


def parse_arabic_date(text: str, *, tz: tzinfo) -> datetime | None:
    """Return the first date in `text` as an aware UTC datetime, or None if there is none.

    A date without a time means midnight in `tz`.
    """
    text = _normalise(text)
    found = [m for pattern in (_NUMERIC, _ISO, _NAMED) if (m := pattern.search(text))]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    if match.re is _NUMERIC:
        day, _, month, year, hour, minute = match.groups()
    elif match.re is _ISO:
        year, month, day, hour, minute = match.groups()
    else:
        day, name, year, hour, minute = match.groups()
        month = _MONTHS[" ".join(name.split())]
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None
    return local.replace(tzinfo=tz).astimezone(UTC)


def to_utc(value: time.struct_time | None) -> datetime | None:
    """Turn one of feedparser's `*_parsed` fields (already UTC) into an aware datetime."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
