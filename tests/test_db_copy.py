"""`akhbar db copy`: an installation filled on SQLite, copied to PostgreSQL, shows its users
the same news, search results and schedules there; a copy never overwrites data by accident,
never writes the database password, and says plainly what stops it."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.app import build_application, polling
from bot.config import BotConfig, Config, StorageConfig, TelegramConfig
from bot.errors import CopyRefused, DatabaseUnavailable
from bot.models import ArticleDraft
from bot.ops.db_copy import copy_to_postgres
from bot.reading import search_text
from emulator import BotApiEmulator
from storage import articles, copying, database
from tests.support import NOW, TOKEN
from tests.support.chat import ask, listed_ids
from tests.support.cli import run_akhbar
from tests.support.ops import free_port

PASSWORD = "Sesame-7f3q9-open"
SAMPLE = Path(__file__).parent.parent / "bot" / "data" / "sample_news.txt"


def with_password(url: str, password: str = PASSWORD) -> str:
    """The URL with a password (the test cluster trusts loopback, so any password works)."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@asynccontextmanager
async def running_bot(emulator: BotApiEmulator, location: str):
    config = Config(
        telegram=TelegramConfig(
            token=TOKEN, api_base_url=emulator.base_url, poll_timeout_seconds=1
        ),
        storage=StorageConfig(path=location),
        bot=BotConfig(page_size=8),
    )
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        yield app


GROUP, ADMIN = -1001234, 42


async def what_the_user_sees(emulator: BotApiEmulator) -> dict[str, str]:
    commands = ["/latest", "/latest 3 maroc", "/search المغرب", "/settings"]
    seen = {command: (await ask(emulator, command)).text for command in commands}
    seen["/schedules"] = (await ask(emulator, "/schedules", chat_id=GROUP, user_id=ADMIN)).text
    return seen


async def fill_like_a_user(emulator: BotApiEmulator, sqlite: Path) -> dict[str, str]:
    """Run the bot on SQLite (it loads the sample news), subscribe, schedule, report an image."""
    async with running_bot(emulator, str(sqlite)) as app:
        await ask(emulator, "/subscribe maroc")
        emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
        emulator.set_member(GROUP, ADMIN, "administrator")
        created = await ask(emulator, "/schedule 08:00 18:00 maroc 5", chat_id=GROUP, user_id=ADMIN)
        assert created.text.startswith("تم إنشاء الجدول 1")
        moderation = app.bot_data.services.moderation
        image = await moderation.register_telegram_photo(["p-small", "p-large"], phash=None)
        await moderation.report(image, reporter_id=11, chat_id=7)
        return await what_the_user_sees(emulator)


def sqlite_counts(path: Path, tables: list[str]) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


