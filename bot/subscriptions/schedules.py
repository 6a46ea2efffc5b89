"""Schedules made by admins of groups and channels: created, listed, removed, checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import DigestConfig
from bot.errors import BotCannotPost, NotChatAdmin, ScheduleNotFound, TooManySchedules
from bot.i18n.languages import chat_zone
from bot.models import ChatRights, Schedule, ScheduleRule, TargetChat
from bot.reading.topics import Topics
from bot.subscriptions.rules import ScheduleRequest, next_fire
from storage import admin_targets, chats, schedules
from storage.connection import Connection
from storage.database import transaction


class ScheduleChanges:
    """Told when a schedule's next fire time moved, so the scheduler loop looks again (wakes).

    Services get one and call `changed()` after committing; the loop listens. Nothing else
    keeps the scheduler in step: the rows are the schedule.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in self._listeners:
            listener()


async def zone_of_chat(db: Connection, chat_id: int, *, default: ZoneInfo) -> ZoneInfo:
    """The time zone a chat's schedules follow."""
    return chat_zone(await chats.get(db, chat_id), default)


async def next_fire_in_chat(
    db: Connection, chat_id: int, rule: ScheduleRule, *, default_tz: ZoneInfo, now: datetime
) -> datetime | None:
    """When a rule made or changed at `now` first fires in the chat's time zone."""
    return next_fire(rule, await zone_of_chat(db, chat_id, default=default_tz), after=now)


def check_rights(rights: ChatRights) -> None:
    """Refuse with the reason when the person is no admin or the bot may not post."""
    if not rights.is_admin:
        raise NotChatAdmin()
    if not rights.bot_may_post:
        raise BotCannotPost()


class ScheduleService:
    """Digest schedules of groups, forum topics and channels."""

    def __init__(
        self,
        db: Connection,
        *,
        settings: DigestConfig,
        clock: Callable[[], datetime],
        default_tz: ZoneInfo,
        changes: ScheduleChanges | None = None,
        topics: Topics | None = None,
    ) -> None:
        self._db = db
        self._topics = topics
        self._settings = settings
        self._clock = clock
        self._default_tz = default_tz
        self._changes = changes or ScheduleChanges()

    async def create(
        self,
        target: TargetChat,
        request: ScheduleRequest,
        *,
        rights: ChatRights,
        user_id: int,
        thread_id: int | None,
        language: str,
    ) -> Schedule:
        """Store a schedule for `target` after checking rights; raise TooManySchedules, or
        UnknownTopic when a topic word names none."""
        check_rights(rights)
        if self._topics is not None:
            request = replace(request, topics=await self._topics.resolve_all(request.topics))
        now = self._clock()
        chat_id = target.chat_id
        async with transaction(self._db):
            await chats.remember(self._db, chat_id, type=target.type, title=target.title, at=now)
            await chats.set_active(self._db, chat_id, is_active=True)
            if await chats.language(self._db, chat_id) is None:
                await chats.set_language(self._db, chat_id, language)
            existing = await schedules.of_chat(self._db, chat_id=chat_id)
            if len(existing) >= self._settings.max_schedules_per_chat:
                raise TooManySchedules(len(existing))
            schedule_id = await schedules.add(
                self._db,
                chat_id=chat_id,
                rule=request.rule,
                item_count=request.count or self._settings.default_count,
                thread_id=thread_id,
                topics=request.topics,
                created_by=user_id,
                at=now,
                next_fire_at=await next_fire_in_chat(
                    self._db, chat_id, request.rule, default_tz=self._default_tz, now=now
                ),
            )
            created = await schedules.get(self._db, schedule_id)
        self._changes.changed()
        return created

    async def of_chat(self, chat_id: int) -> list[Schedule]:
        """The chat's schedules; their 1-based position is the number /unschedule takes."""
        return await schedules.of_chat(self._db, chat_id=chat_id)

    async def number_of(self, schedule: Schedule) -> int:
        """The 1-based position of a schedule in its chat's list: what /unschedule takes."""
        found = await schedules.of_chat(self._db, chat_id=schedule.chat_id)
        return [s.id for s in found].index(schedule.id) + 1

    async def numbered(self, chat_id: int, number: int) -> Schedule:
        """The chat's schedule at this 1-based position; raise ScheduleNotFound."""
        found = await schedules.of_chat(self._db, chat_id=chat_id)
        if not 1 <= number <= len(found):
            raise ScheduleNotFound(number)
        return found[number - 1]

    async def remove(self, chat_id: int, number: int, *, rights: ChatRights) -> Schedule:
        """Remove the chat's schedule number `number` after checking the person is an admin."""
        if not rights.is_admin:
            raise NotChatAdmin()
        async with transaction(self._db):
            schedule = await self.numbered(chat_id, number)
            await schedules.delete(self._db, schedule.id)
        return schedule

    async def choose_channel(
        self, user_chat_id: int, target: TargetChat, *, rights: ChatRights
    ) -> None:
        """Remember the channel an admin manages from their private chat."""
        check_rights(rights)
        now = self._clock()
        async with transaction(self._db):
            await chats.remember(
                self._db, target.chat_id, type=target.type, title=target.title, at=now
            )
            await admin_targets.choose(
                self._db, user_chat_id=user_chat_id, target_chat_id=target.chat_id, at=now
            )

    async def chosen_channel(self, user_chat_id: int) -> int | None:
        return await admin_targets.chosen(self._db, user_chat_id=user_chat_id)

    async def channels_of(self, user_id: int) -> list[str]:
        """The titles of the channels this person scheduled digests for."""
        found = await schedules.channels_created_by(self._db, user_id=user_id)
        return [title or str(chat_id) for chat_id, title in found]

    async def known_chat(self, chat_id: int) -> TargetChat | None:
        """A chat the bot has seen, or None."""
        chat = await chats.get(self._db, chat_id)
        return None if chat is None else TargetChat(chat.chat_id, chat.type, chat.title)
