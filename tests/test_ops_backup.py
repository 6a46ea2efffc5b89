"""Backups of the live database, restore, retention and the backup taken before a migration."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from bot.app import build_application, polling
from bot.config import BackupConfig
from bot.ops.backup import back_up_into
from bot.reading import search_text
from emulator import BotApiEmulator
from storage import backups, database
from tests.support import NOW, TOKEN
from tests.support.ops import (
    akhbar_process,
    eventually,
    free_port,
    outbox_rows,
    queue_digests,
    successful_sends,
)

SUBSCRIBERS = range(30_001, 30_201)
RATE = 25  # 8 s for the broadcast: the backup (a process of its own) is taken well inside it


def chats_by_status(db_path: Path) -> dict[str, set[int]]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT chat_id, status FROM outbox").fetchall()
    found: dict[str, set[int]] = {}
    for chat_id, status in rows:
        found.setdefault(status, set()).add(chat_id)
    return found


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await akhbar_process(*args, env=env)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode() + err.decode()


async def test_a_backup_taken_during_a_broadcast_restores_and_resumes_without_loss_or_duplicates(
    tmp_path,
):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        f"[delivery]\noverall_per_second = {RATE}.0\npaid_broadcast = true\n"
        # Named: the bot run on the restored copy takes back the rows it held at once.
        'worker_id = "akhbar-1"\n'
        f"[http]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    await queue_digests(config, SUBSCRIBERS)
    live = tmp_path / "akhbar.sqlite3"
    copy = tmp_path / "copies" / "mid-broadcast.sqlite3"

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as first_telegram:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": first_telegram.base_url}
        bot = await akhbar_process("--config", str(config), "run", env=env)
        try:
            await eventually(lambda: len(successful_sends(first_telegram)) >= 40, 60, "40 sends")
            code, output = await run_cli("--config", str(config), "backup", str(copy), env=env)
            assert code == 0 and "integrity check: ok" in output, output
            assert len(successful_sends(first_telegram)) < len(SUBSCRIBERS), "too late"
            code, output = await run_cli("--config", str(config), "restore", str(copy), env=env)
            assert code == 1 and "in use by a running bot" in output, output
            code, output = await run_cli("--config", str(config), "run", env=env)
            assert code == 1 and "in use by a running bot" in output, output  # no second bot
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.communicate(), timeout=30)

    in_backup = chats_by_status(copy)
    assert in_backup.get("sent") and in_backup.get("queued"), in_backup
    code, output = await run_cli("--config", str(config), "restore", str(copy), env=env)
    assert code == 0, output
    assert chats_by_status(live) == in_backup

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as second_telegram:
        env["TELEGRAM_API_BASE_URL"] = second_telegram.base_url
        bot = await akhbar_process("--config", str(config), "run", env=env)
        try:
            await eventually(lambda: outbox_rows(live).get("queued", 0) == 0, 60, "empty outbox")
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.communicate(), timeout=30)
    copies = Counter(successful_sends(second_telegram))
    # Exactly what the backup had still to send, each once; nothing it had recorded as sent.
    assert set(copies) == in_backup["queued"]
    assert max(copies.values()) == 1


async def test_restore_refuses_a_file_that_is_not_a_sound_backup(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "akhbar.sqlite3"\n', encoding="utf-8")
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    for candidate, reason in (
        (bogus, "not a usable SQLite database"),
        (tmp_path / "no", "no such"),
    ):
        code, output = await run_cli("--config", str(config), "restore", str(candidate), env={})
        assert code == 1 and reason in output, output
    assert not (tmp_path / "akhbar.sqlite3").exists()


def _database_at_version(path: Path, version: int) -> None:
    folder = resources.files("storage") / "migrations"
    with sqlite3.connect(path) as db:
        for script in sorted(p for p in folder.iterdir() if p.name.endswith(".sql")):
            if int(script.name.split("_", 1)[0]) <= version:
                db.executescript(script.read_text(encoding="utf-8"))
        db.execute(f"PRAGMA user_version = {version}")
        db.execute(
            "INSERT INTO chats (chat_id, type, language, created_at)"
            " VALUES (42, 'private', 'ar', 0)"
        )


async def test_a_pending_migration_backs_up_an_existing_database_first(tmp_path):
    path = tmp_path / "akhbar.sqlite3"
    _database_at_version(path, 4)
    db = await database.connect(path, index_terms=search_text.index_text)
    await db.close()
    (copy,) = tmp_path.glob("akhbar.sqlite3.before-005-*.sqlite3")
    backups.check(copy)
    with sqlite3.connect(copy) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 4
        assert old.execute("SELECT chat_id FROM chats").fetchall() == [(42,)]

    fresh = tmp_path / "fresh" / "akhbar.sqlite3"
    fresh.parent.mkdir()
    db = await database.connect(fresh, index_terms=search_text.index_text)
    await db.close()
    assert [p.name for p in fresh.parent.iterdir() if ".before-" in p.name] == []


@pytest.mark.sqlite_only  # SQLite files; PostgreSQL is backed up with pg_dump (below)
async def test_scheduled_backups_keep_only_the_newest(tmp_path, bot_config, emulator):
    folder = tmp_path / "backups"
    config = bot_config.model_copy(
        update={"backup": BackupConfig(enabled=True, directory=str(folder), keep=2)}
    )
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        (job,) = app.job_queue.get_jobs_by_name("ops:backup")
        await job.run(app)
        live = Path(config.storage.path)
        for hours in (1, 2, 3):
            await back_up_into(folder, live, at=NOW + timedelta(hours=hours), keep=2)
    kept = sorted(p.name for p in folder.iterdir())
    stamp = lambda hours: (NOW + timedelta(hours=hours)).strftime("%Y%m%dT%H%M%SZ")  # noqa: E731
    assert kept == [f"akhbar-{stamp(2)}.sqlite3", f"akhbar-{stamp(3)}.sqlite3"]
    for name in kept:
        backups.check(folder / name)


async def test_scheduled_backups_on_postgresql_are_refused_with_a_pointer_to_pg_dump(
    tmp_path, bot_config, emulator, caplog
):
    if not bot_config.storage.is_postgres:
        pytest.skip("PostgreSQL only: SQLite's scheduled backups are tested above")
    config = bot_config.model_copy(
        update={"backup": BackupConfig(enabled=True, directory=str(tmp_path / "backups"))}
    )
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        assert app.job_queue.get_jobs_by_name("ops:backup") == ()
    [warning] = [r.getMessage() for r in caplog.records if "[backup]" in r.getMessage()]
    assert warning.startswith("[backup] is not used: the database is PostgreSQL (postgresql://")
    assert "pg_dump --format=custom" in warning
    assert not (tmp_path / "backups").exists()
