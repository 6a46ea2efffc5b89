"""A database indexed by an older version of the search terms is rebuilt and searched anew."""

from datetime import UTC, datetime

import Stemmer

from bot.models import ArticleDraft
from bot.reading import search_index, search_text
from bot.reading.news import NewsService
from storage import articles, bot_settings, database

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
HEADLINES = ["انطلاق الانتخابات التشريعية في ألمانيا", "برشلونة يفوز في الكلاسيكو"]
_stemmer = Stemmer.Stemmer("arabic")


def version_1_terms(text: str | None) -> str:
    """The index terms as version 1 made them: stemmed first, letter forms folded after."""
    words = search_text._WORD.findall(search_text.normalise(text or ""))
    return " ".join(_stemmer.stemWord(word).translate(search_text._LETTER_FORMS) for word in words)


async def make_version_1_database(path) -> None:
    db = await database.connect(path, index_terms=version_1_terms)
    drafts = [ArticleDraft(source="Hespress", title=title) for title in HEADLINES]
    async with database.transaction(db):
        await articles.insert_many(
            db, [articles.NewArticle(d, f"fp{i}", NOW) for i, d in enumerate(drafts)]
        )
    await db.close()


async def titles_found(news: NewsService, query: str) -> list[str]:
    return [a.title for a in (await news.search(query)).articles]


async def test_an_index_of_old_terms_is_rebuilt_and_finds_words_the_new_way(db_path):
    await make_version_1_database(db_path)
    db = await database.connect(db_path, index_terms=search_text.index_text)
    news = NewsService(db, page_size=8)
    assert await titles_found(news, "المانيا") == []  # what readers met before the upgrade

    assert await search_index.ensure_current(db, batch=1) == 2

    assert await titles_found(news, "المانيا") == [HEADLINES[0]]
    assert await titles_found(news, "انتخابات") == [HEADLINES[0]]
    assert await titles_found(news, "كلاسيكو") == [HEADLINES[1]]
    assert await bot_settings.get(db, search_index.VERSION_SETTING) == str(
        search_text.INDEX_VERSION
    )
    await db.close()


async def test_a_rebuild_leaves_no_memo_of_the_words_it_indexed(db_path):
    await make_version_1_database(db_path)
    db = await database.connect(db_path, index_terms=search_text.index_text)
    await search_index.ensure_current(db)
    assert "الكلاسيكو" not in search_text._token_terms  # the memo of the rebuild is let go
    assert search_text.terms("الكلاسيكو") == search_text.terms("كلاسيكو")  # and fills again
    await db.close()


async def test_a_current_index_is_left_alone(db_path):
    await make_version_1_database(db_path)
    db = await database.connect(db_path, index_terms=search_text.index_text)
    await search_index.ensure_current(db)
    assert await search_index.ensure_current(db) is None
    await db.close()
