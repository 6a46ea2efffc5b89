"""Keyword filters: `/filter +word -word`, matched like search (Arabic-normalised, stemmed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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


class FilterIndex:
    """Which of a fixed list of articles each chat's filters keep, as a bit mask (bit i stands
    for articles[i]). `matches` tests articles one by one; composing a slot checks the same
    candidates against thousands of chats' filters, so here the articles holding each term are
    listed once, and a chat's filters cost a few operations on masks."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self._articles = articles
        self._all = (1 << len(articles)) - 1
        self._terms: dict[str, int] | None = None  # listed at the first chat with filters

    @property
    def _by_term(self) -> dict[str, int]:
        if self._terms is None:
            self._terms = {}
            for n, article in enumerate(self._articles):
                bit = 1 << n
                for term in _article_terms(article.title, article.body):
                    self._terms[term] = self._terms.get(term, 0) | bit
        return self._terms

    def kept(self, filters: KeywordFilters) -> int:
        """The mask of the articles `matches` keeps for these filters."""
        if filters.is_empty:
            return self._all
        kept = self._all
        if filters.include:
            kept = 0
            for word in filters.include:
                kept |= self._holding(word)
        for word in filters.exclude:
            kept &= ~self._holding(word)
        return kept

    def _holding(self, word: str) -> int:
        """The articles holding every term of `word` (all of them for a word without terms)."""
        mask = self._all
        for term in _terms(word):
            mask &= self._by_term.get(term, 0)
        return mask


def positions(mask: int) -> Iterator[int]:
    """The set bits of `mask`, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low
