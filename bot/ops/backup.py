"""Backups of the live database, retention, restore, and the lock a running bot holds.

`akhbar run` holds an exclusive advisory lock (`flock`) on `<database>.lock` for its lifetime;
the kernel drops it when the process dies, even after `kill -9`. `akhbar restore` takes the
same lock without waiting, so it refuses while a bot runs and no bot can start mid-restore.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.errors import BackupError, DatabaseBusy
from storage import backups
from storage.postgres import redacted

log = logging.getLogger(__name__)

PREFIX = "akhbar-"
SUFFIX = ".sqlite3"


def use_pg_dump(url: str) -> str:
    """Why `akhbar backup` and `restore` refuse on PostgreSQL, and what to use instead."""
    return (
        f"the database is PostgreSQL ({redacted(url)}): back it up with PostgreSQL's own tools,"
        " pg_dump --format=custom --file=akhbar.dump URL, and put a dump back with"
        " pg_restore --clean --dbname=URL akhbar.dump (docs/OPERATIONS.md, Backups)"
    )


def lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.lock")


@contextmanager
def hold_database(database: Path) -> Iterator[None]:
    """Hold the database's lock for the block; raise DatabaseBusy if another process has it.

    Without the database's folder there is nothing to guard (and opening it fails with its own
    message): the block runs unlocked rather than make a folder here.
    """
    if not database.parent.is_dir():
        yield
        return
    descriptor = os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseBusy(
                f"{database} is in use by a running bot (lock {lock_path(database)})"
            ) from None
        yield
    finally:
        os.close(descriptor)


def backup_name(at: datetime) -> str:
    """`akhbar-20261130T220000Z.sqlite3`: sorts by time."""
    return f"{PREFIX}{at.strftime('%Y%m%dT%H%M%SZ')}{SUFFIX}"


async def back_up(database: Path, target: Path) -> Path:
    """Copy the live database to `target` with SQLite's online backup and verify the copy."""
    await asyncio.to_thread(backups.copy_database, database, target)
    return target


async def back_up_into(directory: Path, database: Path, *, at: datetime, keep: int) -> Path:
    """A scheduled backup into `directory`; then only the newest `keep` backups are kept."""
    target = await back_up(database, directory / backup_name(at))
    for old in _backups_in(directory)[:-keep]:
        old.unlink(missing_ok=True)
        log.info("removed old backup %s", old.name)
    return target


def _backups_in(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.glob(f"{PREFIX}*{SUFFIX}") if p.is_file() and not p.is_symlink()
    )


def restore(backup: Path, database: Path) -> None:
    """Put a verified backup in place of the database; refuses while a bot holds it."""
    backups.check(backup)
    with hold_database(database):
        staged = database.with_name(f".{database.name}.restoring")
        backups.copy_database(backup, staged)
        # A WAL left from the replaced database would be replayed into the restored one.
        for leftover in ("-wal", "-shm"):
            database.with_name(database.name + leftover).unlink(missing_ok=True)
        os.replace(staged, database)
    if not database.exists():
        raise BackupError(f"{database}: restore did not complete")
