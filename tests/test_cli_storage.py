"""Where the database goes: only the default `data` folder is ever created, and reading
commands (`stats`, `digest send`) never create a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.conftest import TOKEN
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
        f"akhbar: {tmp_path / 'akhbar.sqlite3'}: no database there yet"
        " (run, ingest or import makes one)"
    ]
    assert finished.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


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
