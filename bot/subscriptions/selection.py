"""Which articles a digest holds: the composed digest type and the pure selection rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.models import Article, KeywordFilters
from bot.subscriptions import keyword_filters

# Candidates read per digest before keyword filters and the per-source cap thin them out.
CANDIDATE_WINDOW = 500
# A digest never offers news fetched longer ago than this, whatever its position (a schedule
# paused for months, a quarterly one beside a daily one): the record of what each chat received
# is kept longer ([storage] keep_history_days, at least 31 days), so no article reaches a chat
# twice because its record was deleted. Older news is not news either.
HORIZON = timedelta(days=30)


def candidate_window(now: datetime, first_digest_hours: int) -> tuple[datetime, datetime]:
    """Since when a digest without a position looks back, and the oldest fetch time any
    digest offers (`HORIZON` before now)."""
    return now - timedelta(hours=first_digest_hours), now - HORIZON


@dataclass(frozen=True, slots=True)
class Digest:
    """A composed digest: its articles (none for a "no news" note) and its message parts."""

    chat_id: int
    thread_id: int | None
    articles: tuple[Article, ...]
    parts: tuple[str, ...]


def select_articles(
    candidates: Iterable[Article], *, filters: KeywordFilters, per_source: int, count: int
) -> list[Article]:
    """Newest-first candidates kept by the keyword filters, at most `count` in all, at most
    `per_source` from one source while other sources have articles to fill the digest.

    The cap is there for variety, not to hold news back: when one source alone has news
    (a single-source install, the shipped sample), the digest still holds the `count`
    headlines its schedule promises, the newest first. Candidates are read only as far as
    needed.
    """
    # Hidden images (a later issue): drop here the articles whose image a chat must not see.
    chosen: list[tuple[int, Article]] = []
    held_back: list[tuple[int, Article]] = []
    by_source: Counter[str] = Counter()
    for position, article in enumerate(candidates):
        if len(chosen) == count:
            break
        if not keyword_filters.matches(article, filters):
            continue
        if by_source[article.source] >= per_source:
            if len(held_back) < count:
                held_back.append((position, article))
            continue
        by_source[article.source] += 1
        chosen.append((position, article))
    if len(chosen) < count and held_back:
        chosen = sorted([*chosen, *held_back[: count - len(chosen)]], key=lambda p: p[0])
    return [article for _, article in chosen]
