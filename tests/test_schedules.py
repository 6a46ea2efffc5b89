"""Parsing schedules (times, days, cron) and when they fire, time zones included."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BadSchedule
from bot.models import ScheduleRule
from bot.subscriptions.rules import (
    cron_weekdays,
    due_slot,
    next_runs,
    parse_days,
    parse_request,
    parse_times,
)

CASABLANCA = ZoneInfo("Africa/Casablanca")


def test_times_accept_usual_and_arabic_indic_forms_sorted_without_repeats():
    assert parse_times(["19:30", "8:00", "08:00", "7h05", "٠٦:٤٥"]) == (
        time(6, 45), time(7, 5), time(8, 0), time(19, 30),
    )  # fmt: skip


@pytest.mark.parametrize("word", ["24:00", "08:60", "8", "huit", ""])
def test_bad_times_are_refused(word):
    with pytest.raises(BadSchedule):
        parse_times([word])


@pytest.mark.parametrize(
    ("word", "days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat,sun", (5, 6)),
        ("lun-ven", (0, 1, 2, 3, 4)),
        ("السبت,الأحد", (5, 6)),
        ("fri-mon", (0, 4, 5, 6)),
        ("dimanche", (6,)),
    ],
)
def test_days_in_english_french_and_arabic(word, days):
    assert parse_days(word) == days


def test_a_word_that_names_no_day_is_not_days():
    assert parse_days("maroc") is None


def test_schedule_request_reads_times_days_topics_count_and_channel():
    request = parse_request("@akhbar_ma 08:00 18:30 mon-fri maroc sport 5", max_count=30)
    assert request.channel == "@akhbar_ma"
    assert request.rule == ScheduleRule(times=(time(8), time(18, 30)), days=(0, 1, 2, 3, 4))
    assert request.topics == ("maroc", "sport")
    assert request.count == 5


def test_schedule_request_refuses_too_many_headlines_and_missing_times():
    with pytest.raises(BadSchedule) as refused:
        parse_request("08:00 500", max_count=30)
    assert refused.value.problem == "count"
    with pytest.raises(BadSchedule) as refused:
        parse_request("maroc", max_count=30)
    assert refused.value.problem == "no-time"


def test_cron_request_with_quotes_and_topics():
    request = parse_request('cron "0 8 * * 1-5" maroc', max_count=30)
    assert request.rule.cron == "0 8 * * 1-5"
    assert request.topics == ("maroc",)


def test_crontab_weekdays_count_sunday_as_zero_unlike_apscheduler():
    assert cron_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert cron_weekdays("0,6") == "sun,sat"
    assert cron_weekdays("7") == "sun"
    assert cron_weekdays("*/2") == "sun,tue,thu,sat"


def test_cron_monday_to_friday_fires_on_monday_not_on_saturday():
    rule = parse_request('cron "0 8 * * 1-5"', max_count=30).rule
    saturday = datetime(2025, 3, 1, 12, tzinfo=UTC)  # a Saturday
    [first] = next_runs(rule, ZoneInfo("UTC"), after=saturday)
    assert first == datetime(2025, 3, 3, 8, tzinfo=UTC)  # Monday


@pytest.mark.parametrize("expression", ["0 8 * *", "61 8 * * *", "0 8 * * 9", "* * * * *"])
def test_bad_or_too_frequent_cron_is_refused(expression):
    with pytest.raises(BadSchedule):
        parse_request(f'cron "{expression}"', max_count=30)


def test_casablanca_digest_follows_the_ramadan_clock_change():
    # Morocco leaves UTC+1 for UTC+0 during Ramadan: in 2025 from 23 February to 6 April.
    rule = ScheduleRule(times=(time(8),))
    assert CASABLANCA.utcoffset(datetime(2025, 2, 20)) == timedelta(hours=1)
    assert CASABLANCA.utcoffset(datetime(2025, 3, 10)) == timedelta(0)
    before = next_runs(rule, CASABLANCA, after=datetime(2025, 2, 20, tzinfo=UTC))[0]
    during = next_runs(rule, CASABLANCA, after=datetime(2025, 3, 10, tzinfo=UTC))[0]
    after = next_runs(rule, CASABLANCA, after=datetime(2025, 4, 10, tzinfo=UTC))[0]
    assert before.astimezone(UTC) == datetime(2025, 2, 20, 7, tzinfo=UTC)
    assert during.astimezone(UTC) == datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2025, 4, 10, 7, tzinfo=UTC)


def test_days_restrict_the_fire_times():
    rule = ScheduleRule(times=(time(9),), days=(5, 6))
    runs = next_runs(rule, ZoneInfo("UTC"), after=datetime(2025, 3, 3, tzinfo=UTC), count=3)
    assert [r.strftime("%a %d") for r in runs] == ["Sat 08", "Sun 09", "Sat 15"]


def test_the_slot_due_is_the_latest_fire_time_within_the_grace_period():
    rule = ScheduleRule(times=(time(8), time(20)))
    utc = ZoneInfo("UTC")
    grace = timedelta(hours=1)
    at_0830 = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
    assert due_slot(rule, utc, now=at_0830, grace=grace) == datetime(2025, 3, 3, 8, tzinfo=UTC)
    assert due_slot(rule, utc, now=at_0830 + timedelta(hours=1), grace=grace) is None
