"""Subscribers' choices (topics, instant topics, filters, time zone, digest times), and what
happens to a chat's schedules when Telegram says it is unreachable or has moved."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot import formatting
from bot.config import Config
from bot.errors import NotSubscribed, UnknownTimeZone, UnknownTopic
from bot.i18n.catalogs import Catalogs
from bot.i18n.languages import chat_zone
from bot.models import (
    ChatSettings,
    KeywordFilters,
    OutgoingMessage,
    Schedule,
    ScheduleRule,
    SettingsView,
    Subscription,
    UnreachableReason,
)
from bot.reading.topics import TopicPage, Topics, page_of_topics
from bot.subscriptions import keyword_filters
from bot.subscriptions.digests import MessageQueue
from bot.subscriptions.rules import next_fire, parse_times
from bot.subscriptions.schedules import ScheduleChanges, next_fire_in_chat, zone_of_chat
from storage import admin_targets, autopost_rules, chats, deliveries, schedules, subscriptions
from storage.connection import Connection
from storage.database import transaction

log = logging.getLogger(__name__)

PAUSED_UNREACHABLE = "unreachable"
# Topics per page of the /topics keyboard: two buttons each, far below Telegram's 100.
TOPICS_PER_PAGE = 10


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """A schedule created or changed, and the ids of schedules removed."""

    schedule: Schedule | None = None
    removed: tuple[int, ...] = ()


@cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def canonical_zone(name: str) -> str:
    """The IANA name as zoneinfo spells it (`africa/casablanca` → `Africa/Casablanca`)."""
    found = _zones_by_folded_name().get(name.strip().casefold())
    if found is None:
        raise UnknownTimeZone(name)
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(name) from None
    return found


class SubscriptionService:
    """Subscriptions of private chats; also the ChatEvents the broadcast engine reports to."""

    def __init__(
        self,
        db: Connection,
        *,
        outbox: MessageQueue,
        catalogs: Catalogs,
        config: Config,
        clock: Callable[[], datetime],
        changes: ScheduleChanges | None = None,
        topics: Topics | None = None,
    ) -> None:
        self._db = db
        self._topics = topics or Topics(
            db, catalogs=catalogs, configured=[t for s in config.sources for t in s.topics]
        )
        self._outbox = outbox
        self._catalogs = catalogs
        self._config = config
        self._clock = clock
        self._changes = changes or ScheduleChanges()

    async def subscribe(
        self, chat_id: int, topics: Sequence[str], *, language: str
    ) -> ScheduleChange:
        """Subscribe (adding `topics`, named in any language); a new subscriber gets the
        default digest times. Raise UnknownTopic when a word names no topic."""
        topics = await self._topics.resolve_all(topics)
        async with transaction(self._db):
            await self._remember_language(chat_id, language)
            await subscriptions.create(self._db, chat_id, at=self._clock())
            current = await subscriptions.get(self._db, chat_id)
            wanted = tuple(dict.fromkeys([*current.topics, *topics]))
            await subscriptions.save(self._db, replace(current, topics=wanted))
            created = None
            if not await schedules.of_chat(self._db, chat_id=chat_id):
                rule = ScheduleRule(times=parse_times(list(self._config.digests.default_times)))
                created = await self._add_own_schedule(chat_id, rule)
        if created is not None:
            self._changes.changed()
        return ScheduleChange(created)

    async def _remember_language(self, chat_id: int, language: str) -> None:
        # Digests are written without an update to guess from: keep the language seen now.
        if await chats.language(self._db, chat_id) is None:
            await chats.set_language(self._db, chat_id, language)

    async def _add_own_schedule(self, chat_id: int, rule: ScheduleRule) -> Schedule:
        now = self._clock()
        schedule_id = await schedules.add(
            self._db, chat_id=chat_id, rule=rule, item_count=self._config.digests.default_count,
            thread_id=None, topics=(), created_by=chat_id, at=now,
            next_fire_at=await self._next_fire(chat_id, rule, now),
        )  # fmt: skip
        return await schedules.get(self._db, schedule_id)

    async def _next_fire(self, chat_id: int, rule: ScheduleRule, now: datetime):
        return await next_fire_in_chat(
            self._db, chat_id, rule, default_tz=self._config.bot.tz, now=now
        )

    async def unsubscribe(self, chat_id: int) -> ScheduleChange:
        """Forget the subscription and the chat's own digest times."""
        async with transaction(self._db):
            was_subscribed = await subscriptions.delete(self._db, chat_id)
            removed = await schedules.delete_of_chat(self._db, chat_id=chat_id)
        if not was_subscribed:
            raise NotSubscribed(chat_id)
        return ScheduleChange(removed=tuple(removed))

    async def subscription(self, chat_id: int) -> Subscription | None:
        return await subscriptions.get(self._db, chat_id)

    async def available_topics(self, chat_id: int) -> list[str]:
        """Every topic the chat can pick, in a stable order: the most used first, then the
        configured ones without articles, then any the chat chose that no longer exist."""
        own = await subscriptions.get(self._db, chat_id)
        chosen = [*own.topics, *own.instant_topics] if own else []
        return list(dict.fromkeys([*await self._topics.known(), *chosen]))

    async def topics_page(
        self, chat_id: int, *, number: int = 1, containing: str | None = None
    ) -> TopicPage:
        """One page of the chat's topic keyboard (or the page holding `containing`)."""
        every = await self.available_topics(chat_id)
        return page_of_topics(every, size=TOPICS_PER_PAGE, number=number, containing=containing)

    async def toggle_topic(self, chat_id: int, topic: str, *, instant: bool = False):
        """Add or remove a topic (or its instant pushes); raise NotSubscribed, or UnknownTopic
        when the topic to add is none of the known ones (a forged or outdated button)."""
        current = await subscriptions.get(self._db, chat_id)
        chosen = (*current.topics, *current.instant_topics) if current else ()
        if topic.casefold() not in chosen and topic not in await self._topics.known():
            raise UnknownTopic(topic[:60], tuple(await self._topics.known()))
        async with transaction(self._db):
            current = await subscriptions.get(self._db, chat_id)
            if current is None:
                raise NotSubscribed(chat_id)
            if instant:
                changed = replace(current, instant_topics=_toggle(current.instant_topics, topic))
            else:
                changed = replace(current, topics=_toggle(current.topics, topic))
            await subscriptions.save(self._db, changed)
        return changed

    async def update_filters(self, chat_id: int, words: Sequence[str]) -> KeywordFilters:
        """Apply `+word -word` to the chat's filters; return them."""
        async with transaction(self._db):
            current = await subscriptions.get(self._db, chat_id)
            if current is None:
                raise NotSubscribed(chat_id)
            filters = keyword_filters.parse(words, current.filters)
            await subscriptions.save(self._db, replace(current, filters=filters))
        return filters

    async def clear_filters(self, chat_id: int) -> None:
        async with transaction(self._db):
            current = await subscriptions.get(self._db, chat_id)
            if current is not None:
                await subscriptions.save(self._db, replace(current, filters=KeywordFilters()))

    async def set_digest_times(self, chat_id: int, words: Sequence[str]) -> ScheduleChange:
        """Set the private chat's daily digest times (raise BadSchedule); subscribes if needed."""
        rule = ScheduleRule(times=parse_times(list(words)))
        async with transaction(self._db):
            if await subscriptions.get(self._db, chat_id) is None:
                raise NotSubscribed(chat_id)
            own = await schedules.of_chat(self._db, chat_id=chat_id)
            if own:
                now = self._clock()
                await schedules.set_rule(
                    self._db, own[0].id, rule, at=now,
                    next_fire_at=await self._next_fire(chat_id, rule, now),
                )  # fmt: skip
                extra = tuple(s.id for s in own[1:])
                for schedule_id in extra:
                    await schedules.delete(self._db, schedule_id)
                changed = await schedules.get(self._db, own[0].id)
            else:
                changed, extra = await self._add_own_schedule(chat_id, rule), ()
        self._changes.changed()
        return ScheduleChange(changed, extra)

    async def set_timezone(self, chat_id: int, name: str) -> str:
        """Store the chat's time zone; return its canonical name (raise UnknownTimeZone)."""
        zone = canonical_zone(name)
        now = self._clock()
        async with transaction(self._db):
            await chats.set_timezone(self._db, chat_id, zone)
            tz = await zone_of_chat(self._db, chat_id, default=self._config.bot.tz)
            moves = {
                s.id: next_fire(s.rule, tz, after=now)
                for s in await schedules.of_chat(self._db, chat_id=chat_id)
            }
            await schedules.set_next_fire(self._db, moves, at=now)
        self._changes.changed()
        return zone

    async def settings(self, chat_id: int) -> SettingsView:
        chat = await chats.get(self._db, chat_id)
        return SettingsView(
            subscription=await subscriptions.get(self._db, chat_id),
            schedules=tuple(await schedules.of_chat(self._db, chat_id=chat_id)),
            timezone=chat_zone(chat, self._config.bot.tz).key,
            language=(chat and chat.language) or self._catalogs.default_language,
        )

    # ChatEvents, called by the broadcast engine (and by my_chat_member updates).

    async def chat_unreachable(self, chat_id: int, reason: UnreachableReason) -> None:
        """Pause the chat's schedules, mark it inactive and tell the admins who made them."""
        async with transaction(self._db):
            paused = await schedules.pause_chat(
                self._db, chat_id=chat_id, reason=PAUSED_UNREACHABLE
            )
            # Auto-posting rules pause with the schedules, and their admins are told alike.
            paused_rules = await autopost_rules.pause_chat(
                self._db, chat_id=chat_id, reason=PAUSED_UNREACHABLE
            )
            await chats.set_active(self._db, chat_id, is_active=False)
            chat = await chats.get(self._db, chat_id)
            makers = [s.created_by for s in paused] + [r.created_by for r in paused_rules]
            admins = {admin for admin in makers if admin and admin != chat_id}
            posters = {r.created_by for r in paused_rules}
            now = int(self._clock().timestamp())
            notices = [
                await self._pause_notice(admin, chat, reason, now, autopost=admin in posters)
                for admin in sorted(admins)
            ]
            if notices:
                await self._outbox.enqueue(notices)
        log.info("chat %s unreachable (%s): %s schedules paused", chat_id, reason, len(paused))

    async def _pause_notice(
        self,
        admin: int,
        chat: ChatSettings | None,
        reason: UnreachableReason,
        now: int,
        *,
        autopost: bool = False,
    ) -> OutgoingMessage:
        t = self._catalogs.texts(await chats.language(self._db, admin))
        title = (chat and chat.title) or str(chat.chat_id if chat else "")
        key = "autopost-paused-notice" if autopost else "schedule-paused-notice"
        text = formatting.text(t, key, chat=title, reason=t(f"paused-{reason}"))
        chat_id = chat.chat_id if chat else 0
        return OutgoingMessage(
            f"notice:paused:{chat_id}:{admin}:{now}", admin, (text,), None, "notice"
        )

    async def chat_reachable(self, chat_id: int) -> int:
        """The bot may post there again: reactivate the chat and resume its paused schedules."""
        async with transaction(self._db):
            await chats.set_active(self._db, chat_id, is_active=True)
            resumed = await schedules.resume_chat(self._db, chat_id=chat_id)
            await autopost_rules.resume_chat(self._db, chat_id=chat_id)
        return resumed

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its settings, schedules, subscription and deliveries
        follow it to the new id."""
        async with transaction(self._db):
            await chats.move(
                self._db, old_chat_id=old_chat_id, new_chat_id=new_chat_id, type="supergroup"
            )
            for entity in (schedules, subscriptions, deliveries, admin_targets, autopost_rules):
                await entity.move(self._db, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
        log.info("chat %s migrated to %s", old_chat_id, new_chat_id)


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    value = value.casefold()
    return tuple(v for v in values if v != value) if value in values else (*values, value)
