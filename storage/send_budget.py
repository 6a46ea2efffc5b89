"""The bot-wide send budget every delivery process draws from: evenly spaced send slots.

Telegram's overall limit is per bot, not per process. The `send_budget` row holds the first
slot nobody holds yet; a draw takes the next `slots` slots in one atomic UPDATE … RETURNING, so
the slots of all processes together never come closer than `spacing`. After an idle spell the
schedule restarts at the current time (no saved-up burst). Times are the database's clock, one
clock for every process whatever machine it runs on.

Draws go through a connection of their own (`storage.database.connect_send_budget`). On SQLite
the schedules live in a small database beside the main file, not in its `send_budget` table:
a draw takes a write lock, and the main file's is held for most of a large slot's composition,
so sending would slow to what the draws that slip in between allow (a third of the rate).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.connection import Connection, is_postgres

OVERALL = "overall"
# The messages sent without allow_paid_broadcast, when paid broadcasts raise `OVERALL` above
# Telegram's free limit (added on first use: no migration).
FREE = "free"

_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
# statement_timestamp() is the same everywhere in the statement, as SQLite's 'now' is.
_POSTGRES_NOW = "CAST(extract(epoch FROM statement_timestamp()) AS DOUBLE PRECISION)"

_DRAW = (
    "UPDATE send_budget SET rate = ?, next_slot_at = CASE"
    " WHEN next_slot_at >= paused_until AND next_slot_at >= {now} THEN next_slot_at"
    " WHEN paused_until >= {now} THEN paused_until ELSE {now} END + ?"
    " WHERE name = ? RETURNING next_slot_at, paused_until, {now}"
)
_PAUSE = (
    "UPDATE send_budget SET paused_until = CASE WHEN paused_until > {now} + ? THEN paused_until"
    " ELSE {now} + ? END WHERE name = ? RETURNING paused_until, {now}"
)


@dataclass(frozen=True, slots=True)
class Grant:
    """Slots drawn: the first starts `first_in` seconds after the draw (0 when due now)."""

    slots: int
    spacing: float
    first_in: float
    paused_for: float  # seconds until a 429's pause ends (0 when none)


async def draw(db: Connection, *, slots: int, spacing: float, name: str = OVERALL) -> Grant:
    """Take the next `slots` send slots, `spacing` seconds apart. The caller commits."""
    rows = await db.execute_fetchall(_sql(db, _DRAW), (1.0 / spacing, slots * spacing, name))
    if not rows:
        raise LookupError(f"no send budget named {name!r}")
    next_slot_at, paused_until, now = rows[0]
    first = next_slot_at - slots * spacing
    return Grant(slots, spacing, max(0.0, first - now), max(0.0, paused_until - now))


async def pause(db: Connection, *, seconds: float, name: str = OVERALL) -> None:
    """Give no slot to any process for `seconds` from now (Telegram answered 429)."""
    await db.execute_fetchall(_sql(db, _PAUSE), (seconds, seconds, name))


async def ensure(db: Connection, *, name: str) -> None:
    """Add the schedule `name` unless it exists. The caller commits."""
    await db.execute_fetchall(
        "INSERT INTO send_budget (name) VALUES (?) ON CONFLICT DO NOTHING", (name,)
    )


async def create(db: Connection) -> None:
    """Add the schedules' table and the overall schedule to a SQLite side database unless
    there (the main file's migration 009 made the same table)."""
    await db.execute(_SIDE_SCHEMA)
    await ensure(db, name=OVERALL)
    await db.commit()


_SIDE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS send_budget (name TEXT PRIMARY KEY,"
    " rate REAL NOT NULL DEFAULT 0, next_slot_at REAL NOT NULL DEFAULT 0,"
    " paused_until REAL NOT NULL DEFAULT 0)"
)


def _sql(db: Connection, template: str) -> str:
    return template.format(now=_POSTGRES_NOW if is_postgres(db) else _SQLITE_NOW)
