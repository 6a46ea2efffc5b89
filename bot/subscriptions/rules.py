"""Digest schedules: parsing what admins type, and when a schedule fires in its time zone.

A schedule is either daily times on some days of the week or a cron expression. Both become
APScheduler triggers, so the times listed to users, the times the scheduler loop fires and the
slot a run belongs to are computed by the same code. Each answer asks the trigger for one fire
time after another (microseconds), never for a list of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.errors import BadSchedule
from bot.models import ScheduleRule

_CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_WORDS = {
    0: ("mon", "monday", "lun", "lundi", "الاثنين", "الإثنين", "اثنين", "الأثنين"),
    1: ("tue", "tuesday", "mar", "mardi", "الثلاثاء", "ثلاثاء"),
    2: ("wed", "wednesday", "mer", "mercredi", "الأربعاء", "الاربعاء", "أربعاء", "اربعاء"),
    3: ("thu", "thursday", "jeu", "jeudi", "الخميس", "خميس"),
    4: ("fri", "friday", "ven", "vendredi", "الجمعة", "جمعة"),
    5: ("sat", "saturday", "sam", "samedi", "السبت", "سبت"),
    6: ("sun", "sunday", "dim", "dimanche", "الأحد", "الاحد", "أحد", "احد"),
}
_DAY_OF_WORD = {word: day for day, words in _DAY_WORDS.items() for word in words}
_TIME = re.compile(r"^(\d{1,2})[:h](\d{2})$")
# `cron "0 8 * * 1-5"` (straight, curly or French quotes) or `cron 0 8 * * 1-5` (five fields).
_CRON = re.compile(r"\bcron\s+(?:[\"“”«']([^\"“”»']+)[\"“”»']|((?:\S+\s+){4}\S+))")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
MIN_CRON_GAP = timedelta(minutes=30)
_GAP_SAMPLES = 48


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """What an admin asked for with /schedule: when, which topics, how many, for which chat."""

    rule: ScheduleRule
    topics: tuple[str, ...] = ()
    count: int | None = None
    channel: str | None = None


def parse_time(word: str) -> time | None:
    """`08:00`, `8:30`, `8h30` or with Arabic-Indic digits; None when it is not a time."""
    match = _TIME.match(word.translate(_EASTERN_DIGITS))
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise BadSchedule("time", word)
    return time(hour, minute)


def parse_times(words: list[str]) -> tuple[time, ...]:
    """Every word must be a time; sorted, without repeats."""
    if not words:
        raise BadSchedule("no-time", "")
    found = []
    for word in words:
        moment = parse_time(word)
        if moment is None:
            raise BadSchedule("time", word)
        found.append(moment)
    return tuple(sorted(set(found)))


def parse_days(word: str) -> tuple[int, ...] | None:
    """`mon-fri`, `sat,sun`, `lun-ven`, `السبت,الأحد`; None when `word` names no day."""
    days: set[int] = set()
    for part in word.casefold().replace("،", ",").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in _DAY_OF_WORD for e in ends):
            return None
        first, last = _DAY_OF_WORD[ends[0]], _DAY_OF_WORD[ends[-1]]
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return tuple(sorted(days))


def parse_request(text: str, *, max_count: int) -> ScheduleRequest:
    """Parse the words after /schedule: [@channel] times|cron "…" [days] [topics…] [count]."""
    text = text.translate(_EASTERN_DIGITS).strip()
    cron_match = _CRON.search(text)
    cron = None
    if cron_match is not None:
        cron = (cron_match[1] or cron_match[2]).strip()
        text = text[: cron_match.start()] + text[cron_match.end() :]
    words = text.split()
    channel = next((w for w in words if w.startswith("@")), None)
    times, days, topics, count = [], None, [], None
    for word in (w for w in words if not w.startswith("@")):
        if (moment := parse_time(word)) is not None:
            times.append(moment)
        elif (found_days := parse_days(word)) is not None:
            days = found_days
        elif word.isdecimal():
            count = _count(word, max_count)
        else:
            topics.append(word.casefold())
    if cron is not None:
        rule = ScheduleRule(cron=validate_cron(cron))
    else:
        rule = ScheduleRule(
            times=parse_times([t.strftime("%H:%M") for t in times]), days=days or ()
        )
    return ScheduleRequest(rule, tuple(dict.fromkeys(topics)), count, channel)


def _count(word: str, max_count: int) -> int:
    count = int(word)
    if not 1 <= count <= max_count:
        raise BadSchedule("count", word)
    return count


def validate_cron(expression: str) -> str:
    """A five-field crontab expression that fires at most every 30 minutes; raise BadSchedule."""
    fields = expression.split()
    if len(fields) != 5:
        raise BadSchedule("cron", expression)
    try:
        trigger = _cron_trigger(expression, ZoneInfo("UTC"))
    except ValueError:
        raise BadSchedule("cron", expression) from None
    runs = _upcoming(trigger, datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC")), _GAP_SAMPLES)
    if not runs or any(b - a < MIN_CRON_GAP for a, b in pairwise(runs)):
        raise BadSchedule("cron-too-often", expression)
    return " ".join(fields)


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler day names.

    APScheduler 3's `CronTrigger.from_crontab` reads digits with 0 = Monday, so `1-5` would
    mean Tuesday to Saturday; the field is translated into names before it gets there.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.casefold().split(","):
        span, _, step = part.partition("/")
        first, last = (0, 6) if span == "*" else _cron_span(span)
        days.update(d % 7 for d in range(first, last + 1, int(step or 1)))
    return ",".join(_CRON_DAY_NAMES[d] for d in sorted(days))


def _cron_span(span: str) -> tuple[int, int]:
    ends = [_cron_day(end) for end in span.split("-")]
    if len(ends) > 2 or (len(ends) == 2 and ends[1] < ends[0]):
        raise ValueError(span)
    return ends[0], ends[-1]


def _cron_day(word: str) -> int:
    if word.isdecimal() and int(word) <= 7:
        return int(word)
    if word in _CRON_DAY_NAMES:
        return _CRON_DAY_NAMES.index(word)
    raise ValueError(word)


def _cron_trigger(expression: str, tz: ZoneInfo) -> CronTrigger:
    minute, hour, day, month, weekday = expression.split()
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month,
        day_of_week=cron_weekdays(weekday), timezone=tz,
    )  # fmt: skip


@lru_cache(maxsize=4096)
def trigger(rule: ScheduleRule, tz: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger that fires this rule in time zone `tz` (shared: rules repeat)."""
    if rule.cron:
        return _cron_trigger(rule.cron, tz)
    days = ",".join(rule.day_names) or "*"
    triggers = [
        CronTrigger(hour=t.hour, minute=t.minute, day_of_week=days, timezone=tz) for t in rule.times
    ]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def _fires_from(fires: BaseTrigger, start: datetime) -> Iterator[datetime]:
    """Fire times at or after `start`, one trigger call each, as long as they are asked for."""
    previous, now = None, start
    while (following := fires.get_next_fire_time(previous, now)) is not None:
        yield following
        previous, now = following, following + timedelta(microseconds=1)


