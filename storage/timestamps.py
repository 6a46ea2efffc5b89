"""How every table stores a moment: Unix seconds as a float (SQLite REAL).

Float seconds, not whole seconds, because the outbox paces and leases below the second; not
integer milliseconds, because every existing row already holds seconds. Columns declared
INTEGER by early migrations keep whole-second values as integers and store the rest as REAL;
SQLite compares the two by value, so databases written before this representation read and
compare unchanged and need no migration.

The outbox engine schedules in these seconds already (`bot.delivery.transitions`), so its row
progress carries them as they are; everything else passes aware datetimes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> float:
    """The stored form of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"a naive datetime has no place in storage: {moment!r}")
    return moment.timestamp()


def from_db(value: float) -> datetime:
    """The aware UTC datetime of a stored moment (REAL, or INTEGER from older rows)."""
    return datetime.fromtimestamp(value, UTC)


def optional_to_db(moment: datetime | None) -> float | None:
    return None if moment is None else to_db(moment)


def optional_from_db(value: float | None) -> datetime | None:
    return None if value is None else from_db(value)
