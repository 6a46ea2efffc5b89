"""An outbox row's state machine: a row's state and one answer from Telegram give its next state.

Pure functions, no I/O and no clock of their own: `now` is passed in (Unix seconds) and delays
come back as seconds, so the worker (`bot.delivery.worker`) only drives them and every path is
table-tested without waiting. Pacing (when a chat may get its next request) stays with the worker.

A row sends its parts in order. An image-hiding row instead goes edit -> (refused) delete ->
(deleted) send its fallback text. Transient failures are retried with backoff until
`max_attempts`; 429 pauses every send; a Bot API out of reach pauses every send too, longer
each time in a row, and costs no row an attempt (the request never arrived); 403 fails the row
and reports the chat unreachable; a migrated group is followed to its new id; 400 fails the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

from bot.delivery.outcomes import (
    ApiUnavailable,
    Delivered,
    FloodWait,
    Migrated,
    Rejected,
    SendOutcome,
    TransientFailure,
    Unreachable,
)

# The longest pause while the Bot API stays out of reach: it is tried again at least this often.
OUTAGE_PAUSE_CAP_SECONDS = 60.0

# The next request of a row: edit rows go edit -> (refused) delete -> (deleted) send.
STEP_SEND, STEP_EDIT, STEP_DELETE = "send", "edit", "delete"

Status = Literal["queued", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class RowState:
    """What the outbox keeps of a row between two requests; times are Unix seconds."""

    id: int
    chat_id: int
    part_count: int
    next_part: int = 0
    step: str = STEP_SEND
    attempts: int = 0
    status: Status = "queued"
    not_before: float = 0.0
    last_error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def is_finished(self) -> bool:
        """True once the row is sent or failed: the worker lets go of it."""
        return self.status != "queued"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried."""

    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt `attempts + 1` after a transient failure."""
        return min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempts - 1))


@dataclass(frozen=True, slots=True)
class ChatUnreachable:
    """Tell the bot the chat blocked it, kicked it or is gone."""

    chat_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChatMigrated:
    """Tell the bot the group now lives at `new_chat_id`."""

    old_chat_id: int
    new_chat_id: int


ChatEvent = ChatUnreachable | ChatMigrated


@dataclass(frozen=True, slots=True)
class Note:
    """A line for the operator's log."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Transition:
    """A row's next state and what the worker must do about it.

    `retry_in` is the least number of seconds before the row's next request (the chat's pacing
    may ask for more); it means nothing once the row is finished.
    """

    row: RowState
    retry_in: float = 0.0
    pause_all_seconds: float = 0.0
    event: ChatEvent | None = None
    note: Note | None = None


def after(
    row: RowState, outcome: SendOutcome, *, now: float, policy: RetryPolicy, outages: int = 1
) -> Transition:
    """The transition Telegram's answer `outcome` to the row's current request causes.

    `outages` counts the pauses in a row, this one included, that found the Bot API out of
    reach; only an ApiUnavailable outcome reads it.
    """
    match outcome:
        case Delivered():
            return _delivered(row, now)
        case FloodWait(seconds):
            pause = f"429 from Telegram: pausing all sends for {seconds:.1f} s"
            note = Note(logging.WARNING, pause)
            return Transition(row, retry_in=seconds, pause_all_seconds=seconds, note=note)
        case Unreachable(reason, detail):
            failed = _finished(row, "failed", now, f"unreachable: {reason} ({detail})")
            return Transition(failed, event=ChatUnreachable(row.chat_id, reason))
        case Migrated(new_chat_id):
            moved = replace(row, chat_id=new_chat_id)
            return Transition(moved, event=ChatMigrated(row.chat_id, new_chat_id))
        case TransientFailure(reason):
            return _failed_for_now(row, reason, now, policy)
        case ApiUnavailable(reason):
            pause = min(policy.backoff(outages), OUTAGE_PAUSE_CAP_SECONDS)
            note = Note(
                logging.WARNING,
                f"Bot API out of reach ({reason}): pausing all sends for {pause:.1f} s",
            )
            return Transition(row, retry_in=pause, pause_all_seconds=pause, note=note)
        case Rejected(reason):
            return _rejected(row, reason, now)
    raise TypeError(f"not a send outcome: {outcome!r}")


def skip_unreachable(row: RowState, reason: str, *, now: float) -> Transition:
    """Fail a row without a request: its chat was already found unreachable."""
    return Transition(_finished(row, "failed", now, f"unreachable: {reason}"))


def follow_migration(row: RowState, new_chat_id: int) -> RowState:
    """The row addressed to the group's new id, already known from another row."""
    return row if row.chat_id == new_chat_id else replace(row, chat_id=new_chat_id)


def _delivered(row: RowState, now: float) -> Transition:
    started = replace(row, started_at=row.started_at or now)
    if row.step == STEP_EDIT:
        return Transition(_finished(started, "sent", now, None))
    if row.step == STEP_DELETE:
        return Transition(replace(started, step=STEP_SEND))
    next_part = row.next_part + 1
    if next_part >= row.part_count:
        return Transition(_finished(replace(started, next_part=next_part), "sent", now, None))
    return Transition(replace(started, next_part=next_part))


def _failed_for_now(row: RowState, reason: str, now: float, policy: RetryPolicy) -> Transition:
    attempts = row.attempts + 1
    if attempts >= policy.max_attempts:
        note = Note(
            logging.WARNING,
            f"outbox row {row.id} to chat {row.chat_id}: giving up after {attempts} attempts:"
            f" {reason}",
        )
        gave_up = replace(row, attempts=attempts)
        reason = f"gave up after {attempts} attempts: {reason}"
        return Transition(_finished(gave_up, "failed", now, reason), note=note)
    delay = policy.backoff(attempts)
    retried = replace(row, attempts=attempts, last_error=reason, not_before=now + delay)
    return Transition(retried, retry_in=delay)


def _rejected(row: RowState, reason: str, now: float) -> Transition:
    if row.step == STEP_EDIT:
        # Deleting then re-sending as text is the only other way to stop showing the image.
        note = Note(logging.INFO, f"outbox row {row.id}: edit refused ({reason}); deleting instead")
        deleting = replace(row, step=STEP_DELETE, last_error=f"edit refused: {reason}")
        return Transition(deleting, note=note)
    if row.step == STEP_DELETE:
        # Older than 48 h, or already gone: nothing more the bot can do about this message.
        reason = f"{row.last_error}; delete refused: {reason}"
        note = Note(
            logging.WARNING, f"outbox row {row.id} in chat {row.chat_id} left as is: {reason}"
        )
        return Transition(_finished(row, "failed", now, reason), note=note)
    note = Note(logging.WARNING, f"outbox row {row.id} to chat {row.chat_id} rejected: {reason}")
    return Transition(_finished(row, "failed", now, reason), note=note)


def _finished(row: RowState, status: Status, now: float, reason: str | None) -> RowState:
    last_error = reason if reason is not None else row.last_error
    return replace(row, status=status, last_error=last_error, finished_at=now)
