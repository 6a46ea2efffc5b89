"""Consistent copies of the SQLite database with SQLite's online backup API.

The copy is taken page by page from a live database (other connections keep writing; SQLite
restarts the copy if a page changes under it), then checked with `PRAGMA integrity_check`.
Synchronous: call it in a thread from async code.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.errors import BackupError

_PAGES_PER_STEP = 1024


def copy_database(source: Path, target: Path) -> None:
    """Copy `source` into a new file `target` (written beside it, then renamed) and verify it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # Read-write: a read-only connection cannot open a WAL database whose -shm is missing.
        with _open(source, must_exist=True) as live, _open(partial) as copy:
            live.backup(copy, pages=_PAGES_PER_STEP)
            # A backup must not need a -wal file beside it to be whole.
            copy.execute("PRAGMA journal_mode = DELETE")
        check(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def check(path: Path) -> None:
    """Raise BackupError unless `path` is an SQLite database that passes integrity_check."""
    try:
        with _open(path, must_exist=True, read_only=True) as db:
            rows = db.execute("PRAGMA integrity_check").fetchall()
            version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: not a usable SQLite database ({error})") from None
    if rows != [("ok",)]:
        raise BackupError(f"{path}: integrity check failed: {rows[0][0]}")
    if version == 0:
        raise BackupError(f"{path}: not an Akhbar database (no schema version)")


def _open(path: Path, *, must_exist: bool = False, read_only: bool = False) -> _closing:
    if must_exist and not path.is_file():
        raise BackupError(f"{path}: no such file")
    if read_only:
        return _closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))
    return _closing(sqlite3.connect(path))


class _closing:
    """sqlite3's context manager commits but does not close; this one does both."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        return self._db

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._db.commit()
        finally:
            self._db.close()
