from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from bot import formatting
from bot.config import DigestConfig
from bot.errors import UnknownChat
from bot.i18n.catalogs import Catalogs
from bot.i18n.languages import chat_zone
from bot.models import (
    Article,
    ChatSettings,
    DueGroup,
    KeywordFilters,
    OutgoingMessage,
    Schedule,
)
from bot.subscriptions.composition import BulkComposer, DigestRequest
from bot.subscriptions.rules import SlotCheck, check_slot, due_slot
from bot.subscriptions.selection import (
    CANDIDATE_WINDOW,
    Digest,
    candidate_window,
    select_articles,
)
from bot.subscriptions.slot_groups import (
    Run,
    Share,
    SharedQueue,
    SlotGroups,
    record_deliveries,
    slot_key,
    split,
)
from storage import bot_settings, chats, deliveries, digest_queries, schedules, subscriptions
from storage.connection import Connection
from storage.database import transaction

__all__ = ["CANDIDATE_WINDOW", "Digest", "DigestService", "digest_key", "select_articles"]

log = logging.getLogger(__name__)

BOT_USERNAME = "bot_username"
TARGET_BATCH = 200
# Schedules claimed and composed per transaction: large enough to share work between alike
# chats (each batch costs its own reads, statements and event-loop turns, while the outbox
# worker sends), small enough that handlers waiting to write are not held long: a batch of
# 10,000 alike digests holds the write lock for about 0.3 s on a slow 2-core machine.
SLOT_BATCH = 10000
# At most this many groups (compositions) per batch: in a slot where every subscriber has
# filters of their own, each schedule is a group composed on its own, and 10,000 of them
# would hold the write lock (and the first digest) for seconds.
GROUPS_PER_BATCH = 1000
# Group members served per transaction: the write lock, which handlers' writes and the outbox
# worker's send-slot draws wait for, is held for one chunk at a time (about 60 ms), not for
# a whole batch. Each chunk claims its own schedules with its rows, so a crash between
# chunks leaves the rest due.
SERVE_CHUNK = 2500


class SlotRun(NamedTuple):
    """One batch of a slot: schedules claimed, digests queued, and whether more may be due."""

    claimed: int
    queued: int
    more: bool


class MessageQueue(SharedQueue, Protocol):
    async def enqueue(self, messages: Iterable[OutgoingMessage]) -> int: ...


def digest_key(chat_id: int, schedule_id: int, slot: datetime) -> str:
    """The outbox key of one schedule's slot: a re-run of the slot enqueues nothing new."""
    return slot_key(chat_id, schedule_id, int(slot.timestamp()))


@dataclass(frozen=True, slots=True)
class _Composed:
    """A batch of runs split into rounds (each chat once per round), the first composed."""

    newest: int  # the newest article when composing began: each run's new position
    username: str | None
    rounds: list[list[Run]]
    first: list[tuple[Run, Digest, str]]


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _claims(
    groups: Sequence[DueGroup], checks: Sequence[SlotCheck], shares: Sequence[Share]
) -> tuple[list[tuple[int, int | None, int | None]], list[tuple[int, int | None, int | None, int]]]:
    """What the batch claims: (id, seen next fire time, new one) of the schedules served
    alone or not at all, and the same with the slot epoch for those served in groups."""
    times = {
        id(group): (group.schedule.next_fire_at, _epoch(check.next_fire))
        for group, check in zip(groups, checks, strict=True)
    }
    in_shares = {m[0] for share in shares for m in share.members}
    moves = [
        (m[0], *times[id(group)])
        for group in groups
        for m in group.members
        if m[0] not in in_shares
    ]
    serving = [
        (m[0], *times[id(share.group)], slot)
        for share in shares
        for slot in [int(share.slot.timestamp())]
        for m in share.members
    ]
    return moves, serving


