"""The broadcast engine against the Bot API emulator: Telegram's limits and refusals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from itertools import pairwise

import pytest

from bot.delivery.outcomes import ApiUnavailable
from storage import outbox as rows_db
from tests.support import TOKEN
from tests.support.delivery import FAST, deliver, digest, queue, statuses, texts

pytestmark = pytest.mark.emulator(auto_create_chats=True)

# The gap a pacing test measures: large enough to stand out from request latency.
PACED = replace(FAST, per_chat_interval_seconds=0.2)


def send_statuses(emulator, chat_id: int) -> list[int]:
    return statuses(emulator, "sendMessage", chat_id)


async def test_parts_to_one_chat_are_spaced_by_the_interval(emulator, outbox, db, start_worker):
    worker = await start_worker(PACED)
    await deliver(outbox, db, worker, digest(7, "١", "٢", "٣"), digest(8, "أ", "ب"))
    for chat in (7, 8):
        times = emulator.send_times(chat)
        assert all(
            later - earlier >= PACED.per_chat_interval_seconds for earlier, later in pairwise(times)
        )
    assert texts(emulator, 7) == ["١", "٢", "٣"]


async def test_a_group_gets_no_more_than_its_per_minute_limit(emulator, outbox, db, start_worker):
    emulator.add_chat(-42, "group")
    handle = await start_worker(replace(FAST, per_group_per_minute=200))  # one per 0.3 s
    await deliver(outbox, db, handle, digest(-42, "١", "٢", "٣"))
    times = emulator.send_times(-42)
    assert len(times) == 3
    assert all(later - earlier >= 0.3 for earlier, later in pairwise(times))


async def test_two_messages_to_one_chat_are_never_interleaved(emulator, outbox, db, worker):
    await deliver(
        outbox, db, worker, digest(7, "a1", "a2", "a3"), digest(7, "b1", "b2", key="instant:7")
    )
    sent = texts(emulator, 7)
    assert sorted(sent) == ["a1", "a2", "a3", "b1", "b2"]
    assert sent in (["a1", "a2", "a3", "b1", "b2"], ["b1", "b2", "a1", "a2", "a3"])


async def test_too_many_requests_is_honoured_then_delivered(emulator, outbox, db, worker):
    emulator.fail_next("sendMessage", status=429, retry_after=1, chat_id=7)
    await deliver(outbox, db, worker, digest(7, "خبر"))
    assert send_statuses(emulator, 7) == [429, 200]
    refused, accepted = (c for c in emulator.requests if c.method == "sendMessage")
    assert accepted.at - refused.at >= 1.0
    assert texts(emulator, 7) == ["خبر"]


async def test_a_blocked_chat_is_reported_once_and_others_still_get_theirs(
    emulator, outbox, db, worker, events
):
    emulator.block(8)
    await deliver(outbox, db, worker, digest(7), digest(8, "١", "٢"), digest(9))
    assert [chat for chat, _ in events.unreachable] == [8]
    assert "blocked" in events.unreachable[0][1]
    assert send_statuses(emulator, 8) == [403]
    assert (await rows_db.get(db, "digest:8")).status == "failed"
    assert len(texts(emulator, 7)) == len(texts(emulator, 9)) == 1


async def test_a_migrated_group_gets_the_message_at_its_new_id(
    emulator, outbox, db, worker, events
):
    emulator.add_chat(-5, "group")
    emulator.migrate_group(-5, -1005, notify=False)
    await deliver(outbox, db, worker, digest(-5, "١", "٢"))
    assert events.migrated == [(-5, -1005)]
    assert texts(emulator, -1005) == ["١", "٢"]
    row = await rows_db.get(db, "digest:-5")
    assert (row.status, row.chat_id) == ("sent", -1005)


async def test_server_errors_are_retried_with_backoff_then_delivered(emulator, outbox, db, worker):
    emulator.fail_next("sendMessage", status=502, times=2, chat_id=7)
    await deliver(outbox, db, worker, digest(7))
    assert send_statuses(emulator, 7) == [502, 502, 200]
    first, second, third = (c.at for c in emulator.requests if c.method == "sendMessage")
    assert second - first >= FAST.backoff_base_seconds
    assert third - second >= 2 * FAST.backoff_base_seconds


async def test_a_message_is_given_up_after_max_attempts(emulator, outbox, db, worker):
    emulator.fail_next("sendMessage", status=500, times=10, chat_id=7)
    await deliver(outbox, db, worker, digest(7))
    assert send_statuses(emulator, 7) == [500] * FAST.max_attempts
    row = await rows_db.get(db, "digest:7")
    assert row.status == "failed"
    assert row.last_error.startswith(f"gave up after {FAST.max_attempts} attempts")


async def test_a_bad_request_fails_the_message_without_retrying(emulator, outbox, db, worker):
    emulator.fail_next(
        "sendMessage", status=400, description="Bad Request: can't parse entities", chat_id=7
    )
    await deliver(outbox, db, worker, digest(7), digest(8))
    assert send_statuses(emulator, 7) == [400]
    row = await rows_db.get(db, "digest:7")
    assert (row.status, row.last_error) == ("failed", "Can't parse entities")
    assert texts(emulator, 8) == ["خبر"]
    stats = await outbox.stats()
    assert (stats.sent, stats.failed) == (1, 1)


async def test_a_refusal_quoting_the_token_is_stored_and_logged_without_it(
    emulator, outbox, db, worker, caplog
):
    emulator.fail_next("sendMessage", status=400, description=f"Bad Request: bot{TOKEN}", chat_id=7)
    emulator.fail_next("sendMessage", status=403, description=f"Forbidden: bot{TOKEN}", chat_id=8)
    await deliver(outbox, db, worker, digest(7), digest(8))
    rows = [await rows_db.get(db, "digest:7"), await rows_db.get(db, "digest:8")]
    assert [row.last_error for row in rows] == [
        "Bot<token>",
        "unreachable: removed (Forbidden: bot<token>)",
    ]
    secret = TOKEN.split(":")[1].lower()
    assert secret not in caplog.text.lower()


async def test_a_bot_api_outage_pauses_sending_and_loses_no_message(
    emulator, outbox, db, start_worker
):
    chats = range(1, 41)
    settings = replace(FAST, max_attempts=2)
    refused, outage_long_enough = 0, asyncio.Event()

    def count_refusals(outcome, _seconds: float) -> None:
        nonlocal refused
        refused += isinstance(outcome, ApiUnavailable)
        if refused >= 3 * len(chats):  # each row would have given up after two without a pause
            outage_long_enough.set()

    worker = await start_worker(settings, observer=count_refusals)
    await emulator.go_offline()
    await queue(outbox, db, *(digest(chat, f"خبر {chat}") for chat in chats))
    worker.wake()
    async with asyncio.timeout(30):
        await outage_long_enough.wait()

    rows = [await rows_db.get(db, f"digest:{chat}") for chat in chats]
    assert {(row.status, row.attempts) for row in rows} == {("queued", 0)}

    await emulator.come_back()
    await worker.drain(timeout=30)
    assert all(texts(emulator, chat) == [f"خبر {chat}"] for chat in chats)
    assert {(await rows_db.get(db, f"digest:{chat}")).status for chat in chats} == {"sent"}
