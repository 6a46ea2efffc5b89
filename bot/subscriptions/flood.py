"""Flood sense for auto-posting, as pure functions: quiet hours, the hourly cap and the same
story twice. The service reads the chat's recent history, asks `plan`, and stores the answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.models import QuietHours

WINDOW = timedelta(hours=1)
SAME_STORY_WITHIN = timedelta(days=1)
MINUTES_PER_DAY = 24 * 60


class Fate(StrEnum):
    POST = "posted"  # post now
    HOLD = "held"  # keep for the "more news" digest due at `due_at`
    DUPLICATE = "duplicate"  # the chat already has this story


@dataclass(frozen=True, slots=True)
class Candidate:
    """A new article a chat's rule matched, as the flood rules see it."""

    article_id: int
    url: str | None
    title_key: str


@dataclass(frozen=True, slots=True)
class Seen:
    """A story the chat already had: posted (at `at`), or held for a digest."""

    url: str | None
    title_key: str
    at: datetime
    is_posted: bool


@dataclass(frozen=True, slots=True)
class Decision:
    article_id: int
    fate: Fate
    due_at: datetime | None = None


def is_quiet(minute: int, quiet: QuietHours | None) -> bool:
    """Whether a minute of the day (0–1439) falls in the quiet span, which may wrap midnight."""
    if quiet is None or quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:
        return quiet.start <= minute < quiet.end
    return minute >= quiet.start or minute < quiet.end


def quiet_until(now: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime | None:
    """When the quiet span `now` falls in ends (in UTC like `now`), or None outside it."""
    local = now.astimezone(tz)
    if quiet is None or not is_quiet(local.hour * 60 + local.minute, quiet):
        return None
    end = local.replace(hour=quiet.end // 60, minute=quiet.end % 60, second=0, microsecond=0)
    if end <= local:
        end = (end + timedelta(days=1)).replace(tzinfo=tz)
    return end.astimezone(now.tzinfo)


def plan(
    candidates: Sequence[Candidate],
    *,
    history: Sequence[Seen],
    now: datetime,
    hourly_cap: int,
    quiet_end: datetime | None,
) -> list[Decision]:
    """Decide each candidate in order: a story the chat had within a day (same URL or same
    normalised title) is a duplicate; in quiet hours everything waits for their end; otherwise
    it is posted while fewer than `hourly_cap` posts went out in the last hour, and held for
    the digest at the end of that hour once the cap is reached."""
    recent = [s for s in history if s.at > now - SAME_STORY_WITHIN or not s.is_posted]
    urls = {s.url for s in recent if s.url}
    titles = {s.title_key for s in recent if s.title_key}
    posted = sorted(s.at for s in history if s.is_posted and s.at > now - WINDOW)
    decisions = []
    for candidate in candidates:
        if candidate.url in urls or candidate.title_key in titles:
            decisions.append(Decision(candidate.article_id, Fate.DUPLICATE))
            continue
        if candidate.url:
            urls.add(candidate.url)
        titles.add(candidate.title_key)
        if quiet_end is not None:
            decisions.append(Decision(candidate.article_id, Fate.HOLD, quiet_end))
        elif len(posted) < hourly_cap:
            posted.append(now)
            decisions.append(Decision(candidate.article_id, Fate.POST))
        else:
            decisions.append(Decision(candidate.article_id, Fate.HOLD, posted[0] + WINDOW))
    return decisions