def _one_per_chat(runs: Sequence[Run]) -> list[list[Run]]:
    """Split runs into rounds with each chat at most once: a chat's second schedule of the
    same minute is composed after the first is recorded, so it never repeats an article."""
    rounds: list[list[Run]] = []
    seen: dict[int, int] = {}
    for run in runs:
        n = seen[run[1].chat_id] = seen.get(run[1].chat_id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(run)
    return rounds


class DigestService:
    """Composes digests for chats and queues them in the outbox with their deliveries."""

    def __init__(
        self,
        db: Connection,
        *,
        outbox: MessageQueue,
        catalogs: Catalogs,
        settings: DigestConfig,
        default_tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._catalogs = catalogs
        self._settings = settings
        self._default_tz = default_tz
        self._clock = clock
        self._composer = BulkComposer(
            db, catalogs=catalogs, settings=settings, default_tz=default_tz
        )
        self._groups = SlotGroups(db, outbox=outbox, composer=self._composer)
        self.batch_size = SLOT_BATCH
        self._read_limit = SLOT_BATCH  # lower after a batch of small groups

    def zone(self, chat: ChatSettings | None) -> ZoneInfo:
        return chat_zone(chat, self._default_tz)

    async def zone_of(self, chat_id: int) -> ZoneInfo:
        """The time zone a chat's digests follow."""
        return self.zone(await chats.get(self._db, chat_id))

    async def remember_bot_username(self, username: str) -> None:
        """Keep the bot's username so digests written by the CLI link to the right bot."""
        async with transaction(self._db):
            await bot_settings.put(self._db, BOT_USERNAME, username)

    def is_missed(self, schedule: Schedule, tz: ZoneInfo) -> bool:
        """True when a slot within the grace period has not been served (after downtime)."""
        slot = due_slot(schedule.rule, tz, now=self._clock(), grace=self._settings.misfire_grace)
        return slot is not None and (schedule.last_slot is None or slot > schedule.last_slot)

    async def next_due(self) -> datetime | None:
        """The earliest next fire time of any schedule (the scheduler loop sleeps until it)."""
        return await schedules.next_due(self._db)

    async def run_due(self, now: datetime) -> SlotRun:
        """Claim one batch of schedules due at `now`, queue their slots' digests and store each
        one's next fire time.

        The claim moves each row's next fire time only if it still holds the value read, in
        the transaction that queues the digests: a second process reading the same rows
        claims none of them, and a crash leaves the rows due for the next run. Reading and
        composing come before that transaction, so handlers keep writing meanwhile and the
        database's write lock (which the outbox worker's sends wait on under SQLite) is held
        only to write rows.

        Alike schedules (every subscriber's default 08:00) come as one group: one digest is
        composed for the group and queued for each member in one statement. A member whose
        chat received one of the candidates, or has a second schedule in the batch, is
        composed on its own.
        """
        limit = min(self._read_limit, self.batch_size)
        groups = await schedules.due_groups(
            self._db, now=now, limit=limit, max_groups=GROUPS_PER_BATCH
        )
        read = sum(len(group.members) for group in groups)
        cut = len(groups) == GROUPS_PER_BATCH
        # Small groups: next time read about what a batch composes, not ten times as many.
        self._read_limit = max(GROUPS_PER_BATCH, 2 * read) if cut else SLOT_BATCH
        if not groups:
            return SlotRun(0, 0, more=False)
        checks = self._checks(groups, now)
        runnable = [
            (g, check.slot)
            for g, check in zip(groups, checks, strict=True)
            if self._is_runnable(g.schedule, g.chat, check)
        ]
        shares, alone = split(runnable)
        username = await bot_settings.get(self._db, BOT_USERNAME)
        shares, own = await self._groups.compose(shares, now, username)
        composed = await self._compose_first_round([*alone, *own], now, username)
        moves, serving = _claims(groups, checks, shares)
        queued = 0
        if moves:
            async with transaction(self._db):
                claimed = await schedules.claim(self._db, moves)
                queued += len(await self._serve(composed, now, claimed=claimed))
        for start in range(0, len(serving), SERVE_CHUNK):
            chunk = serving[start : start + SERVE_CHUNK]
            async with transaction(self._db):
                served = await schedules.claim_and_serve(
                    self._db, chunk, last_article_id=composed.newest
                )
                queued += await self._serve_shares(shares, served, now, username)
        return SlotRun(len(moves) + len(serving), queued, more=cut or read == limit)

    async def _serve_shares(
        self, shares: Sequence[Share], served: Container[int], now: datetime, username: str | None
    ) -> int:
        """Queue the groups' digests to the members of `served` schedules; members whose chat
        received one of the articles meanwhile get a digest of their own. Runs inside the
        caller's transaction."""
        queued, outdated = await self._groups.serve(shares, served, now)
        done = await self._compose_round(outdated, now, username) if outdated else []
        return queued + len(await self._queue_many([(d, key) for _, d, key in done], now))

    def _checks(self, groups: Sequence[DueGroup], now: datetime) -> list[SlotCheck]:
        # Groups alike but for their chat's state share one computation.
        grace = self._settings.misfire_grace
        memo: dict[tuple[object, ...], SlotCheck] = {}
        checks = []
        for group in groups:
            schedule = group.schedule
            tz = self.zone(group.chat)
            key = (schedule.rule, tz.key, schedule.next_fire_at)
            if key not in memo:
                since = schedule.next_fire_at or None  # 0: never computed (catch up once)
                memo[key] = check_slot(
                    schedule.rule, tz, now=now, grace=grace,
                    since=None if since is None else datetime.fromtimestamp(since, now.tzinfo),
                )  # fmt: skip
            checks.append(memo[key])
        return checks

    @staticmethod
    def _is_runnable(schedule: Schedule, chat: ChatSettings | None, check: SlotCheck) -> bool:
        if schedule.is_paused or chat is None or not chat.is_active or check.slot is None:
            return False
        return schedule.last_slot is None or check.slot > schedule.last_slot

    async def _compose_first_round(
        self, runs: Sequence[Run], now: datetime, username: str | None
    ) -> _Composed:
        """Compose the runs' first round (each chat once). A chat's later runs in the same
        batch wait for `_serve`, so they see what its first run delivers."""
        newest = await digest_queries.newest_id(self._db)
        rounds = _one_per_chat(runs)
        first = await self._compose_round(rounds[0], now, username) if rounds else []
        return _Composed(newest, username, rounds, first)

    async def _serve(
        self, composed: _Composed, now: datetime, *, claimed: Container[int] | None = None
    ) -> list[Digest]:
        """Record each run's slot and queue its digest (only runs of `claimed` schedules, when
        given); return those queued. Runs inside the caller's transaction: slots, outbox rows
        and deliveries are committed together."""
        runs = [run for round_ in composed.rounds for run in round_]
        if claimed is not None:
            runs = [run for run in runs if run[0].id in claimed]
        if not runs:
            return []
        served = await schedules.record_runs(
            self._db, [(s.id, int(slot.timestamp()), composed.newest) for s, _, slot in runs]
        )
        # Served meanwhile (a second process, a re-run): nothing again.
        first = [item for item in composed.first if item[0][0].id in served]
        first, outdated = await self._still_new(first)
        queued = await self._queue_many([(digest, key) for _, digest, key in first], now)
        for round_ in (outdated, *composed.rounds[1:]):
            round_ = [run for run in round_ if run[0].id in served]
            if not round_:
                continue
            done = await self._compose_round(round_, now, composed.username)
            queued += await self._queue_many([(digest, key) for _, digest, key in done], now)
        return queued

    async def _still_new(
        self, composed: list[tuple[Run, Digest, str]]
    ) -> tuple[list[tuple[Run, Digest, str]], list[Run]]:
        """Split digests composed before the transaction into those still new to their chat
        and the runs to compose again: a chat that received one of the articles meanwhile
        (an instant push) must not get it twice."""
        chat_ids = [digest.chat_id for _, digest, _ in composed]
        article_ids = sorted({a.id for _, digest, _ in composed for a in digest.articles})
        received = await deliveries.delivered_to(
            self._db, chat_ids=chat_ids, article_ids=article_ids
        )
        if not received:
            return composed, []
        fresh, outdated = [], []
        for item in composed:
            got = received.get(item[1].chat_id, ())
            if any(a.id in got for a in item[1].articles):
                outdated.append(item[0])
            else:
                fresh.append(item)
        return fresh, outdated

    async def _compose_round(
        self, runs: Sequence[Run], now: datetime, username: str | None
    ) -> list[tuple[Run, Digest, str]]:
        """Each run's digest and outbox key; runs with nothing to send are left out (their
        slot is still served: nothing new is nothing to resend)."""
        found = await subscriptions.many(self._db, [chat.chat_id for _, chat, _ in runs])
        requests = [DigestRequest(chat, s, found.get(chat.chat_id)) for s, chat, _ in runs]
        digests = await self._composer.compose(requests, now=now, bot_username=username)
        return [
            ((s, chat, slot), digest, digest_key(chat.chat_id, s.id, slot))
            for (s, chat, slot), digest in zip(runs, digests, strict=True)
            if digest is not None
        ]

    async def run_schedule(self, schedule_id: int) -> Digest | None:
        """Queue the digest of the slot due now, once; None when nothing was queued."""
        now = self._clock()
        async with transaction(self._db):
            schedule = await schedules.get(self._db, schedule_id)
            if schedule is None:
                return None
            chat = await chats.get(self._db, schedule.chat_id)
            slot = due_slot(
                schedule.rule, self.zone(chat), now=now, grace=self._settings.misfire_grace
            )
            if not self._is_runnable(schedule, chat, SlotCheck(slot, None)):
                return None
            username = await bot_settings.get(self._db, BOT_USERNAME)
            composed = await self._compose_first_round([(schedule, chat, slot)], now, username)
            queued = await self._serve(composed, now)
        return queued[0] if queued else None

    async def preview(self, chat_id: int, schedule: Schedule | None) -> Digest | None:
        """The digest the chat would get now, written nowhere."""
        chat = await chats.get(self._db, chat_id)
        if chat is None:
            return None
        return await self._compose(chat, schedule, self._clock())

    async def send_now(self, chat_id: int | None = None) -> int:
        """Queue a digest now for one chat or every subscribed or scheduled chat; return how
        many were queued. Chats are composed in batches, so memory does not grow with them.
        Raise UnknownChat for a chat the bot has never seen."""
        if chat_id is not None:
            await self._check_known(chat_id)
            async with transaction(self._db):
                return await self._send_now_to([chat_id])
        queued, after = 0, None
        while True:
            async with transaction(self._db):
                batch = await chats.digest_targets(self._db, after=after, batch=TARGET_BATCH)
                if not batch:
                    return queued
                queued += await self._send_now_to(batch)
            after = batch[-1]

    async def _check_known(self, chat_id: int) -> None:
        if await chats.get(self._db, chat_id) is None:
            raise UnknownChat(f"chat {chat_id} is unknown: the bot has had no message from it")

    async def _send_now_to(self, chat_ids: Sequence[int]) -> int:
        # Runs inside the caller's transaction.
        now = self._clock()
        found = await chats.many(self._db, chat_ids)
        active = [found[c] for c in chat_ids if c in found and found[c].is_active]
        subs = await subscriptions.many(self._db, [c.chat_id for c in active])
        running = await schedules.first_running(self._db, [c.chat_id for c in active])
        requests = [DigestRequest(c, running.get(c.chat_id), subs.get(c.chat_id)) for c in active]
        username = await bot_settings.get(self._db, BOT_USERNAME)
        digests = await self._composer.compose(requests, now=now, bot_username=username)
        keyed = [(d, self._now_key(d, now)) for d in digests if d is not None]
        return len(await self._queue_many(keyed, now))

    @staticmethod
    def _now_key(digest: Digest, now: datetime) -> str:
        # Keyed by content, not time: two quick runs never collide, and a digest is never
        # queued twice (its articles are recorded as delivered with it).
        newest = max((a.id for a in digest.articles), default=int(now.timestamp()))
        return f"digest:{digest.chat_id}:now:{newest}"

    async def _compose(
        self, chat: ChatSettings, schedule: Schedule | None, now: datetime
    ) -> Digest | None:
        subscription = await subscriptions.get(self._db, chat.chat_id)
        topics = (schedule.topics if schedule else ()) or (
            subscription.topics if subscription else ()
        )
        since, horizon = candidate_window(now, self._settings.first_digest_hours)
        candidates = await digest_queries.undelivered(
            self._db,
            chat_id=chat.chat_id,
            after_id=schedule.last_article_id if schedule else None,
            fetched_since=since,
            not_before=horizon,
            topics=topics,
            limit=CANDIDATE_WINDOW,
        )
        chosen = select_articles(
            candidates,
            filters=subscription.filters if subscription else KeywordFilters(),
            per_source=self._settings.max_per_source,
            count=schedule.item_count if schedule else self._settings.default_count,
        )
        return await self._layout(chat, schedule, chosen, now)

    async def _layout(
        self, chat: ChatSettings, schedule: Schedule | None, chosen: list[Article], now: datetime
    ) -> Digest | None:
        t = self._catalogs.texts(chat.language)
        tz = self.zone(chat)
        thread_id = schedule.thread_id if schedule else None
        if chosen:
            username = await bot_settings.get(self._db, BOT_USERNAME)
            parts = formatting.digest_parts(t, chosen, moment=now, tz=tz, bot_username=username)
        elif self._settings.empty == "note":
            parts = [formatting.digest_empty(t, moment=now, tz=tz)]
        else:
            return None
        return Digest(chat.chat_id, thread_id, tuple(chosen), tuple(parts))

    async def _queue_many(self, keyed: Sequence[tuple[Digest, str]], now: datetime) -> list[Digest]:
        # Runs inside the caller's transaction: the outbox rows, the deliveries and the
        # schedules' slots are committed together, so a crash cannot record one without the
        # others. A key queued before (a slot re-run) adds nothing and records nothing.
        if not keyed:
            return []
        already = await digest_queries.queued_keys(self._db, [key for _, key in keyed])
        fresh = [(d, key) for d, key in keyed if key not in already]
        await self._outbox.enqueue(
            OutgoingMessage(key, d.chat_id, d.parts, d.thread_id, "digest") for d, key in fresh
        )
        await record_deliveries(
            self._db, (([a.id for a in d.articles], d.chat_id) for d, _ in fresh), at=now
        )
        log.info("%s digests queued", len(fresh))
        return [d for d, _ in fresh]
