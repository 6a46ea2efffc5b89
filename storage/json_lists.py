"""JSON lists as tables, on either engine: how storage passes a batch of values in one `?`.

SQLite reads a JSON array with `json_each`, PostgreSQL with `jsonb_array_elements`; the
statements around them are the same. Each helper gives a FROM item whose rows have a column
`value`: compare it through `CAST(value AS BIGINT)` where it holds numbers (PostgreSQL gives
text), and read a nested array's fields with `value ->> n` (both engines).
"""

from __future__ import annotations

from storage.connection import Connection, is_postgres


def values(db: Connection, array: str = "?") -> str:
    """The scalar elements of the JSON array `array` (a `?` or a column), as column `value`."""
    if is_postgres(db):
        return f"jsonb_array_elements_text(CAST({array} AS jsonb))"
    return f"json_each({array})"


def items(db: Connection, array: str = "?") -> str:
    """The elements of the JSON array `array` as JSON (for `value ->> n`), as column `value`."""
    if is_postgres(db):
        return f"jsonb_array_elements(CAST({array} AS jsonb))"
    return f"json_each({array})"


def ids(db: Connection, array: str = "?") -> str:
    """A subquery of the integers in the JSON array `array`, for `column IN (…)`."""
    return f"SELECT CAST(value AS BIGINT) FROM {values(db, array)}"


def texts(db: Connection, array: str = "?") -> str:
    """A subquery of the strings in the JSON array `array`, for `column IN (…)`."""
    return f"SELECT value FROM {values(db, array)}"
