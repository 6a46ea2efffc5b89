"""A slot's alike schedules served as groups: one digest per group, queued for every member.

`storage.schedules.due_groups` hands a batch of due schedules over grouped by everything their
digest depends on, so the 08:00 slot of a hundred thousand default subscribers is composed a
hundred times (once per batch), not a hundred thousand. A member leaves its group for a
composition of its own when its chat already received one of the candidates, or has a second
schedule in the batch (those are served one after another, so they never repeat an article).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Container, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.models import ChatSettings, DueGroup, DueMember, Schedule
from bot.subscriptions.composition import BulkComposer, DigestRequest
from bot.subscriptions.selection import Digest
from storage import deliveries
from storage.connection import Connection

# One schedule's slot composed on its own: the schedule, its chat, the slot.
Run = tuple[Schedule, ChatSettings, datetime]


# One message for several chats: its parts, and each (outbox key, chat id, thread id).
SharedMessage = tuple[Sequence[str], Sequence[tuple[str, int, int | None]]]


class SharedQueue(Protocol):
    async def enqueue_shared(
        self, messages: Sequence[SharedMessage], *, kind: str
    ) -> list[int]: ...


async def record_deliveries(
    db: Connection, received: Iterable[tuple[Sequence[int], int]], *, at: datetime
) -> None:
    """Record each (article ids, chat id) digest as delivered: one statement per distinct
    list of articles, however many chats got it."""
    by_articles: dict[tuple[int, ...], list[int]] = {}
    for article_ids, chat_id in received:
        if article_ids:
            by_articles.setdefault(tuple(article_ids), []).append(chat_id)
    for article_ids, chat_ids in by_articles.items():
        await deliveries.record_shared(
            db, chat_ids=chat_ids, article_ids=article_ids, kind="digest", at=at
        )


@dataclass(frozen=True, slots=True)
class Share:
    """Members of a group served by one digest (None before composing, or an empty digest
    that is skipped)."""

    group: DueGroup
    slot: datetime
    digest: Digest | None
    members: list[DueMember]

    def serving(self, schedule_ids: Container[int]) -> Share:
        """This share with only the members of these schedules."""
        return Share(
            self.group, self.slot, self.digest, [m for m in self.members if m[0] in schedule_ids]
        )

    def without(self, chat_ids: Collection[int]) -> tuple[Share, list[Run]]:
        """This share less the members of these chats, and those members as runs of their
        own."""
        if not chat_ids:
            return self, []
        kept = [m for m in self.members if m[1] not in chat_ids]
        runs = [member_run(self.group, m, self.slot) for m in self.members if m[1] in chat_ids]
        return Share(self.group, self.slot, self.digest, kept), runs


def slot_key(chat_id: int, schedule_id: int, slot: int) -> str:
    """The outbox key of one schedule's slot (epoch seconds): a re-run of the slot enqueues
    nothing new."""
    return f"digest:{chat_id}:{schedule_id}:{slot}"


def member_run(group: DueGroup, member: DueMember, slot: datetime) -> Run:
    """One member of a group as a run of its own."""
    schedule_id, chat_id, thread_id, created_by, title = member
    schedule = replace(
        group.schedule, id=schedule_id, chat_id=chat_id, thread_id=thread_id,
        created_by=created_by,
    )  # fmt: skip
    assert group.chat is not None  # only runnable groups (a known chat) are served
    return schedule, replace(group.chat, chat_id=chat_id, title=title), slot


def split(runnable: Sequence[tuple[DueGroup, datetime]]) -> tuple[list[Share], list[Run]]:
    """Members served with their group, and runs served alone: every schedule of a chat
    that has more than one in the batch."""
    counts = Counter(m[1] for group, _ in runnable for m in group.members)
    repeated = {chat_id for chat_id, n in counts.items() if n > 1}
    shares, alone = [], []
    for group, slot in runnable:
        share, runs = Share(group, slot, None, list(group.members)).without(repeated)
        alone += runs
        if share.members:
            shares.append(share)
    return shares, alone


class SlotGroups:
    """Composes and queues the digests of a batch's groups."""

    def __init__(self, db: Connection, *, outbox: SharedQueue, composer: BulkComposer) -> None:
        self._db = db
        self._outbox = outbox
        self._composer = composer

    async def compose(
        self, shares: Sequence[Share], now: datetime, username: str | None
    ) -> tuple[list[Share], list[Run]]:
        """Each group's digest, and the runs of members that need their own."""
        if not shares:
            return [], []
        results = await self._composer.compose_shared(
            [DigestRequest(s.group.chat, s.group.schedule, s.group.subscription) for s in shares],
            [[m[1] for m in s.members] for s in shares],
            now=now,
            bot_username=username,
        )
        composed, own = [], []
        for share, (digest, apart) in zip(shares, results, strict=True):
            kept, runs = share.without(apart)
            own += runs
            composed.append(Share(share.group, share.slot, digest, kept.members))
        return composed, own

    async def serve(
        self, shares: Sequence[Share], served: Container[int], now: datetime
    ) -> tuple[int, list[Run]]:
        """Queue each group's digest to its members whose slot was served; return how many
        were queued, and the runs to compose again (their chat received one of the articles
        meanwhile, an instant push). Runs inside the caller's transaction."""
        shares = [share.serving(served) for share in shares if share.digest]
        received = await deliveries.delivered_to(
            self._db,
            chat_ids=[m[1] for s in shares for m in s.members],
            article_ids=sorted({a.id for s in shares for a in s.digest.articles}),
        )
        outdated, sending = [], []
        for share in shares:
            ids = {a.id for a in share.digest.articles}
            gone = (
                {m[1] for m in share.members if not ids.isdisjoint(received.get(m[1], ()))}
                if received
                else ()
            )
            kept, runs = share.without(gone)
            outdated += runs
            sending.append(kept)
        return await self._queue(sending, now), outdated

    async def _queue(self, shares: Sequence[Share], now: datetime) -> int:
        """Queue each share's digest to its members, all in one statement; record what
        they received."""
        messages = [
            (share.digest.parts, [(slot_key(m[1], m[0], at), m[1], m[2]) for m in share.members])
            for share in shares
            if share.digest and share.members
            for at in [int(share.slot.timestamp())]
        ]
        added = set(await self._outbox.enqueue_shared(messages, kind="digest"))
        await record_deliveries(
            self._db,
            (
                ([a.id for a in share.digest.articles], m[1])
                for share in shares
                if share.digest
                for m in share.members
                if m[1] in added
            ),
            at=now,
        )
        return len(added)