async def postgres_counts(url: str, tables: list[str]) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        return {t: await connection.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await connection.close()


COPIED = [
    "articles", "article_topics", "article_total", "topic_counts", "sources", "chats",
    "subscriptions", "schedules", "images", "image_keys", "reports", "audit_log", "bot_settings",
]  # fmt: skip


async def test_a_copied_installation_shows_the_same_news_search_and_schedules(
    tmp_path, emulator, postgres_db_url
):
    sqlite = tmp_path / "akhbar.sqlite3"
    before = await fill_like_a_user(emulator, sqlite)

    report = await copy_to_postgres(sqlite, postgres_db_url)

    counts = sqlite_counts(sqlite, COPIED)
    assert counts["articles"] > 20 and counts["schedules"] == 2 and counts["reports"] == 1
    assert counts["subscriptions"] == 1 and counts["chats"] >= 1
    assert await postgres_counts(postgres_db_url, COPIED) == counts
    assert {t.name: t.rows for t in report.tables if t.name in COPIED} == counts
    async with running_bot(emulator, postgres_db_url):
        assert await what_the_user_sees(emulator) == before
        # New rows get ids past the copied ones: the next schedule is number 2.
        created = await ask(emulator, "/schedule 21:00 3", chat_id=GROUP, user_id=ADMIN)
        assert created.text.startswith("تم إنشاء الجدول 2")
        assert listed_ids(await ask(emulator, "/search المغرب"))


# One row of every table the bot fills at run time, as its services write them (what the
# sample news import does not fill); unusual values on purpose: fractional moments, negative
# chat ids, Arabic text, JSON lists, NULLs.
EVERY_TABLE = [
    "INSERT INTO chats VALUES (-1001234, 'supergroup', 'نادي القراءة', 'ar', 1764547200.25, 1,"
    " 'Africa/Casablanca')",
    "INSERT INTO subscriptions VALUES (-1001234, '[\"maroc\"]', '[]', '[\"كرة\"]', '[]', 1.5)",
    "INSERT INTO schedules (chat_id, thread_id, times, days, topics, item_count, created_by,"
    " created_at, last_slot, last_article_id, next_fire_at)"
    " VALUES (-1001234, 9, '[\"08:00\"]', '[0,1,2]', '[]', 5, 42, 1.5, 1764576000, 3,"
    " 1764662400.5)",
    "INSERT INTO deliveries VALUES (-1001234, 3, 'digest', 1764576000.125)",
    "INSERT INTO admin_targets VALUES (42, -1001234, 2.5)",
    "INSERT INTO outbox (key, chat_id, thread_id, kind, parts, part_count, next_part, status,"
    " attempts, not_before, last_error, created_at, finished_at, edit_message_id, report_button)"
    " VALUES ('digest:-1001234:1', -1001234, 9, 'digest', '[\"<b>موجز</b>\"]', 1, 1, 'sent',"
    " 2, 0, 'Retry after 3', 1.25, 2.75, 77, 'img:1')",
    "INSERT INTO outbox_bodies (digest, parts) VALUES ('9f2c', '[\"<b>نشرة</b>\"]')",
    "INSERT INTO outbox (key, chat_id, kind, parts, body_id, part_count, created_at)"
    " VALUES ('digest:-1001234:2', -1001234, 'digest', '', 1, 1, 3.25)",
    "INSERT INTO images (phash, sha256, source_url, status, report_epoch, created_at, hidden_at)"
    " VALUES (-6917529027641081856, 'ab12', 'https://img.test/1.jpg', 'hidden', 2, 3.5, 4.5)",
    "INSERT INTO images (copy_of, created_at) VALUES (1, 5.5)",
    "INSERT INTO image_keys VALUES ('url', 'https://img.test/1.jpg', 1)",
    "INSERT INTO article_images VALUES (3, 1)",
    "INSERT INTO reports (image_id, epoch, reporter_id, chat_id, weight, created_at)"
    " VALUES (1, 2, 11, -1001234, 3, 6.5)",
    "INSERT INTO ignored_reporters VALUES (13, 42, 7.5)",
    "INSERT INTO chat_thresholds VALUES (-1001234, 4, 42, 8.5)",
    "INSERT INTO image_messages (chat_id, message_id, image_id, sent_at, caption_html)"
    " VALUES (-1001234, 501, 1, 9.5, '<b>صورة</b>')",
    "INSERT INTO audit_log (at, actor_id, action, image_id, subject_id, details)"
    " VALUES (10.5, 42, 'hide', 1, NULL, '{\"reports\": 3}')",
    "INSERT INTO autopost_rules (chat_id, topics, style, link_preview, hourly_cap, quiet_start,"
    " quiet_end, created_by, created_at) VALUES (-1001777, '[\"sport\"]', 'photo', 1, 6, 23, 7,"
    " 42, 11.5)",
    "INSERT INTO autopost_items VALUES (-1001777, 3, 1, 'https://n.test/3', 'key', 'held', 12.5,"
    " 13.5)",
    "INSERT INTO inline_shares VALUES (3, 42, 14.5)",
    "INSERT INTO source_days VALUES ('sample_news', '2026-11-30', 59)",
    "INSERT INTO sources (name, url, host, topics, added_at, failures, failing_since, error_kind)"
    " VALUES ('hespress', 'https://hespress.test/feed', 'hespress.test', '[\"maroc\"]', 15.5,"
    " 2, 16.5, 'timeout')",
]


async def test_every_row_of_every_table_arrives_field_by_field(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    with sqlite3.connect(sqlite) as db:
        for statement in EVERY_TABLE:
            db.execute(statement)
    report = await copy_to_postgres(sqlite, postgres_db_url)
    tables = [t.name for t in report.tables]
    counts = await postgres_counts(postgres_db_url, tables)
    assert [table for table, rows in counts.items() if not rows] == []
    connection = await asyncpg.connect(postgres_db_url)
    try:
        for table in tables:
            columns = [c for c in await pg_columns(connection, table) if c != "search"]
            listed = ", ".join(f'"{c}"' for c in columns)
            with sqlite3.connect(sqlite) as db:
                expected = Counter(db.execute(f'SELECT {listed} FROM "{table}"').fetchall())
            found = Counter(
                tuple(row) for row in await connection.fetch(f'SELECT {listed} FROM "{table}"')
            )
            assert found == expected, table
    finally:
        await connection.close()


async def pg_columns(connection: asyncpg.Connection, table: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
        " ORDER BY ordinal_position",
        table,
    )
    return [row[0] for row in rows]


async def test_every_copied_article_has_the_search_terms_the_bots_own_indexing_makes(
    tmp_path, postgres_db_url
):
    sqlite = await imported(tmp_path)
    await copy_to_postgres(sqlite, postgres_db_url)
    db = await database.connect(postgres_db_url, index_terms=search_text.index_text, create=False)
    try:
        copied = await search_vectors(db)
        await articles.clear_index(db)
        await articles.index_batch(db, after_id=0, limit=1_000_000)  # as the bot indexes
        indexed = await search_vectors(db)
        total = await db.execute_fetchall("SELECT articles FROM article_total")
    finally:
        await db.close()
    assert len(copied) == sqlite_counts(sqlite, ["articles"])["articles"] == total[0][0]
    assert None not in copied.values()
    assert copied == indexed


async def search_vectors(db) -> dict[int, str | None]:
    rows = await db.execute_fetchall("SELECT id, CAST(search AS text) FROM articles")
    return {row[0]: row[1] for row in rows}


async def test_new_rows_on_the_copy_get_ids_past_the_copied_ones(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    await copy_to_postgres(sqlite, postgres_db_url)
    db = await database.connect(postgres_db_url, index_terms=search_text.index_text, create=False)
    try:
        draft = ArticleDraft(source="late", title="خبر بعد النقل", url="https://news.test/late")
        await articles.insert_many(db, [articles.NewArticle(draft, "late", NOW)])
        rows = await db.execute_fetchall("SELECT id FROM articles WHERE source = 'late'")
    finally:
        await db.close()
    copied = sqlite_counts(sqlite, ["articles"])["articles"]  # ids 1..n, none deleted
    assert rows[0][0] == copied + 1


async def test_rows_a_running_bot_writes_during_the_copy_wait_for_the_next_one(
    tmp_path, postgres_db_url
):
    sqlite = await imported(tmp_path)
    written = []

    def bot_writes_meanwhile(table: copying.TableCopied) -> None:
        if not written:  # after the first table, while the snapshot is open
            with sqlite3.connect(sqlite) as db:
                db.execute("INSERT INTO bot_settings VALUES ('written_during_copy', '1')")
                db.execute("INSERT INTO chats (chat_id, type, created_at) VALUES (99, 'x', 1)")
            written.append(table.name)

    report = await copy_to_postgres(sqlite, postgres_db_url, on_table=bot_writes_meanwhile)
    assert written
    copied = {t.name: t.rows for t in report.tables}
    now_in_sqlite = sqlite_counts(sqlite, ["bot_settings", "chats"])
    assert copied["bot_settings"] == now_in_sqlite["bot_settings"] - 1
    assert copied["chats"] == now_in_sqlite["chats"] - 1
    assert await postgres_counts(postgres_db_url, ["bot_settings", "chats"]) == {
        "bot_settings": copied["bot_settings"],
        "chats": copied["chats"],
    }


async def test_the_source_is_read_in_batches_not_all_at_once(tmp_path):
    sqlite = await imported(tmp_path)
    snapshot = copying.SqliteSnapshot(sqlite)
    try:
        sizes = [len(batch) for batch in snapshot.batches("articles", ("id", "title"), 10)]
    finally:
        snapshot.close()
    assert sizes == [10, 10, 10, 10, 10, 9]  # the 59 sample articles


async def test_a_second_copy_is_refused_unless_forced(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    await copy_to_postgres(sqlite, postgres_db_url)
    with pytest.raises(CopyRefused, match=r"already holds data .*pass --force"):
        await copy_to_postgres(sqlite, postgres_db_url)
    report = await copy_to_postgres(sqlite, postgres_db_url, replace=True)
    articles = next(t.rows for t in report.tables if t.name == "articles")
    assert await postgres_counts(postgres_db_url, ["articles"]) == {"articles": articles}


async def test_a_value_postgresql_cannot_hold_stops_the_copy_and_leaves_nothing(
    tmp_path, postgres_db_url
):
    sqlite = await imported(tmp_path)
    with sqlite3.connect(sqlite) as db:  # SQLite's INTEGER affinity keeps a non-whole REAL
        db.execute("INSERT INTO deliveries VALUES (7, 2.5, 'digest', 1.0)")
    with pytest.raises(CopyRefused, match=r"deliveries.article_id: the value 2.5 does not fit"):
        await copy_to_postgres(sqlite, postgres_db_url)
    assert await postgres_counts(postgres_db_url, ["articles", "deliveries"]) == {
        "articles": 0,
        "deliveries": 0,
    }


async def test_a_value_postgresql_refuses_is_one_line_naming_the_table(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    with sqlite3.connect(sqlite) as db:  # beyond PostgreSQL's 32-bit INTEGER
        db.execute("INSERT INTO chat_thresholds VALUES (7, ?, NULL, 1.0)", (2**40,))
    with pytest.raises(CopyRefused, match=r"^chat_thresholds: PostgreSQL refused the rows: "):
        await copy_to_postgres(sqlite, postgres_db_url)


async def test_a_nul_character_postgresql_cannot_store_is_dropped(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    with sqlite3.connect(sqlite) as db:
        db.execute("UPDATE articles SET body = 'before' || char(0) || 'after' WHERE id = 1")
    await copy_to_postgres(sqlite, postgres_db_url)
    connection = await asyncpg.connect(postgres_db_url)
    try:
        assert await connection.fetchval("SELECT body FROM articles WHERE id = 1") == "beforeafter"
    finally:
        await connection.close()


async def test_a_missing_file_and_an_older_schema_are_refused_with_what_to_do(
    tmp_path, postgres_db_url
):
    with pytest.raises(CopyRefused, match="no such file"):
        await copy_to_postgres(tmp_path / "missing.sqlite3", postgres_db_url)
    older = tmp_path / "older.sqlite3"
    with sqlite3.connect(older) as db:
        db.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(CopyRefused, match=r"schema version 7, this Akhbar.s is .*migrate it first"):
        await copy_to_postgres(older, postgres_db_url)


async def test_an_unreachable_server_is_named_without_its_password(tmp_path):
    sqlite = await imported(tmp_path)
    url = f"postgresql://akhbar:{PASSWORD}@127.0.0.1:{free_port()}/akhbar"
    with pytest.raises(DatabaseUnavailable) as raised:
        await copy_to_postgres(sqlite, url)
    assert str(raised.value).startswith("postgresql://akhbar:***@127.0.0.1:")
    assert PASSWORD not in str(raised.value)


async def test_the_copy_command_never_writes_the_password(tmp_path, postgres_db_url):
    sqlite = await imported(tmp_path)
    config = config_file(tmp_path)
    url = with_password(postgres_db_url)
    copied = await run_akhbar("--config", str(config), "db", "copy", "--to", url)
    again = await run_akhbar("--config", str(config), "db", "copy", "--to", url)
    down = f"postgresql://akhbar:{PASSWORD}@127.0.0.1:{free_port()}/akhbar"
    unreachable = await run_akhbar(
        "--config", str(config), "db", "copy", env={"AKHBAR_DATABASE_URL": down}
    )
    assert copied.returncode == 0, copied.err
    assert f"copying {sqlite} to {with_password(postgres_db_url, '***')}" in copied.err
    assert "rows/s); counts and a sample of rows verified" in copied.out
    assert again.returncode == 1
    assert "already holds data" in again.err and "--force" in again.err
    assert unreachable.returncode == 1
    assert unreachable.err.splitlines()[-1].startswith("akhbar: postgresql://akhbar:***@127.0.0.1:")
    for finished in (copied, again, unreachable):
        assert PASSWORD not in finished.out + finished.err


def config_file(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "akhbar.sqlite3"\n', encoding="utf-8")
    return config


async def imported(tmp_path: Path) -> Path:
    """A SQLite database holding the sample news, imported as a user would."""
    config = str(config_file(tmp_path))
    finished = await run_akhbar("--config", config, "import", str(SAMPLE), "--topic", "maroc")
    assert finished.returncode == 0, finished.err
    return tmp_path / "akhbar.sqlite3"


def test_tables_go_parents_first():
    edges = [("reports", "images"), ("image_keys", "images"), ("images", "images")]
    order = copying._parents_first(["reports", "image_keys", "images", "chats"], edges)
    assert order.index("images") < order.index("reports")
    assert order.index("images") < order.index("image_keys")
