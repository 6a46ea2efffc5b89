"""The outbox row state machine, answer by answer: no worker, no event loop, no waiting."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.delivery.outcomes import (
    ApiUnavailable,
    Delivered,
    FloodWait,
    Migrated,
    Rejected,
    TransientFailure,
    Unreachable,
)
from bot.delivery.transitions import (
    OUTAGE_PAUSE_CAP_SECONDS,
    ChatMigrated,
    ChatUnreachable,
    RetryPolicy,
    RowState,
    Transition,
    after,
    follow_migration,
    skip_unreachable,
)
from bot.models import UnreachableReason

NOW = 1_740_000_000.5  # Unix seconds, with the sub-second part pacing needs
EARLIER = NOW - 30
POLICY = RetryPolicy(max_attempts=3, backoff_base_seconds=2.0, backoff_cap_seconds=5.0)
BLOCKED = UnreachableReason.BLOCKED


def digest(**fields) -> RowState:
    """A three-part digest row to chat 7, not yet started unless told otherwise."""
    return replace(RowState(id=1, chat_id=7, part_count=3), **fields)


def image_edit(**fields) -> RowState:
    """A row hiding an image: edit, or delete then send the fallback text as its one part."""
    return replace(RowState(id=2, chat_id=7, part_count=1, step="edit"), **fields)


def failed(row: RowState, reason: str) -> RowState:
    return replace(row, status="failed", last_error=reason, finished_at=NOW)


def sent(row: RowState, **fields) -> RowState:
    return replace(row, status="sent", finished_at=NOW, started_at=row.started_at or NOW, **fields)


# Each case: the row, Telegram's answer to its current request, the transition expected.
CASES = {
    "a delivered first part moves to the second and notes the start": (
        digest(),
        Delivered(),
        Transition(digest(next_part=1, started_at=NOW)),
    ),
    "a delivered middle part keeps the first start time": (
        digest(next_part=1, started_at=EARLIER),
        Delivered(),
        Transition(digest(next_part=2, started_at=EARLIER)),
    ),
    "a delivered last part sends the row": (
        digest(next_part=2, started_at=EARLIER),
        Delivered(),
        Transition(sent(digest(started_at=EARLIER), next_part=3)),
    ),
    "a one-part message is sent by its first delivery": (
        digest(part_count=1),
        Delivered(),
        Transition(sent(digest(part_count=1), next_part=1)),
    ),
    "a delivery after retries keeps the attempts and the last error": (
        digest(attempts=2, last_error="timed out", not_before=EARLIER),
        Delivered(),
        Transition(
            digest(
                next_part=1, attempts=2, last_error="timed out", not_before=EARLIER, started_at=NOW
            )
        ),
    ),
    "a network failure is retried after the base backoff": (
        digest(),
        TransientFailure("timed out"),
        Transition(digest(attempts=1, last_error="timed out", not_before=NOW + 2.0), retry_in=2.0),
    ),
    "a second failure doubles the backoff": (
        digest(attempts=1, last_error="timed out"),
        TransientFailure("502 Bad Gateway"),
        Transition(
            digest(attempts=2, last_error="502 Bad Gateway", not_before=NOW + 4.0), retry_in=4.0
        ),
    ),
    "a failure on the last allowed attempt gives up": (
        digest(next_part=1, attempts=2, started_at=EARLIER),
        TransientFailure("500 Internal Server Error"),
        Transition(
            failed(
                digest(next_part=1, attempts=3, started_at=EARLIER),
                "gave up after 3 attempts: 500 Internal Server Error",
            )
        ),
    ),
    "429 keeps the row as it is and pauses every send": (
        digest(next_part=1),
        FloodWait(3.0),
        Transition(digest(next_part=1), retry_in=3.0, pause_all_seconds=3.0),
    ),
    "a Bot API out of reach costs no attempt and pauses every send": (
        digest(next_part=1, attempts=1, last_error="timed out"),
        ApiUnavailable("aiohttp.ClientConnectorError"),
        Transition(
            digest(next_part=1, attempts=1, last_error="timed out"),
            retry_in=2.0,
            pause_all_seconds=2.0,
        ),
    ),
    "403 fails the row and reports the chat unreachable": (
        digest(next_part=1),
        Unreachable(BLOCKED, "Forbidden: bot was blocked by the user"),
        Transition(
            failed(
                digest(next_part=1),
                "unreachable: blocked (Forbidden: bot was blocked by the user)",
            ),
            event=ChatUnreachable(7, BLOCKED),
        ),
    ),
    "a migrated group is followed to its new id at the same part": (
        digest(chat_id=-5, next_part=1),
        Migrated(-1005),
        Transition(digest(chat_id=-1005, next_part=1), event=ChatMigrated(-5, -1005)),
    ),
    "400 fails the row without retrying": (
        digest(),
        Rejected("Can't parse entities"),
        Transition(failed(digest(), "Can't parse entities")),
    ),
    "an accepted edit sends the row": (
        image_edit(),
        Delivered(),
        Transition(sent(image_edit())),
    ),
    "a refused edit deletes the message next": (
        image_edit(),
        Rejected("message can't be edited"),
        Transition(image_edit(step="delete", last_error="edit refused: message can't be edited")),
    ),
    "a delete sends the fallback text next": (
        image_edit(step="delete", last_error="edit refused: old"),
        Delivered(),
        Transition(image_edit(step="send", last_error="edit refused: old", started_at=NOW)),
    ),
    "the fallback text, once delivered, sends the row and keeps why the edit failed": (
        image_edit(step="send", last_error="edit refused: old", started_at=EARLIER),
        Delivered(),
        Transition(
            sent(
                image_edit(step="send", last_error="edit refused: old", started_at=EARLIER),
                next_part=1,
            )
        ),
    ),
    "a refused delete leaves the message as is, with both reasons": (
        image_edit(step="delete", last_error="edit refused: message can't be edited"),
        Rejected("message can't be deleted"),
        Transition(
            failed(
                image_edit(step="delete"),
                "edit refused: message can't be edited; delete refused: message can't be deleted",
            )
        ),
    ),
    "an edit in a chat that blocked the bot fails without deleting": (
        image_edit(),
        Unreachable(BLOCKED, "Forbidden"),
        Transition(
            failed(image_edit(), "unreachable: blocked (Forbidden)"),
            event=ChatUnreachable(7, BLOCKED),
        ),
    ),
    "an edit that times out is retried at the same step": (
        image_edit(),
        TransientFailure("timed out"),
        Transition(
            image_edit(attempts=1, last_error="timed out", not_before=NOW + 2.0), retry_in=2.0
        ),
    ),
}


def _ignoring_notes(change: Transition) -> Transition:
    return replace(change, note=None)


@pytest.mark.parametrize(("row", "outcome", "expected"), CASES.values(), ids=CASES.keys())
def test_an_answer_from_telegram_moves_the_row_to_its_next_state(row, outcome, expected):
    change = after(row, outcome, now=NOW, policy=POLICY)
    assert _ignoring_notes(change) == _ignoring_notes(expected)


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 2.0), (2, 4.0), (3, 5.0), (10, 5.0)], ids=str
)
def test_backoff_doubles_from_the_base_up_to_the_cap(attempts, seconds):
    assert POLICY.backoff(attempts) == seconds


@pytest.mark.parametrize(
    ("outages", "policy", "seconds"),
    [
        (1, POLICY, 2.0),
        (2, POLICY, 4.0),
        (9, POLICY, 5.0),
        (20, replace(POLICY, backoff_cap_seconds=300.0), OUTAGE_PAUSE_CAP_SECONDS),
    ],
    ids=["first", "second", "up to the retry cap", "never over a minute"],
)
def test_each_outage_pause_in_a_row_is_longer_and_the_row_never_gives_up(outages, policy, seconds):
    row = digest(attempts=policy.max_attempts - 1)
    change = after(row, ApiUnavailable("refused"), now=NOW, policy=policy, outages=outages)
    assert (change.row, change.retry_in, change.pause_all_seconds) == (row, seconds, seconds)


def test_every_retry_before_the_last_attempt_waits_then_the_row_fails():
    patient = replace(POLICY, max_attempts=5)
    row, waits = digest(), []
    while not row.is_finished:
        change = after(row, TransientFailure("502"), now=NOW, policy=patient)
        waits.append(change.retry_in)
        row = change.row
    assert waits == [2.0, 4.0, 5.0, 5.0, 0.0]
    assert (row.status, row.attempts) == ("failed", 5)
    assert row.last_error == "gave up after 5 attempts: 502"


def test_a_digest_advances_part_by_part_until_sent():
    row, seen = digest(), []
    while not row.is_finished:
        seen.append(row.next_part)
        row = after(row, Delivered(), now=NOW, policy=POLICY).row
    assert seen == [0, 1, 2]
    assert (row.status, row.next_part, row.started_at, row.finished_at) == ("sent", 3, NOW, NOW)


def test_an_image_edit_refused_goes_delete_then_send():
    steps = []
    row = image_edit()
    for answer in (Rejected("message can't be edited"), Delivered(), Delivered()):
        steps.append(row.step)
        row = after(row, answer, now=NOW, policy=POLICY).row
    assert steps == ["edit", "delete", "send"]
    assert row.status == "sent"


@pytest.mark.parametrize(
    ("row", "outcome", "level", "says"),
    [
        (digest(attempts=2), TransientFailure("500"), logging.WARNING, "giving up after 3"),
        (digest(), Rejected("bad"), logging.WARNING, "rejected: bad"),
        (image_edit(), Rejected("old"), logging.INFO, "deleting instead"),
        (image_edit(step="delete"), Rejected("gone"), logging.WARNING, "delete refused: gone"),
        (digest(), FloodWait(2.0), logging.WARNING, "pausing all sends for 2.0 s"),
        (digest(), ApiUnavailable("refused"), logging.WARNING, "out of reach (refused)"),
    ],
    ids=["give up", "rejected", "edit refused", "delete refused", "429", "outage"],
)
def test_the_operator_log_says_why_a_row_stopped_or_changed_course(row, outcome, level, says):
    note = after(row, outcome, now=NOW, policy=POLICY).note
    assert note is not None
    assert note.level == level
    assert says in note.text


@pytest.mark.parametrize(
    ("row", "outcome"),
    [(digest(), Delivered()), (digest(), TransientFailure("x")), (digest(), Migrated(-9))],
    ids=["delivered", "retried", "migrated"],
)
def test_ordinary_progress_is_not_logged(row, outcome):
    assert after(row, outcome, now=NOW, policy=POLICY).note is None


def test_a_row_to_a_chat_known_unreachable_fails_without_a_request():
    change = skip_unreachable(digest(next_part=1), "blocked", now=NOW)
    assert change == Transition(failed(digest(next_part=1), "unreachable: blocked"))
    assert change.event is None  # the chat was reported when it was found unreachable


def test_a_row_to_a_group_known_migrated_goes_to_the_new_id():
    assert follow_migration(digest(chat_id=-5), -1005) == digest(chat_id=-1005)
    row = digest()
    assert follow_migration(row, 7) is row
