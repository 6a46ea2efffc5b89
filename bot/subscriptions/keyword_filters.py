"""Keyword filters: `/filter +word -word`, matched like search (Arabic-normalised, stemmed)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot.models import Article, KeywordFilters
from bot.reading import search_text

MAX_WORDS = 20
MAX_WORD_LENGTH = 40


def parse(words: Iterable[str], current: KeywordFilters) -> KeywordFilters:
    """Apply `+word` (want), `-word` (refuse) and bare words (want) to the current filters."""
    include, exclude = list(current.include), list(current.exclude)
    for word in words:
        wanted = word.lstrip("+-−")[:MAX_WORD_LENGTH]
        if not search_text.terms(wanted):
            continue
        for bag in (include, exclude):
            if wanted in bag:
                bag.remove(wanted)
        (exclude if word[:1] in "-−" else include).append(wanted)
    return KeywordFilters(tuple(include[-MAX_WORDS:]), tuple(exclude[-MAX_WORDS:]))


def unusable(words: Iterable[str]) -> list[str]:
    """The words that name nothing to look for (`+`, `-`, punctuation): parse skips them."""
    return [w for w in words if not search_text.terms(w.lstrip("+-−")[:MAX_WORD_LENGTH])]


# Composing a slot matches the same few hundred candidates against thousands of chats'
# filters: each article's and each word's terms are computed once, not once per chat.
@lru_cache(maxsize=8192)
def _terms(word: str) -> frozenset[str]:
    return frozenset(search_text.terms(word))


@lru_cache(maxsize=4096)
def _article_terms(title: str, body: str | None) -> frozenset[str]:
    return frozenset(search_text.terms(f"{title}\n{body or ''}"))


def matches(article: Article, filters: KeywordFilters) -> bool:
    """True when the article has one wanted word (if any are set) and no refused word."""
    if filters.is_empty:
        return True
    found = _article_terms(article.title, article.body)
    if any(_terms(word) <= found for word in filters.exclude):
        return False
    return not filters.include or any(_terms(word) <= found for word in filters.include)
