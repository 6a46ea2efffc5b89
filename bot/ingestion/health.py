"""Source health as pure rules: what an error is called, when to poll next, when to alert."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import (
    AkhbarError,
    FeedNotFound,
    FeedParseError,
    FeedTooLarge,
    FetchTimeout,
    PrivateAddress,
    SourceGone,
    SourceHttpError,
    TooManyRedirects,
    UnsupportedUrl,
)

__all__ = ["error_kind", "next_poll_after_failure", "next_poll_after_success", "should_alert"]

# Each kind has a sentence in the catalogs: `source-error-<kind>`.
ERROR_KINDS = (
    "timeout", "gone", "not-found", "too-large", "redirects", "private-address", "bad-address",
    "rate-limited", "server-error", "http-error", "not-a-feed", "network",
)  # fmt: skip


def error_kind(error: AkhbarError) -> str:
    """The short, stable name of what went wrong (for words in chat and metrics labels)."""
    for kind, types in (
        ("timeout", FetchTimeout),
        ("gone", SourceGone),
        ("not-found", FeedNotFound),
        ("too-large", FeedTooLarge),
        ("redirects", TooManyRedirects),
        ("private-address", PrivateAddress),
        ("bad-address", UnsupportedUrl),
        ("not-a-feed", FeedParseError),
    ):
        if isinstance(error, types):
            return kind
    if isinstance(error, SourceHttpError):
        if error.status == 429:
            return "rate-limited"
        return "server-error" if error.status >= 500 else "http-error"
    return "network"


def _jittered(now: datetime, delay: timedelta, jitter: float, draw: float) -> datetime:
    # Jitter only shortens the wait: sources added together spread out, and none is ever
    # polled later than its interval.
    return now + delay * (1 - jitter * draw)


def next_poll_after_success(
    now: datetime, *, interval: timedelta, jitter: float, draw: float
) -> datetime:
    """When a source that just answered is polled next; `draw` is uniform in [0, 1)."""
    return _jittered(now, interval, jitter, draw)


def next_poll_after_failure(
    now: datetime,
    *,
    interval: timedelta,
    failures: int,
    retry_after: float | None,
    max_backoff: timedelta,
    jitter: float,
    draw: float,
) -> datetime:
    """Back off exponentially with consecutive `failures` (1 = the first), capped; a server's
    Retry-After wins when longer (capped too: a hostile header must not silence a source)."""
    delay = min(interval * 2 ** max(failures - 1, 0), max_backoff)
    delay = _jittered(now, delay, jitter, draw) - now
    if retry_after is not None:
        delay = max(delay, min(timedelta(seconds=retry_after), max_backoff))
    return now + delay


def should_alert(
    failing_since: datetime | None, now: datetime, *, after: timedelta, alerted: bool
) -> bool:
    """Whether operators must be told now that a source is failing (once per failing spell)."""
    return not alerted and failing_since is not None and now - failing_since >= after
