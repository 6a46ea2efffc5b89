import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.ingestion.dates import parse_arabic_date, to_utc

CASABLANCA = ZoneInfo("Africa/Casablanca")
BEIRUT = ZoneInfo("Asia/Beirut")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "20 - 03 - 2019",
        "20-03-2019",
        "20/03/2019",
        "20.03.2019",
        "نشر في هسبريس يوم 20 - 03 - 2019",
    ],
)
def test_numeric_date_is_midnight_in_the_source_zone(text):
    # Morocco kept UTC+1 in March 2019, so midnight there is 23:00 UTC the day before.
    assert parse_arabic_date(text, tz=CASABLANCA) == utc(2019, 3, 19, 23, 0)


def test_eastern_arabic_digits_and_time():
    assert parse_arabic_date("٢٠ - ٠٣ - ٢٠١٩ ١٤:٣٠", tz=CASABLANCA) == utc(2019, 3, 20, 13, 30)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("5 يناير 2021", 1),
        ("5 فبراير 2021", 2),
        ("5 أبريل 2021", 4),
        ("5 ابريل 2021", 4),
        ("5 ماي 2021", 5),
        ("5 مايو 2021", 5),
        ("5 يوليوز 2021", 7),
        ("5 يوليو 2021", 7),
        ("5 غشت 2021", 8),
        ("5 أغسطس 2021", 8),
        ("5 شتنبر 2021", 9),
        ("5 سبتمبر 2021", 9),
        ("5 نونبر 2021", 11),
        ("5 دجنبر 2021", 12),
        ("5 ديسمبر 2021", 12),
        ("5 كانون الثاني 2021", 1),
        ("5 شباط 2021", 2),
        ("5 آذار 2021", 3),
        ("5 نيسان 2021", 4),
        ("5 أيار 2021", 5),
        ("5 حزيران 2021", 6),
        ("5 تموز 2021", 7),
        ("5 آب 2021", 8),
        ("5 أيلول 2021", 9),
        ("5 تشرين الأول 2021", 10),
        ("5 تشرين الثاني 2021", 11),
        ("5 كانون الأول 2021", 12),
    ],
)
def test_month_names_of_every_region(text, month):
    assert parse_arabic_date(text, tz=UTC) == utc(2021, month, 5)


def test_reuters_double_month_name_and_time():
    parsed = parse_arabic_date("الأربعاء 20 مارس آذار 2019 الساعة 09:15", tz=BEIRUT)
    assert parsed == utc(2019, 3, 20, 7, 15)


def test_multi_word_month_tolerates_extra_spaces_and_arabic_comma():
    assert parse_arabic_date("1 تشرين   الثاني، 2020", tz=UTC) == utc(2020, 11, 1)


def test_result_is_utc_aware():
    parsed = parse_arabic_date("20 مارس 2019", tz=CASABLANCA)
    assert parsed is not None
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "text",
    ["31 - 02 - 2019", "32 مارس 2019", "20 - 13 - 2019", "20 - 03 - 2019 25:00", "لا تاريخ", ""],
)
def test_impossible_or_missing_dates_give_none(text):
    assert parse_arabic_date(text, tz=CASABLANCA) is None


def test_to_utc_reads_feedparser_struct_time():
    assert to_utc(time.struct_time((2024, 2, 23, 10, 5, 0, 4, 54, 0))) == utc(2024, 2, 23, 10, 5)
    assert to_utc(None) is None
