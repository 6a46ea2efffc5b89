"""The outbox: storage, idempotent queueing, claims, restarts and several workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.clock import utc_now
from bot.delivery.budget import SharedBudget
from bot.models import ImageEdit, OutgoingMessage, PhotoPost
from storage import outbox as rows_db
from storage import send_budget
from tests.support.clock import FakeClock
from tests.support.delivery import FAST, deliver, digest, queue, sent_at_least, texts

pytestmark = pytest.mark.emulator(auto_create_chats=True)


# Storage


async def test_enqueueing_the_same_key_twice_adds_one_row(outbox, db):
    assert await queue(outbox, db, digest(7), digest(8)) == 2
    assert await queue(outbox, db, digest(7), replace(digest(7), parts=("other",))) == 0
    stats = await outbox.stats()
    assert (stats.queued, stats.sending, stats.sent, stats.failed) == (2, 0, 0, 0)


async def test_one_batch_keeps_every_field_of_every_kind_of_message_in_order(outbox, db):
    edit = ImageEdit(message_id=41, caption="<b>عنوان</b>", fallback_text="نص بديل")
    photo = PhotoPost(url="https://example.org/a.jpg", image_id=9, report_button="بلّغ")
    messages = [
        digest(7, "جزء 1", "جزء 2", key="a", thread_id=3, link_preview=True),
        digest(8, "نص بديل", key="b", kind="image_edit", edit=edit),
        digest(9, "تعليق", key="c", kind="autopost", photo=photo),
        digest(7, key="a"),  # the same key again in the batch: kept once
    ]
    assert await queue(outbox, db, *messages) == 3
    now = utc_now().timestamp()
    rows = await rows_db.claim(db, worker="w", now=now, lease_until=now + 60, limit=10)
    assert [(r.chat_id, r.thread_id, r.kind, r.parts, r.link_preview) for r in rows] == [
        (7, 3, "digest", ("جزء 1", "جزء 2"), True),
        (8, None, "image_edit", ("نص بديل",), False),
        (9, None, "autopost", ("تعليق",), False),
    ]
    assert (rows[1].step, rows[1].edit_message_id, rows[1].edit_caption) == (
        "edit",
        41,
        "<b>عنوان</b>",
    )
    assert (rows[2].photo_url, rows[2].image_id, rows[2].report_button) == (photo.url, 9, "بلّغ")
    assert (rows[0].step, rows[0].edit_message_id, rows[0].photo_url) == ("send", None, None)


async def test_a_message_without_parts_is_refused():
    with pytest.raises(ValueError, match="no parts"):
        OutgoingMessage(key="k", chat_id=1, parts=())


async def test_claimed_rows_are_invisible_to_other_workers_until_the_lease_expires(outbox, db):
    await queue(outbox, db, *(digest(chat) for chat in range(1, 6)))
    now = datetime(2025, 2, 23, tzinfo=UTC).timestamp() + 10**7
    first = await rows_db.claim(db, worker="a", now=now, lease_until=now + 60, limit=3)
    second = await rows_db.claim(db, worker="b", now=now, lease_until=now + 60, limit=10)
    assert [row.chat_id for row in first] == [1, 2, 3]
    assert [row.chat_id for row in second] == [4, 5]
    later = now + 61
    assert (
        len(await rows_db.claim(db, worker="c", now=later, lease_until=later + 60, limit=10)) == 5
    )


async def test_a_worker_never_takes_again_a_row_it_still_holds_after_its_lease_ran_out(outbox, db):
    # The worker is still sending it (a stalled loop, a test's clock moved on): taking it
    # again would send it twice. Another worker may take it, as from a dead one.
    await queue(outbox, db, digest(7))
    now = utc_now().timestamp()
    [row] = await rows_db.claim(db, worker="a", now=now, lease_until=now + 60, limit=1)
    later = now + 61
    assert await rows_db.claim(db, worker="a", now=later, lease_until=later + 60, limit=1) == []
    [taken] = await rows_db.claim(db, worker="b", now=later, lease_until=later + 60, limit=1)
    assert taken.id == row.id


async def test_progress_from_a_worker_that_lost_its_claim_is_ignored(outbox, db):
    await queue(outbox, db, digest(7, "1", "2"))
    now = utc_now().timestamp()
    [row] = await rows_db.claim(db, worker="a", now=now, lease_until=now - 1, limit=1)
    [_] = await rows_db.claim(db, worker="b", now=now, lease_until=now + 60, limit=1)
    progress = rows_db.RowProgress(row.id, 7, 2, "sent", 0, 0.0, None, now, now)
    await rows_db.record(db, [progress], worker="a")
    assert (await rows_db.get(db, "digest:7")).status == "queued"


# The engine


async def test_every_chat_gets_its_parts_in_order(emulator, outbox, db, worker):
    await deliver(outbox, db, worker, digest(7, "١", "٢", "٣"), digest(8, "<b>أ</b>"))
    assert texts(emulator, 7) == ["١", "٢", "٣"]
    assert texts(emulator, 8) == ["أ"]
    stats = await outbox.stats()
    assert (stats.queued, stats.sent) == (0, 2)
    assert stats.last_rate is not None


async def test_a_forum_topic_receives_the_message_in_its_thread(emulator, outbox, db, worker):
    emulator.add_chat(-100500, "supergroup", is_forum=True)
    await deliver(outbox, db, worker, digest(-100500, "موضوع", thread_id=42))
    [message] = emulator.sent(-100500)
    assert message.message_thread_id == 42


async def test_a_restart_mid_broadcast_resumes_without_second_copies(
    emulator, outbox, db, start_worker
):
    chats = range(1, 81)
    await queue(outbox, db, *(digest(chat, "١", "٢") for chat in chats))
    paced = replace(FAST, overall_per_second=200)
    first = await start_worker(paced, worker_id="akhbar")
    await sent_at_least(emulator, 60)
    at_risk = await first.abort()  # as kill -9 would: nothing more is recorded

    second = await start_worker(paced, worker_id="akhbar")
    await second.drain(timeout=10)

    copies = {chat: Counter(texts(emulator, chat)) for chat in chats}
    assert all(set(c) == {"١", "٢"} for c in copies.values())
    repeated = {chat for chat, c in copies.items() if max(c.values()) > 1}
    assert repeated <= at_risk
    assert len(at_risk) <= paced.concurrency + 20
    assert (await outbox.stats()).sent == len(chats)


async def test_rows_of_a_crashed_worker_are_taken_over_when_its_lease_expires(
    emulator, outbox, db, start_worker
):
    await queue(outbox, db, *(digest(chat) for chat in range(1, 31)))
    slow = replace(FAST, overall_per_second=100)
    clock = FakeClock(utc_now())  # the lease runs out when the test says, not in real time
    first = await start_worker(slow, worker_id="crashed", clock=clock)
    await sent_at_least(emulator, 5)
    at_risk = await first.abort()

    clock.advance(seconds=slow.lease_seconds - 1)
    early = await start_worker(slow, worker_id="early", clock=clock)
    await early.drain(timeout=5)
    assert early.worker.delivered == 0  # the dead worker's lease still holds its rows
    await early.stop()
    clock.advance(seconds=2)
    second = await start_worker(slow, worker_id="other", clock=clock)
    await sent_at_least(emulator, 30)
    await second.drain(timeout=5)
    counts = [len(emulator.sent(chat)) for chat in range(1, 31)]
    assert all(n >= 1 for n in counts)
    assert {chat for chat, n in zip(range(1, 31), counts, strict=True) if n > 1} <= at_risk


async def test_two_workers_on_one_database_never_send_a_row_twice(
    emulator, outbox, db, start_worker
):
    chats = range(1, 201)
    small_batches = replace(FAST, claim_batch=10)
    workers = [await start_worker(small_batches) for _ in range(2)]
    await queue(outbox, db, *(digest(chat) for chat in chats))
    for handle in workers:
        handle.wake()
    await sent_at_least(emulator, len(chats))
    for handle in workers:
        await handle.drain(timeout=5)
    assert [len(emulator.sent(chat)) for chat in chats] == [1] * len(chats)
    assert all(handle.worker.delivered > 0 for handle in workers)


# Several workers (processes) on one database


async def test_a_chat_has_one_claimed_row_at_a_time_and_its_oldest_first(outbox, db):
    await queue(outbox, db, digest(7, key="a:7"), digest(8), digest(7, key="b:7"))
    now = utc_now().timestamp()
    first = await rows_db.claim(db, worker="a", now=now, lease_until=now + 60, limit=10)
    second = await rows_db.claim(db, worker="b", now=now, lease_until=now + 60, limit=10)
    assert [row.chat_id for row in first] == [7, 8]
    assert second == []  # chat 7's later row waits for the earlier one, whoever holds it
    [row] = [row for row in first if row.chat_id == 7]
    done = rows_db.RowProgress(row.id, 7, 1, "sent", 0, 0.0, None, now, now)
    await rows_db.record(db, [done], worker="a")
    later = now + 1
    [next_row] = await rows_db.claim(db, worker="b", now=later, lease_until=later + 60, limit=10)
    assert (next_row.chat_id, next_row.id) == (7, row.id + 2)


async def test_a_chats_next_row_waits_until_the_chat_is_free_again(outbox, db):
    await queue(outbox, db, digest(7), digest(7, key="b:7"), digest(-5), digest(-5, key="b:-5"))
    now = utc_now().timestamp()
    held = await rows_db.claim(db, worker="a", now=now, lease_until=now + 60, limit=10)
    # Finished: chat 7 is free again 1 s later, the group 3 s later (its per-minute limit).
    free_at = {7: now + 1.0, -5: now + 3.0}
    finished = [
        rows_db.RowProgress(
            r.id, r.chat_id, 1, "sent", 0, 0.0, None, now, now, "send", free_at[r.chat_id]
        )
        for r in held
    ]  # fmt: skip
    await rows_db.record(db, finished, worker="a")

    async def claimable(at: float) -> list[int]:
        rows = await rows_db.claim(
            db, worker="b", now=now, lease_until=at + 60, limit=10, real_now=at
        )
        return [row.chat_id for row in rows]  # fmt: skip

    assert await claimable(now + 0.5) == []
    assert await rows_db.next_claimable_in(db, now=now, real_now=now + 0.5) == 0.5
    assert await claimable(now + 1.5) == [7]
    assert await claimable(now + 2.5) == []
    assert await claimable(now + 3.5) == [-5]
    assert await rows_db.next_claimable_in(db, now=now, real_now=now + 3.5) is None


async def test_draws_from_the_send_budget_never_overlap_and_a_pause_holds_them_all(db):
    spacing = 0.1
    first = await send_budget.draw(db, slots=3, spacing=spacing)
    second = await send_budget.draw(db, slots=2, spacing=spacing)
    assert first.first_in < 0.001  # the schedule restarts now: nothing saved up before
    # The second process's slots start where the first's end (less the time between draws).
    assert 3 * spacing - 0.05 <= second.first_in <= 3 * spacing
    await send_budget.pause(db, seconds=5.0)
    paused = await send_budget.draw(db, slots=1, spacing=spacing)
    assert 4.9 <= paused.first_in <= 5.0
    assert 4.9 <= paused.paused_for <= 5.0


async def test_a_send_asking_for_a_slot_as_its_refill_just_finished_gets_one(db):
    # The race, set up directly (it hung bench.scale's bot once): the background draw has
    # finished, its task's done-callbacks have not run yet, and the slots it drew were already
    # stale. next_slot awaited the finished draw again and again without ever yielding.
    budget = SharedBudget(db, asyncio.Lock(), rate=30)
    finished = asyncio.get_running_loop().create_future()
    finished.set_result(None)
    budget._refill = finished
    before = asyncio.get_running_loop().time()
    assert await budget.next_slot(wanted=lambda: 1) >= before


async def test_a_429_seen_by_one_worker_pauses_every_worker_on_the_database(
    emulator, outbox, db, start_worker
):
    chats = range(1, 401)
    small_batches = replace(FAST, claim_batch=20)
    workers = [await start_worker(small_batches) for _ in range(2)]
    emulator.fail_next("sendMessage", status=429, retry_after=1, chat_id=7)
    await queue(outbox, db, *(digest(chat) for chat in chats))
    for handle in workers:
        handle.wake()
    await sent_at_least(emulator, len(chats))
    [refused] = [call for call in emulator.requests if call.status == 429]
    accepted = [call.at - refused.at for call in emulator.requests if call.is_ok]
    # Slots already drawn (50 ms worth at most) may still go; then nobody sends until the end.
    assert not [at for at in accepted if 0.1 < at < 0.95]
    assert all(handle.worker.delivered > 0 for handle in workers)
    assert [len(emulator.sent(chat)) for chat in chats] == [1] * len(chats)
