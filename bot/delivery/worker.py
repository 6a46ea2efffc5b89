"""The broadcast engine: a persistent outbox drained by a paced, concurrent worker.

Every message is a row (one per chat and digest, its parts kept together) committed before
anything is sent. A worker claims due rows in batches under a lease, sends their parts in
order within Telegram's limits (see `bot.pacing`), and records each accepted part.

Crash guarantee: a part is recorded as sent at most `flush_interval_seconds` (10 ms) after
Telegram's answer, in one batched commit. After `kill -9` and a restart every chat gets its
remaining parts and none gets a part twice, except parts whose request was in flight or whose
answer was not yet flushed at the instant of the crash: those are sent again (at least once).
That window holds at most the requests in flight (the rate × the observed round trip with
headroom, at most `concurrency`) plus the answers of one flush interval (about one message at
30/s). Rows a dead worker held come back when its lease expires.

A row may instead change a message the bot sent (`ImageEdit`: a hidden image replaced by a
placeholder): editMessageMedia, or when Telegram refuses, deleteMessage then the fallback text as a
new message. Each request takes its own paced slot, and the step reached is recorded like a part,
so a restart neither edits again after the delete nor deletes again after the edit (beyond the
same in-flight window).

RetryAfter pauses the whole worker, not just the chat: the engine already keeps every chat under
its limit, so a 429 means the bot-wide budget is spent (another process, a lower real limit), and
Telegram escalates bans for bots that keep sending.

Several processes (on one PostgreSQL database, or one SQLite file) share a broadcast: each claims
only the oldest queued row of a chat, once the chat's gap since its last finished row has passed
(`storage.outbox.claim`), so one chat is served by one worker at a time, in order and spaced;
the overall rate comes from the schedule they share (`bot.delivery.budget`), and a 429 pauses
it for all. Worker ids are unique per process unless the operator names one (`[delivery]
worker_id`) or `akhbar run` keeps one for the sending processes it starts one after another;
a worker under its predecessor's id takes back that one's rows at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.clock import Clock
from bot.delivery import transitions
from bot.delivery.budget import SharedBudget, named_budget
from bot.delivery.outbox import ChatEvents, OutboxSettings
from bot.delivery.outcomes import (
    ApiUnavailable,
    Delivered,
    FloodWait,
    Sender,
    SendObserver,
    SendOutcome,
    TransientFailure,
)
from bot.delivery.pacing import InFlightLimit, Pacer
from bot.delivery.progress import ProgressRecorder
from bot.delivery.transitions import (
    STEP_EDIT,
    STEP_SEND,
    ChatEvent,
    ChatMigrated,
    ChatUnreachable,
    RowState,
    Transition,
)
from bot.models import PhotoPost
from storage import outbox as rows_db
from storage.connection import Connection
from storage.outbox import ClaimedRow, RowProgress

# The engine's logger name from before the split, so log filters and tests keep matching.
log = logging.getLogger("bot.delivery.outbox")


_MIN_RECHECK_SECONDS = 0.01


@dataclass(slots=True)
class _Job:
    """A claimed row while this worker holds it: what to send, and its state (`transitions`)."""

    row: RowState
    thread_id: int | None
    parts: tuple[str, ...]
    edit_message_id: int | None = None
    edit_caption: str | None = None
    photo: PhotoPost | None = None
    link_preview: bool = False

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def chat_id(self) -> int:
        return self.row.chat_id

    @classmethod
    def of(cls, row: ClaimedRow) -> _Job:
        photo = None
        if row.photo_url is not None and row.image_id is not None:
            photo = PhotoPost(row.photo_url, row.image_id, row.report_button or "")
        state = RowState(
            row.id, row.chat_id, len(row.parts), row.next_part, row.step, row.attempts,
            started_at=row.started_at,
        )  # fmt: skip
        return cls(
            state, row.thread_id, row.parts, row.edit_message_id, row.edit_caption, photo,
            row.link_preview,
        )  # fmt: skip

    def progress(self, chat_free_at: float | None = None) -> RowProgress:
        r = self.row
        return RowProgress(
            r.id, r.chat_id, r.next_part, r.status, r.attempts, r.not_before, r.last_error,
            r.started_at, r.finished_at, r.step, chat_free_at,
        )  # fmt: skip


class OutboxWorker:
    """Drains the outbox through a Sender; one per process, several may share a database.

    `db` must be the worker's own connection: it commits on its own schedule. Send slots are
    drawn on `budget_db` (`storage.database.connect_send_budget`), so a draw waits for neither
    the worker's claims and records nor the main database's write lock.
    """

    def __init__(
        self,
        db: Connection,
        sender: Sender,
        events: ChatEvents,
        *,
        settings: OutboxSettings,
        clock: Clock,
        budget_db: Connection,
        worker_id: str | None = None,
        observer: SendObserver | None = None,
    ) -> None:
        self._db = db
        self._observer = observer
        self._sender = sender
        self._events = events
        self._settings = settings
        self._clock = clock
        self.worker_id = worker_id or default_worker_id()
        self._pacer = Pacer(settings.limits, paces_overall=False)
        self._in_flight_limit = InFlightLimit(
            settings.overall_per_second, ceiling=settings.concurrency
        )
        self._slot_freed = asyncio.Event()
        self._db_lock = asyncio.Lock()
        self._budget_db = budget_db
        self._budget_lock = asyncio.Lock()
        self._budget = SharedBudget(
            self._budget_db, self._budget_lock, rate=settings.overall_per_second
        )
        self._due: list[tuple[float, int, _Job]] = []  # heap by monotonic ready time
        self._held = 0
        self._in_flight: dict[int, _Job] = {}
        self._chat_owner: dict[int, int] = {}  # chat -> row sending to it, so rows never interleave
        self._unreachable: dict[int, str] = {}
        self._migrated: dict[int, int] = {}
        self._progress = ProgressRecorder(
            db,
            self._db_lock,
            worker_id=self.worker_id,
            flush_interval_seconds=settings.flush_interval_seconds,
        )
        self._job_ready = asyncio.Event()
        self._rows_wanted = asyncio.Event()
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._telling = 0  # chat events (unreachable, migrated) being handled
        self._tasks: list[asyncio.Task[None]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._last_renewal = 0.0
        self._outages = 0  # pauses in a row that found the Bot API out of reach
        self.delivered = 0  # parts this worker got accepted (for tests and benchmarks)

    @property
    def is_running(self) -> bool:
        """True between start() and stop() or abort()."""
        return bool(self._tasks) and not all(task.done() for task in self._tasks)

    # Lifecycle

    def start(self) -> None:
        """Start claiming, sending and recording in the running event loop."""
        self._tasks = [
            asyncio.create_task(self._feed(), name=f"{self.worker_id}:feed"),
            asyncio.create_task(self._dispatch(), name=f"{self.worker_id}:dispatch"),
            asyncio.create_task(self._progress.run(), name=f"{self.worker_id}:record"),
        ]

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop sending, let requests in flight finish, record them and give back all claims."""
        feed, dispatch, record = self._tasks
        await _cancel(dispatch)
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=grace_seconds)
        await _cancel(feed)
        await _cancel(record)
        for task in self._deliveries:
            task.cancel()
        await self._budget.close()
        async with self._db_lock:
            await self._progress.write_pending()
            await rows_db.release(self._db, worker=self.worker_id)
            await self._db.commit()

    async def abort(self) -> frozenset[int]:
        """Stop at once as a crash would, recording nothing more; return the chats whose last
        send was in flight or not yet recorded (the ones a restart may send to again)."""
        at_risk = {job.chat_id for job in self._in_flight.values()}
        at_risk |= self._progress.unrecorded_chats()
        for task in [*self._tasks, *self._deliveries]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._deliveries, return_exceptions=True)
        await self._budget.close()
        return frozenset(at_risk)

    def wake(self) -> None:
        """New rows were committed: look for them now rather than at the next idle poll."""
        self._rows_wanted.set()

    def chat_reachable(self, chat_id: int) -> None:
        """The chat let the bot back in (unblocked, re-added): send to it again."""
        self._unreachable.pop(chat_id, None)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until this worker holds nothing, finds nothing due and has handled every chat
        event its sends raised (a chat paused as unreachable); raise TimeoutError."""
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        self.wake()
        async with asyncio.timeout(timeout):
            await waiter

    # Claiming

    async def _feed(self) -> None:
        # A restarted worker with the same id takes back its rows at once, not after the lease.
        async with self._db_lock:
            await rows_db.release(self._db, worker=self.worker_id)
            await self._db.commit()
        while True:
            # Cleared before claiming so a wake-up arriving meanwhile is not lost.
            self._rows_wanted.clear()
            waiters, self._drain_waiters = self._drain_waiters, []
            # A row finished during the queries below may free its chat's next row: idle only
            # if nothing was held when they started.
            was_idle = self._held == 0 and self._telling == 0
            is_hungry = self._held <= self._settings.rows_per_claim
            found = await self._claim() if is_hungry else 0
            pause = self._settings.idle_poll_seconds
            if is_hungry and not found:
                # A chat's next row waits for its gap: look again when it ends, not a poll later.
                soon = await self._next_claimable_in()
                pause = pause if soon is None else min(pause, max(soon, _MIN_RECHECK_SECONDS))
            if not found and was_idle and pause >= self._settings.idle_poll_seconds:
                await self._progress.flush()
                _resolve(waiters)
            else:
                self._drain_waiters[:0] = waiters
            await self._renew_leases()
            if not (found and self._held <= self._settings.rows_per_claim):
                await _wait(self._rows_wanted, pause)

    async def _claim(self) -> int:
        now = self._clock().timestamp()
        async with self._db_lock:
            # Rows this worker finished must be on record first: they let their chats' next
            # rows be claimed.
            await self._progress.write_pending()
            claimed = await rows_db.claim(
                self._db,
                worker=self.worker_id,
                now=now,
                lease_until=now + self._settings.lease_seconds,
                limit=self._settings.rows_per_claim,
                real_now=time.time(),
            )
            await self._db.commit()
        ready = asyncio.get_running_loop().time()
        for row in claimed:
            self._held += 1
            self._schedule(_Job.of(row), ready)
        return len(claimed)

    async def _next_claimable_in(self) -> float | None:
        now = self._clock().timestamp()
        async with self._db_lock:
            seconds = await rows_db.next_claimable_in(self._db, now=now, real_now=time.time())
            await self._db.commit()
        return seconds

    async def _renew_leases(self) -> None:
        now = self._clock().timestamp()
        if self._held == 0 or now - self._last_renewal < self._settings.lease_seconds / 3:
            return
        async with self._db_lock:
            lease_until = now + self._settings.lease_seconds
            await rows_db.renew(self._db, worker=self.worker_id, lease_until=lease_until)
            await self._db.commit()
        self._last_renewal = now

    # Sending

    @property
    def budget(self) -> SharedBudget:
        """This process's slots of the bot's overall rate, which replies draw from too."""
        return self._budget

    async def budget_named(self, name: str, *, rate: float) -> SharedBudget:
        """Another shared schedule on this worker's connection, created if new
        (`storage.send_budget`); `close()` it before the worker stops."""
        return await named_budget(self._budget_db, self._budget_lock, name, rate=rate)

    @property
    def in_flight_limit(self) -> int:
        """Requests allowed in flight now (rate × observed round trip, with headroom)."""
        return self._in_flight_limit.value

    async def _dispatch(self) -> None:
        while True:
            while len(self._in_flight) >= self._in_flight_limit.value:
                self._slot_freed.clear()
                await self._slot_freed.wait()
            self._start(await self._next_job())

    async def _next_job(self) -> _Job:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            slot = self._pacer.next_slot(now)
            if slot > now:
                await asyncio.sleep(slot - now)
                continue
            job = self._pop_ready(now)
            if job is not None:
                if await self._shared_slot():
                    return job
                self._schedule(job, loop.time())  # its slot was spent: try the next one
                continue
            self._job_ready.clear()
            await _wait(self._job_ready, self._due[0][0] - now if self._due else None)

    async def _shared_slot(self) -> bool:
        """Wait for this process's next slot of the overall rate; False if it is spent (a 429
        came first, or the loop woke too late for it)."""
        loop = asyncio.get_running_loop()
        # Reserved, not just looked at: a reply of this process cannot take it meanwhile.
        slot = await self._budget.reserve(wanted=lambda: self._ready_count(loop.time()) + 1)
        if slot > loop.time():
            await asyncio.sleep(slot - loop.time())
        if self._budget.is_spent(slot):
            return False
        return self._pacer.next_slot(loop.time()) <= loop.time()

    def _ready_count(self, now: float) -> int:
        return sum(1 for ready_at, _, _ in self._due if ready_at <= now)

    def _pop_ready(self, now: float) -> _Job | None:
        while self._due and self._due[0][0] <= now:
            _, _, job = heapq.heappop(self._due)
            moved_to = self._migrated.get(job.chat_id, job.chat_id)
            job.row = transitions.follow_migration(job.row, moved_to)
            if job.chat_id in self._unreachable:
                reason = self._unreachable[job.chat_id]
                wall_now = self._clock().timestamp()
                self._follow(job, transitions.skip_unreachable(job.row, reason, now=wall_now), now)
                continue
            ready_at = self._pacer.chat_ready_at(job.chat_id)
            if self._chat_owner.get(job.chat_id, job.id) != job.id or ready_at == math.inf:
                # Another row is sending to this chat: look again one interval later (never
                # "now" again: with a zero interval this loop would spin without yielding).
                later = max(self._settings.per_chat_interval_seconds, _MIN_RECHECK_SECONDS)
                self._schedule(job, now + later)
            elif ready_at > now:
                self._schedule(job, ready_at)
            else:
                return job
        return None

    def _start(self, job: _Job) -> None:
        now = asyncio.get_running_loop().time()
        self._pacer.book(job.chat_id, now)
        self._chat_owner[job.chat_id] = job.id
        self._in_flight[job.id] = job
        task = asyncio.create_task(self._deliver(job))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, job: _Job) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            try:
                outcome = await self._request(job)
            except Exception as error:  # a bug in the adapter must not lose the row
                log.exception("sender failed on outbox row %s", job.id)
                outcome = TransientFailure(f"sender error: {error!r}")
            self._in_flight_limit.observe(loop.time() - started)
            if self._observer is not None:
                self._observer(outcome, loop.time() - started)
            del self._in_flight[job.id]
            self._slot_freed.set()
            await self._apply(job, outcome)
        finally:
            if self._in_flight.pop(job.id, None) is not None:  # cancelled mid-request
                self._slot_freed.set()

    def _request(self, job: _Job) -> Awaitable[SendOutcome]:
        step = job.row.step
        if step == STEP_SEND:
            text = job.parts[job.row.next_part]
            if job.photo is not None and job.row.next_part == 0:
                return self._sender.send_photo(
                    job.chat_id, job.photo, caption=text, thread_id=job.thread_id
                )
            if job.link_preview:
                return self._sender.send(
                    job.chat_id, text, thread_id=job.thread_id, link_preview=True
                )
            return self._sender.send(job.chat_id, text, thread_id=job.thread_id)
        message_id = job.edit_message_id
        if message_id is None:
            raise ValueError(f"outbox row {job.id} at step {step!r} has no message id")
        if step == STEP_EDIT:
            caption = job.edit_caption
            return self._sender.edit_to_placeholder(job.chat_id, message_id, caption=caption)
        return self._sender.delete(job.chat_id, message_id)

    async def _apply(self, job: _Job, outcome: SendOutcome) -> None:
        now = asyncio.get_running_loop().time()
        wait = outcome.seconds if isinstance(outcome, FloodWait) else 0.0
        self._pacer.finished(job.chat_id, now, wait=wait)
        if isinstance(outcome, Delivered):
            self.delivered += 1
        if self._joins_outage(outcome, now):
            self._schedule(job, self._pacer.paused_until)
            return
        wall_now = self._clock().timestamp()
        change = transitions.after(
            job.row, outcome, now=wall_now, policy=self._settings.retry, outages=self._outages
        )
        if change.event is not None:
            # Told before the row goes on: a migrated group's schedules and history have moved
            # to its new id by the time its message is sent there.
            await self._announce(change.event)
        self._follow(job, change, now)
        if change.pause_all_seconds and not isinstance(outcome, ApiUnavailable):
            await self._budget.pause(change.pause_all_seconds)  # a 429 binds every process

    def _joins_outage(self, outcome: SendOutcome, now: float) -> bool:
        """Count the pauses in a row that found the Bot API out of reach; True if this answer
        came while every send is paused already, by a request sent before that pause."""
        if not isinstance(outcome, ApiUnavailable):
            self._outages = 0
            return False
        if now < self._pacer.paused_until:
            return True
        self._outages += 1
        return False

    def _follow(self, job: _Job, change: Transition, now: float) -> None:
        """Bring this worker's bookkeeping in line with the row's next state."""
        if change.note is not None:
            log.log(change.note.level, change.note.text)
        if change.pause_all_seconds:
            self._pacer.pause_all(now + change.pause_all_seconds)
        before, job.row = job.row, change.row
        if job.row.is_finished:
            # Other processes give the chat its gap from here (real time, as the pacer's).
            free_at = time.time() + self._settings.limits.gap(job.chat_id)
            self._progress.record(job.progress(chat_free_at=free_at))
        elif job.row != before:
            self._progress.record(job.progress())
        if before.chat_id != job.chat_id and self._chat_owner.get(before.chat_id) == job.id:
            del self._chat_owner[before.chat_id]
        if job.row.is_finished:
            self._release(job)
            return
        ready_at = now + change.retry_in
        chat_ready_at = self._pacer.chat_ready_at(job.chat_id)
        if ready_at < chat_ready_at < math.inf:
            ready_at = chat_ready_at  # spares a wake-up: the pacer would defer it to then
        self._schedule(job, ready_at)

    def _release(self, job: _Job) -> None:
        if self._chat_owner.get(job.chat_id) == job.id:
            del self._chat_owner[job.chat_id]
        self._held -= 1
        if self._held <= self._settings.rows_per_claim:
            self._rows_wanted.set()

    async def _announce(self, event: ChatEvent) -> None:
        # Once per chat and worker: every other row to that chat hears the same answer.
        match event:
            case ChatUnreachable(chat_id, reason) if chat_id not in self._unreachable:
                self._unreachable[chat_id] = reason
                await self._tell(self._events.chat_unreachable(chat_id, reason))
            case ChatMigrated(old_chat_id, new_chat_id) if old_chat_id not in self._migrated:
                self._migrated[old_chat_id] = new_chat_id
                await self._tell(self._events.chat_migrated(old_chat_id, new_chat_id))

    def _schedule(self, job: _Job, ready_at: float) -> None:
        heapq.heappush(self._due, (ready_at, job.id, job))
        self._job_ready.set()

    async def _tell(self, event: Awaitable[None]) -> None:
        self._telling += 1
        try:
            await event
        except Exception:
            log.exception("chat event handler failed")
        finally:
            self._telling -= 1
            self._rows_wanted.set()  # a drain may have waited for this event alone


def default_worker_id() -> str:
    """A claim id no other process uses: host, process id and a few random characters (two
    workers may run in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def _wait(event: asyncio.Event, seconds: float | None) -> None:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
    # arrives as the event fires, and the worker would then never stop.
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _resolve(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
