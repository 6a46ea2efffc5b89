"""A slot's filter index keeps exactly the articles the one-by-one keyword match keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import Article, KeywordFilters
from bot.subscriptions.keyword_filters import FilterIndex, matches, positions

# Words in several Arabic forms (article, conjunction, plural), French and English: a filter
# word matches its other forms, as search does.
WORDS = ("المغرب", "مغرب", "والمغرب", "الانتخابات", "انتخابات", "الرياضة", "كرة", "football",
         "Maroc", "élections", "rain", "؟", "كلمة")  # fmt: skip


def article(n: int, title: list[str], body: list[str]) -> Article:
    return Article(
        id=n, source="desk", title=" ".join(title), body=" ".join(body) or None, url=None,
        published_at=None, fetched_at=datetime(2025, 3, 3, tzinfo=UTC), language="ar",
    )  # fmt: skip


words = st.lists(st.sampled_from(WORDS), max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.tuples(words, words), max_size=40),
    include=st.lists(st.sampled_from(WORDS), max_size=3),
    exclude=st.lists(st.sampled_from(WORDS), max_size=3),
)
def test_the_index_keeps_what_matching_each_article_keeps(texts, include, exclude):
    articles = [article(n, title, body) for n, (title, body) in enumerate(texts)]
    filters = KeywordFilters(tuple(include), tuple(exclude))
    kept = list(positions(FilterIndex(articles).kept(filters)))
    assert kept == [n for n, a in enumerate(articles) if matches(a, filters)]
