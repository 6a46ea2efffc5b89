"""Opening the database: SQLite (WAL mode, pragmas, SQL functions, forward migrations, and
transactions that several coroutines can share one connection with), or PostgreSQL when the
location is a postgresql:// URL (`storage.postgres`)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.errors import DatabaseUnavailable
from storage import postgres, send_budget
from storage.backups import copy_database
from storage.connection import Connection

log = logging.getLogger(__name__)

TermsFunction = Callable[[str | None], str]

_write_locks: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def connect(
    path: str | Path, *, index_terms: TermsFunction, create: bool = True, pool_size: int = 10
) -> Connection:
    """Open the database (a new file only if `create`), register the indexing function and
    apply pending migrations; raise DatabaseUnavailable when it cannot be opened.

    `path` is a SQLite file, or a postgresql:// URL (a pool of up to `pool_size`
    connections). A missing folder is never created here: which folders may be made is the
    caller's call.
    """
    if postgres.is_url(str(path)):
        return await postgres.connect(
            str(path), index_terms=index_terms, create=create, pool_size=pool_size
        )
    db = await _open(str(path), create=create)
    db.row_factory = aiosqlite.Row
    try:
        await _configure(db, index_terms)
        if str(path) != ":memory:":
            await _backup_before_migrating(db, Path(path))
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    return db


# Beside a SQLite file, the database of its send schedules (`connect_send_budget`).
SEND_BUDGET_SUFFIX = "-budget"


async def connect_send_budget(location: str | Path) -> Connection:
    """A connection for the bot's shared send schedules (`storage.send_budget`) alone.

    For a SQLite file, a small database beside it (`<file>-budget`, made if missing; a
    private one for `:memory:`, which one process uses): its write lock is not the main
    file's. Its content is a few moving timestamps, nothing to back up. For PostgreSQL, a
    pool of one connection on the same database: a draw locks one row, which no other
    writer waits for.
    """
    if postgres.is_url(str(location)):
        return await postgres.connect(
            str(location), index_terms=_no_terms, create=False, pool_size=1
        )
    path = str(location)
    target = path if path == ":memory:" else path + SEND_BUDGET_SUFFIX
    try:
        db = await aiosqlite.connect(target)
    except sqlite3.Error as error:
        raise DatabaseUnavailable(f"{target}: cannot be opened: {error}") from None
    try:
        await _set_up_send_budget(db, target)
    except BaseException:
        await db.close()
        raise
    return db


# Processes starting together may all make the side file at once: switching a new file to
# WAL can then answer busy ("database is locked") without waiting in the busy handler, so it
# is tried again.
_SETUP_ATTEMPTS = 50
_SETUP_PAUSE = 0.1


async def _set_up_send_budget(db: aiosqlite.Connection, target: str) -> None:
    await db.execute("PRAGMA busy_timeout = 5000")
    for attempt in range(1, _SETUP_ATTEMPTS + 1):
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await send_budget.create(db)
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == _SETUP_ATTEMPTS:
                raise DatabaseUnavailable(f"{target}: cannot be set up: {error}") from None
            await db.rollback()
            await asyncio.sleep(_SETUP_PAUSE)


def _no_terms(text: str | None) -> str:
    return ""


async def _open(path: str, *, create: bool) -> aiosqlite.Connection:
    target, is_uri = (path, False) if path == ":memory:" else _checked_target(Path(path), create)
    try:
        return await aiosqlite.connect(target, uri=is_uri)
    except sqlite3.Error as error:
        raise DatabaseUnavailable(f"{path}: cannot be opened: {error}") from None


def _checked_target(file: Path, create: bool) -> tuple[str, bool]:
    """What to hand sqlite3.connect for `file`, and whether it is a URI; raise when missing."""
    if not file.parent.is_dir():
        raise DatabaseUnavailable(f"{file}: the folder {file.parent} does not exist")
    if create:
        return str(file), False
    if not file.exists():
        raise DatabaseUnavailable(
            f"{file}: no database there yet (run, ingest or import makes one)"
        )
    # mode=rw opens an existing file and never creates one, whatever happens meanwhile.
    return f"{file.resolve().as_uri()}?mode=rw", True


async def _configure(db: aiosqlite.Connection, index_terms: TermsFunction) -> None:
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 5000")
    await db.create_function("akhbar_terms", 1, index_terms, deterministic=True)


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    scripts = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(int(p.name.split("_", 1)[0]), p.read_text(encoding="utf-8")) for p in scripts]


async def _backup_before_migrating(db: aiosqlite.Connection, path: Path) -> None:
    """Copy an existing database next to itself before a migration changes its schema."""
    version = await _user_version(db)
    pending = [number for number, _ in _migrations() if number > version]
    if version == 0 or not pending:
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.before-{pending[0]:03d}-{stamp}.sqlite3")
    await asyncio.to_thread(copy_database, path, target)
    log.info("backed up the database to %s before migrating to %s", target, pending[-1])


async def _user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        (version,) = await cursor.fetchone()
    return version


async def migrate(db: Connection) -> int:
    """Apply the migrations newer than `PRAGMA user_version`; return the resulting version."""
    if isinstance(db, postgres.PostgresDatabase):
        return await postgres.migrate(db)
    version = await _user_version(db)
    for number, script in _migrations():
        if number <= version:
            continue
        # executescript commits first; the version bump rides in the same script so a crash
        # cannot leave a migration applied but unrecorded.
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        version = number
    return version


@asynccontextmanager
async def transaction(db: Connection, *, immediate: bool = False) -> AsyncIterator[None]:
    """Run the block as one transaction: commit when it ends, roll back if it raises.

    The services share one connection, and a transaction on it belongs to whoever commits
    next: without this lock a coroutine could commit (or roll back) another's half-done writes
    at any `await`. The lock is not re-entrant: code inside the block must not open another.
    `immediate` takes SQLite's write lock before the first read (`BEGIN IMMEDIATE`), so
    check-then-write logic also holds against other processes sharing the file.
    """
    if isinstance(db, postgres.PostgresDatabase):
        async with db.transaction(immediate=immediate):
            yield
        return
    lock = _write_locks.get(db)
    if lock is None:
        lock = _write_locks[db] = asyncio.Lock()
    async with lock:
        try:
            if immediate:
                await db.execute("BEGIN IMMEDIATE")
            yield
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
