"""Which articles a digest holds: the composed digest type and the pure selection rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.models import Article, KeywordFilters
from bot.subscriptions import keyword_filters

# Candidates read per digest before keyword filters and the per-source cap thin them out.
CANDIDATE_WINDOW = 500


@dataclass(frozen=True, slots=True)
class Digest:
    """A composed digest: its articles (none for a "no news" note) and its message parts."""

    chat_id: int
    thread_id: int | None
    articles: tuple[Article, ...]
    parts: tuple[str, ...]


def select_articles(
    candidates: Sequence[Article], *, filters: KeywordFilters, per_source: int, count: int
) -> list[Article]:
    """Newest-first candidates kept by the keyword filters, at most `per_source` from one
    source, at most `count` in all."""
    # Hidden images (a later issue): drop here the articles whose image a chat must not see.
    chosen: list[Article] = []
    by_source: Counter[str] = Counter()
    for article in candidates:
        if len(chosen) == count:
            break
        if by_source[article.source] >= per_source:
            continue
        if not keyword_filters.matches(article, filters):
            continue
        by_source[article.source] += 1
        chosen.append(article)
    return chosen
