"""Flood sense and /autopost requests as pure functions, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import formatting
from bot.errors import BadAutopost
from bot.models import AutopostStyle, KeywordFilters, QuietHours
from bot.subscriptions.autopost_requests import parse
from bot.subscriptions.flood import Candidate, Fate, Seen, is_quiet, plan, quiet_until

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")  # UTC+1 in March 2025 (before the switch on the 30th)


def minutes(hh_mm: str) -> int:
    hours, mins = hh_mm.split(":")
    return int(hours) * 60 + int(mins)


@pytest.mark.parametrize(
    ("start", "end", "at", "quiet"),
    [
        ("23:00", "07:00", "23:00", True),
        ("23:00", "07:00", "03:15", True),
        ("23:00", "07:00", "07:00", False),
        ("23:00", "07:00", "12:00", False),
        ("12:30", "14:00", "13:59", True),
        ("12:30", "14:00", "12:29", False),
        ("12:30", "12:30", "12:30", False),
    ],
)
def test_quiet_hours_may_wrap_midnight(start, end, at, quiet):
    assert is_quiet(minutes(at), QuietHours(minutes(start), minutes(end))) is quiet


@pytest.mark.parametrize(
    ("quiet", "now", "until"),
    [
        (None, NOW, None),
        (("14:00", "15:00"), NOW, None),  # 13:00 in Paris
        (("12:30", "14:00"), NOW, NOW + timedelta(hours=1)),
        (("22:00", "07:00"), NOW.replace(hour=22), NOW.replace(hour=6) + timedelta(days=1)),
        (("22:00", "07:00"), NOW.replace(hour=2), NOW.replace(hour=6)),
    ],
)
def test_quiet_until_is_the_end_of_the_span_in_the_chat_zone(quiet, now, until):
    span = None if quiet is None else QuietHours(minutes(quiet[0]), minutes(quiet[1]))
    assert quiet_until(now, span, PARIS) == until


def candidates(count: int, *, start: int = 0) -> list[Candidate]:
    return [Candidate(n, f"https://n.test/{n}", f"title {n}") for n in range(start, start + count)]


def fates(decisions) -> list[str]:
    return [d.fate.value for d in decisions]


def test_within_the_cap_everything_is_posted():
    decisions = plan(candidates(3), history=[], now=NOW, hourly_cap=10, quiet_end=None)
    assert fates(decisions) == ["posted"] * 3


def test_above_the_cap_the_surplus_is_held_for_the_end_of_the_hour():
    decisions = plan(candidates(100), history=[], now=NOW, hourly_cap=10, quiet_end=None)
    assert fates(decisions) == ["posted"] * 10 + ["held"] * 90
    assert {d.due_at for d in decisions[10:]} == {NOW + timedelta(hours=1)}


@pytest.mark.parametrize(
    ("posted_ago", "expected"),
    [
        ([50, 40], ["held", "held"]),  # two posts in the last hour, cap 2
        ([70, 40], ["posted", "held"]),  # one of them left the window
        ([70, 65], ["posted", "posted"]),
    ],
)
def test_the_cap_counts_posts_of_the_last_hour(posted_ago, expected):
    history = [
        Seen(f"https://old.test/{m}", f"old {m}", NOW - timedelta(minutes=m), True)
        for m in posted_ago
    ]
    decisions = plan(candidates(2), history=history, now=NOW, hourly_cap=2, quiet_end=None)
    assert fates(decisions) == expected
    if expected[-1] == "held":
        oldest = max(m for m in posted_ago if m < 60)  # minutes ago, within the hour
        assert decisions[-1].due_at == NOW - timedelta(minutes=oldest) + timedelta(hours=1)


@pytest.mark.parametrize(
    ("seen", "candidate", "fate"),
    [
        (Seen("https://a.test/1", "x", NOW - timedelta(hours=3), True),
         Candidate(1, "https://a.test/1", "y"), Fate.DUPLICATE),  # same address
        (Seen("https://a.test/1", "same title", NOW - timedelta(hours=23), True),
         Candidate(1, "https://b.test/9", "same title"), Fate.DUPLICATE),  # same story
        (Seen("https://a.test/1", "same title", NOW - timedelta(hours=25), True),
         Candidate(1, "https://b.test/9", "same title"), Fate.POST),  # a day later: news again
        (Seen("https://a.test/1", "held title", NOW - timedelta(hours=30), False),
         Candidate(1, "https://b.test/9", "held title"), Fate.DUPLICATE),  # still waiting
        (Seen(None, "x", NOW, True), Candidate(1, None, "y"), Fate.POST),  # no address: title
    ],
)  # fmt: skip
def test_a_story_the_chat_had_within_a_day_is_not_posted_again(seen, candidate, fate):
    [decision] = plan([candidate], history=[seen], now=NOW, hourly_cap=10, quiet_end=None)
    assert decision.fate is fate


def test_the_same_story_twice_in_one_batch_is_posted_once():
    batch = [Candidate(1, "https://a.test/1", "t"), Candidate(2, "https://b.test/2", "t")]
    decisions = plan(batch, history=[], now=NOW, hourly_cap=10, quiet_end=None)
    assert fates(decisions) == ["posted", "duplicate"]


def test_in_quiet_hours_everything_waits_for_their_end():
    end = NOW + timedelta(hours=5)
    decisions = plan(candidates(3), history=[], now=NOW, hourly_cap=10, quiet_end=end)
    assert fates(decisions) == ["held"] * 3 and {d.due_at for d in decisions} == {end}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maroc sport", {"topics": ("maroc", "sport")}),
        ("Maroc photo", {"topics": ("maroc",), "style": AutopostStyle.PHOTO}),
        ("ملخص 5/h", {"style": AutopostStyle.SUMMARY, "hourly_cap": 5}),
        ("titre 12/heure aperçu", {"style": AutopostStyle.HEADLINE, "hourly_cap": 12,
                                   "link_preview": True}),
        ("23:00-07:00", {"quiet": QuietHours(23 * 60, 7 * 60)}),
        ("+الحكومة -كرة", {"filters": KeywordFilters(("الحكومة",), ("كرة",))}),
        ("@akhbar_ma on", {"channel": "@akhbar_ma"}),
        ("off", {"off": True}),
        ("off 2 @akhbar_ma", {"off": True, "number": 2, "channel": "@akhbar_ma"}),
        ("إيقاف", {"off": True}),
    ],
)  # fmt: skip
def test_autopost_requests_are_read_in_three_languages(text, expected):
    request = parse(text, max_cap=60)
    for name, value in expected.items():
        assert getattr(request, name) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [("0/h", "cap"), ("61/h", "cap"), ("24:00-07:00", "quiet"), ("07:00-07:00", "quiet"),
     ("off two", "number")],
)  # fmt: skip
def test_bad_paces_quiet_hours_and_numbers_are_refused(text, problem):
    with pytest.raises(BadAutopost) as raised:
        parse(text, max_cap=60)
    assert raised.value.problem == problem


@pytest.mark.parametrize(
    ("topic", "tag"),
    [
        ("maroc", "#maroc"),
        ("الاقتصاد", "#الاقتصاد"),
        ("الرياضة الوطنية", "#الرياضة_الوطنية"),
        ("أخبارُ المغربِ", "#أخبار_المغرب"),  # vowel marks are not hashtag letters
        ("c'est-la-vie!", "#c_est_la_vie"),
        ("2025", None),  # only digits: Telegram does not link it
        ("!!!", None),
    ],
)
def test_hashtags_hold_only_letters_digits_and_underscores(topic, tag):
    assert formatting.hashtag(topic) == tag


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        (None, None),
        ("قصير.", "قصير."),
        ("كلمة " * 100, ("كلمة " * 59).strip() + "…"),
        ("a" * 400, "a" * 299 + "…"),  # one endless word is cut where it must
    ],
)
def test_the_summary_is_the_first_paragraph_cut_at_a_word(body, summary):
    assert formatting.summary_of(body, limit=300) == summary
