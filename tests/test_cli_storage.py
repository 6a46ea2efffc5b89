"""Where the database goes: only the default `data` folder is ever created, and reading
commands (`stats`, `digest send`) never create a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.cli import run_akhbar

SAMPLE = Path(__file__).parent.parent / "bot" / "data" / "sample_news.txt"


def config_with_storage(tmp_path: Path, storage: str | None) -> Path:
    config = tmp_path / "config.toml"
    table = "" if storage is None else f'[storage]\npath = "{storage}"\n'
    config.write_text(f"{table}[bot]\nload_sample_news = false\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [["stats"], ["digest", "send"], ["import", str(SAMPLE)]])
async def test_a_database_in_a_missing_folder_is_reported_not_created(tmp_path, command):
    database = tmp_path / "typo" / "dir" / "akhbar.sqlite3"
    config = config_with_storage(tmp_path, str(database))
    finished = await run_akhbar("--config", str(config), *command)
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        f"akhbar: {database}: the folder {database.parent} does not exist"
    ]
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("command", [["stats"], ["digest", "send", "--chat", "7"]])
async def test_reading_commands_never_create_a_database(tmp_path, command):
    config = config_with_storage(tmp_path, "akhbar.sqlite3")
    finished = await run_akhbar("--config", str(config), *command)
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        f"akhbar: no database yet at {tmp_path / 'akhbar.sqlite3'}: start the bot"
        " (scripts/run-bot.sh) or import news (akhbar import FILE) first"
    ]
    assert finished.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


@pytest.mark.parametrize("command", [["stats"], ["digest", "send"]])
async def test_reading_commands_before_the_default_data_folder_say_what_makes_a_database(
    tmp_path, command
):
    config = config_with_storage(tmp_path, None)
    finished = await run_akhbar("--config", str(config), *command)
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        f"akhbar: no database yet at {tmp_path / 'data' / 'akhbar.sqlite3'}: start the bot"
        " (scripts/run-bot.sh) or import news (akhbar import FILE) first"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda folder: folder / "nonexistent.txt", "no such file"),
        (lambda folder: folder, "not a file"),
        (lambda folder: folder / "empty.txt", "the file is empty: it holds no news"),
    ],
)
async def test_importing_a_missing_or_empty_file_creates_nothing(tmp_path, make, problem):
    config = config_with_storage(tmp_path, None)
    news = make(tmp_path / "news")
    (tmp_path / "news").mkdir(exist_ok=True)
    if news.name == "empty.txt":
        news.write_text("", encoding="utf-8")
    finished = await run_akhbar("--config", str(config), "import", str(news))
    assert finished.returncode == 1
    assert finished.err.splitlines() == [f"akhbar: {news}: {problem}"]
    assert not (tmp_path / "data").exists()


async def test_importing_a_file_without_news_says_so_and_fails(tmp_path):
    config = config_with_storage(tmp_path, None)
    news = tmp_path / "blank.txt"
    news.write_text("\n   \n", encoding="utf-8")
    finished = await run_akhbar("--config", str(config), "import", str(news))
    assert finished.returncode == 1
    assert finished.err.splitlines()[-1] == f"akhbar: {news} held no news: nothing was imported"


async def test_the_default_data_folder_is_created_and_named(tmp_path):
    config = config_with_storage(tmp_path, None)
    finished = await run_akhbar("--config", str(config), "import", str(SAMPLE))
    assert finished.returncode == 0, finished.err
    assert finished.err.splitlines()[0] == (
        f"akhbar: created the folder {tmp_path / 'data'} for the database"
    )
    assert (tmp_path / "data" / "akhbar.sqlite3").is_file()
    stats = await run_akhbar("--config", str(config), "stats")
    assert "articles: 59" in stats.out


async def test_run_with_a_database_in_a_missing_folder_stops_with_one_line(tmp_path, emulator):
    database = tmp_path / "typo" / "akhbar.sqlite3"
    config = config_with_storage(tmp_path, str(database))
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    finished = await run_akhbar("--config", str(config), "run", env=env)
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        f"akhbar: {database}: the folder {database.parent} does not exist"
    ]
    assert not (tmp_path / "typo").exists()


async def test_run_makes_the_data_folder_only_once_telegram_accepts_the_token(tmp_path):
    config = config_with_storage(tmp_path, None)
    async with BotApiEmulator("654321:ANOTHER-bots-token") as other_bot:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": other_bot.base_url}
        finished = await run_akhbar("--config", str(config), "run", env=env)
    assert finished.returncode == 2
    assert len(finished.err.splitlines()) == 1
    assert not (tmp_path / "data").exists()


@pytest.fixture
def postgres_url(postgres_db_url: str) -> str:
    """A fresh PostgreSQL database, its URL with a password (the test cluster trusts loopback)."""
    return postgres_db_url.replace("://akhbar@", f"://akhbar:{PASSWORD}@")


PASSWORD = "Open-Sesame-42"


@pytest.mark.parametrize("command", [["backup"], ["restore", "akhbar-backup.sqlite3"]])
async def test_on_postgresql_backup_and_restore_point_to_pg_dump(tmp_path, postgres_url, command):
    config = config_with_storage(tmp_path, None)
    env = {"AKHBAR_DATABASE_URL": postgres_url}
    finished = await run_akhbar("--config", str(config), *command, env=env)
    assert finished.returncode == 1
    [line] = finished.err.splitlines()
    shown = postgres_url.replace(PASSWORD, "***")
    assert line.startswith(f"akhbar: the database is PostgreSQL ({shown}): back it up with")
    assert "pg_dump --format=custom" in line and "pg_restore" in line
    assert PASSWORD not in finished.out + finished.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no data folder


async def test_on_postgresql_import_makes_no_data_folder_and_stats_hides_the_password(
    tmp_path, postgres_url
):
    config = config_with_storage(tmp_path, None)
    env = {"AKHBAR_DATABASE_URL": postgres_url}
    imported = await run_akhbar("--config", str(config), "import", str(SAMPLE), env=env)
    assert imported.returncode == 0, imported.err
    assert not (tmp_path / "data").exists()
    stats = await run_akhbar("--config", str(config), "stats", env=env)
    assert PASSWORD not in imported.out + imported.err + stats.out + stats.err
    assert stats.returncode == 0, stats.err
    assert stats.out.splitlines()[0] == f"database: {postgres_url.replace(PASSWORD, '***')}"
    assert "articles: 59" in stats.out