def _upcoming(fires: BaseTrigger, start: datetime, count: int) -> list[datetime]:
    return list(islice(_fires_from(fires, start), count))


def next_runs(rule: ScheduleRule, tz: ZoneInfo, *, after: datetime, count: int = 1):
    """The next `count` fire times after `after`, in `tz`."""
    return _upcoming(trigger(rule, tz), after + timedelta(microseconds=1), count)


def next_fire(rule: ScheduleRule, tz: ZoneInfo, *, after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (None when the rule never fires again)."""
    return next(_fires_from(trigger(rule, tz), after + timedelta(microseconds=1)), None)


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """What a run at some moment finds: the slot it serves (or None) and the next fire time."""

    slot: datetime | None
    next_fire: datetime | None


def check_slot(
    rule: ScheduleRule, tz: ZoneInfo, *, now: datetime, grace: timedelta, since: datetime | None
) -> SlotCheck:
    """The latest fire time in [now - grace, now] and the first one after `now`.

    `since` (the stored next fire time, when known) lets the walk start there: a run on time
    costs two trigger calls; one after downtime starts at `now - grace`, so however long the
    bot was down, at most the slots of one grace period are looked at and only the latest is
    served (catch-up once).
    """
    start = now - grace if since is None else max(since, now - grace)
    slot = None
    for fire in _fires_from(trigger(rule, tz), start):
        if fire > now:
            return SlotCheck(slot, fire)
        slot = fire
    return SlotCheck(slot, None)


def due_slot(rule: ScheduleRule, tz: ZoneInfo, *, now: datetime, grace: timedelta):
    """The latest fire time in [now - grace, now], or None: the slot a run at `now` serves."""
    return check_slot(rule, tz, now=now, grace=grace, since=None).slot
