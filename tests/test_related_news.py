"""Related news: headlines sharing at least two significant words, the closest first."""

from datetime import UTC, datetime

from bot.models import ArticleDraft
from bot.reading import search_text
from bot.reading.news import NewsService
from storage import articles, database

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
HEADLINES = [
    'تنظيم "داعش" يفقد معظم جيوبه في شرق آسيا',
    "توتر جديد في الشرق الأوسط",  # shares only "شرق"
    "داعش يفقد آخر جيوبه في سوريا",  # shares داعش, يفقد, جيوبه
    "تنظيم داعش يتبنى هجوما",  # shares تنظيم, داعش
    "في آسيا: من يفقد ماذا؟",  # shares آسيا, يفقد (and grammar words)
    "من في على إلى عن",  # grammar words only
]


async def related_titles(db) -> list[str]:
    drafts = [ArticleDraft(source="Hespress", title=title) for title in HEADLINES]
    async with database.transaction(db):
        await articles.insert_many(
            db, [articles.NewArticle(d, f"fp{i}", NOW) for i, d in enumerate(drafts)]
        )
    _, found = await NewsService(db, page_size=8).related(1)
    return [a.title for a in found]


async def test_related_news_needs_two_significant_shared_words_closest_first(db):
    titles = await related_titles(db)
    assert titles[0] == HEADLINES[2]
    assert set(titles) == {HEADLINES[2], HEADLINES[3], HEADLINES[4]}


def test_a_headline_of_grammar_words_only_relates_to_nothing():
    assert search_text.related_query("من في على إلى عن") is None
