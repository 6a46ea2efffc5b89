"""Deterministic synthetic Arabic news: drafts and the RSS documents that carry them."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from itertools import accumulate, pairwise

from bot.models import ArticleDraft

__all__ = ["GENERATOR_VERSION", "Corpus", "SyntheticArticle", "generate"]

# Bump when the output changes, so cached feeds and databases are rebuilt.
GENERATOR_VERSION = 1

_TOPICS = (
    "سياسة", "اقتصاد", "رياضة", "ثقافة", "مجتمع", "تكنولوجيا", "صحة", "دولية",
    "جهات", "فن", "تعليم", "بيئة",
)  # fmt: skip
_SOURCES = tuple(f"مصدر {n}" for n in range(1, 21))
_EXTRA_WORDS = (
    "الحكومة", "المغرب", "الوزير", "البرلمان", "الاقتصاد", "المنتخب", "الرباط", "الدار",
    "البيضاء", "مشروع", "قانون", "الشركة", "المواطنين", "الانتخابات", "الأمطار", "الجامعة",
    "المدرسة", "المستشفى", "الصحة", "الطاقة", "المياه", "الفلاحة", "السياحة", "الاستثمار",
    "الملك", "الرئيس", "المجلس", "الأمن", "الشرطة", "المحكمة", "القضاء", "الميزانية",
)  # fmt: skip
# Function words lead the frequency ranks, as in real news text.
_COMMON = ("في", "من", "على", "إلى", "أن", "عن", "مع", "هذا", "التي", "الذي", "بعد", "قبل")
_HARAKAT = "\u064e\u064f\u0650\u0651\u0652\u064b\u064c\u064d"
_TATWEEL = "\u0640"
_PREFIXES = ("", "", "", "و", "ب", "ل", "ف")
_SUFFIXES = ("", "", "", "", "ه", "ها", "هم", "ات")
_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SyntheticArticle:
    """A draft, the summary its feed item carries, and whether it repeats an earlier one."""

    draft: ArticleDraft
    summary: str
    is_duplicate: bool


def _base_words() -> list[str]:
    text = (resources.files("bot") / "data" / "sample_news.txt").read_text(encoding="utf-8")
    words = dict.fromkeys([*_EXTRA_WORDS, *re.findall("[\u0621-\u064a]{2,}", text)])
    return list(words)


def _vocabulary(rng: random.Random) -> list[str]:
    """Function words, then real words, then their rarer forms with clitics and suffixes."""
    words = [w for w in _base_words() if w not in _COMMON]
    rng.shuffle(words)
    forms = {rng.choice(_PREFIXES) + w + rng.choice(_SUFFIXES) for w in words for _ in range(12)}
    variants = sorted(forms.difference(words, _COMMON))
    rng.shuffle(variants)
    return [*_COMMON, *words, *variants]


class _Words:
    """Draws words with a Zipf-like frequency, some written with harakat or tatweel."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.vocabulary = _vocabulary(rng)
        self._cumulative = list(accumulate(1 / (rank + 2) for rank in range(len(self.vocabulary))))

    def draw(self, count: int) -> list[str]:
        words = self._rng.choices(self.vocabulary, cum_weights=self._cumulative, k=count)
        marked = self._rng.sample(range(count), max(count // 25, 1))
        for index in marked[: len(marked) * 3 // 4]:
            words[index] = self.vowelled(words[index])
        for index in marked[len(marked) * 3 // 4 :]:
            words[index] = words[index][:2] + _TATWEEL + words[index][2:]
        return words

    def sentences(self, lengths: list[int]) -> list[str]:
        """One run of words per length, drawn together because drawing is the slow part."""
        words = self.draw(sum(lengths))
        starts = list(accumulate(lengths, initial=0))
        return [" ".join(words[a:b]) for a, b in pairwise(starts)]

    def vowelled(self, word: str) -> str:
        return "".join(c + self._rng.choice(_HARAKAT) if c.isalpha() else c for c in word)


class Corpus:
    """A reproducible stream of articles, oldest first, about `per_day` a day."""

    def __init__(self, *, seed: int = 7, per_day: int = 1400) -> None:
        self._rng = random.Random(seed)
        self.words = _Words(self._rng)
        self._step = timedelta(days=1) / per_day
        self._number = 0
        self._recent: list[ArticleDraft] = []

    def articles(self, count: int) -> Iterator[SyntheticArticle]:
        """The next `count` articles, about 5% of them exact or near repeats of a recent one."""
        for _ in range(count):
            number, self._number = self._number, self._number + 1
            if self._recent and self._rng.random() < 0.05:
                yield self._duplicate(number, self._rng.choice(self._recent[-50:]))
                continue
            article = self._article(number)
            self._recent.append(article.draft)
            del self._recent[:-100]
            yield article

    def _article(self, number: int) -> SyntheticArticle:
        rng = self._rng
        lengths = [rng.randint(6, 14)] + [rng.randint(40, 80) for _ in range(rng.randint(3, 8))]
        title, *paragraphs = self.words.sentences(lengths)
        paragraphs = [f"{paragraph}." for paragraph in paragraphs]
        return SyntheticArticle(self._draft(number, title, paragraphs), paragraphs[0][:160], False)

    def _draft(self, number: int, title: str, paragraphs: list[str]) -> ArticleDraft:
        rng = self._rng
        source = rng.choice(_SOURCES)
        return ArticleDraft(
            source=source,
            title=title,
            body="\n\n".join(paragraphs),
            url=f"https://news{_SOURCES.index(source)}.example/a/{number}",
            guid=f"item-{number}",
            published_at=_EPOCH + self._step * number + timedelta(seconds=rng.randint(0, 59)),
            language="ar",
            topics=tuple(rng.sample(_TOPICS, rng.choice((1, 1, 2)))),
            image_url=f"https://cdn.example/{number}.jpg" if rng.random() < 0.6 else None,
        )

    def _duplicate(self, number: int, earlier: ArticleDraft) -> SyntheticArticle:
        """Half exact repeats (same guid and link), half the same headline re-punctuated."""
        body = earlier.body or ""
        if self._rng.random() < 0.5:
            return SyntheticArticle(earlier, body[:160], True)
        title = earlier.title + " !"
        near = ArticleDraft(
            source=earlier.source,
            title=self.words.vowelled(title[:12]) + title[12:],
            body=body,
            url=f"https://mirror.example/a/{number}",
            guid=f"mirror-{number}",
            published_at=earlier.published_at,
            language="ar",
            topics=earlier.topics,
        )
        return SyntheticArticle(near, body[:160], True)


def generate(count: int, *, seed: int = 7) -> list[SyntheticArticle]:
    """`count` synthetic articles, oldest first."""
    return list(Corpus(seed=seed).articles(count))
