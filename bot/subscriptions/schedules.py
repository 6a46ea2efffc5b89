"""Schedules made by admins of groups and channels: created, listed, removed, checked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiosqlite import Connection

from bot.config import DigestConfig
from bot.errors import BotCannotPost, NotChatAdmin, ScheduleNotFound, TooManySchedules
from bot.models import ChatRights, Schedule, TargetChat
from bot.subscriptions.rules import ScheduleRequest
from storage import admin_targets, chats, schedules
from storage.database import transaction


def check_rights(rights: ChatRights) -> None:
    """Refuse with the reason when the person is no admin or the bot may not post."""
    if not rights.is_admin:
        raise NotChatAdmin()
    if not rights.bot_may_post:
        raise BotCannotPost()


class ScheduleService:
    """Digest schedules of groups, forum topics and channels."""

    def __init__(
        self, db: Connection, *, settings: DigestConfig, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

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
        """Store a schedule for `target` after checking rights; raise TooManySchedules."""
        check_rights(rights)
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
            )
            return await schedules.get(self._db, schedule_id)

    async def of_chat(self, chat_id: int) -> list[Schedule]:
        """The chat's schedules; their 1-based position is the number /unschedule takes."""
        return await schedules.of_chat(self._db, chat_id=chat_id)

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

    async def known_chat(self, chat_id: int) -> TargetChat | None:
        """A chat the bot has seen, or None."""
        chat = await chats.get(self._db, chat_id)
        return None if chat is None else TargetChat(chat.chat_id, chat.type, chat.title)

    async def all_schedules(self) -> list[Schedule]:
        return await schedules.all_schedules(self._db)
