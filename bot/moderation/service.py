"""Image moderation: reports counted per person and epoch, images hidden at a threshold, review.

Every write runs in an immediate transaction, which takes the database's write lock before the
first read (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL Akhbar's advisory write lock): the checks
and the changes of one report see no other writer, whether that writer is another coroutine or
another process on the same database. The asyncio lock keeps this service's own coroutines
from issuing statements into each other's transaction on the shared connection. The service
therefore wants a connection no other service holds a transaction open on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.errors import (
    BadThreshold,
    ConfigError,
    ImageNotFound,
    NotModerator,
    OperatorsOnly,
    ThresholdTooLow,
)
from bot.models import AuditAction, AuditEntry, ImageMessage, ImageRecord, ReportState, ReviewItem
from bot.moderation.image_identity import (
    DEFAULT_MAX_DISTANCE,
    content_hash,
    hamming,
    perceptual_hash,
)
from storage import audit, chat_thresholds, database, image_messages, images, reporters, reports
from storage.connection import Connection
from storage.images import ImageKey

MAX_THRESHOLD = 100
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ModerationSettings:
    """How many reports hide an image, how much an admin's weighs, and the limits around them."""

    threshold: int = 3
    admin_weight: int = 1
    rate_limit_per_hour: int = 20
    cooldown: timedelta = timedelta(hours=24)
    phash_max_distance: int = DEFAULT_MAX_DISTANCE
    operator_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        _require(1 <= self.threshold <= MAX_THRESHOLD, "threshold", self.threshold)
        _require(self.admin_weight >= 1, "admin_weight", self.admin_weight)
        _require(self.rate_limit_per_hour >= 1, "rate_limit_per_hour", self.rate_limit_per_hour)
        _require(self.cooldown >= timedelta(0), "cooldown", self.cooldown)
        _require(0 <= self.phash_max_distance <= 64, "phash_max_distance", self.phash_max_distance)


def _require(condition: bool, name: str, value: object) -> None:
    if not condition:
        raise ConfigError(f"moderation.{name} is out of range: {value}")


class ReportStatus(StrEnum):
    COUNTED = "counted"
    ALREADY_REPORTED = "already_reported"
    RATE_LIMITED = "rate_limited"
    ALREADY_HIDDEN = "already_hidden"
    IGNORED_REPORTER = "ignored_reporter"
    UNKNOWN_IMAGE = "unknown_image"


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What became of a report; `count` is the image's weighted count in its current epoch."""

    status: ReportStatus
    image_id: int | None = None
    count: int = 0
    threshold: int = 0
    just_hidden: bool = False

    @property
    def is_counted(self) -> bool:
        return self.status is ReportStatus.COUNTED


def refusal(state: ReportState, *, rate_limit: int) -> ReportStatus | None:
    """Why a report would not be counted, or None when it counts."""
    if state.image.is_hidden:
        return ReportStatus.ALREADY_HIDDEN
    if state.is_ignored:
        return ReportStatus.IGNORED_REPORTER
    if state.has_reported:
        return ReportStatus.ALREADY_REPORTED
    if state.reports_last_hour >= rate_limit:
        return ReportStatus.RATE_LIMITED
    return None


class ModerationService:
    """Registers images, counts reports, hides and restores images, and keeps the audit log."""

    def __init__(
        self, db: Connection, *, settings: ModerationSettings, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with database.transaction(self._db, immediate=True):
            yield self._db

    # Images -----------------------------------------------------------------------------------

    async def register_telegram_photo(
        self, file_unique_ids: Sequence[str], *, phash: int | None, file_id: str | None = None
    ) -> int:
        """The image these photo sizes show, created if new; hidden if it copies a hidden one."""
        if not file_unique_ids:
            raise ValueError("a Telegram photo needs at least one file_unique_id")
        keys = [("telegram", key) for key in file_unique_ids]
        async with self._transaction():
            return await self._register(keys, phash=phash, preview_file_id=file_id)

    async def register_article_image(self, article_id: int, url: str, *, data: bytes | None) -> int:
        """The image an article shows, known by URL and bytes; raise UnreadableImage."""
        sha256 = content_hash(data) if data is not None else None
        # Decoding takes milliseconds of CPU: keep it off the event loop.
        phash = await asyncio.to_thread(perceptual_hash, data) if data is not None else None
        keys: list[ImageKey] = [("url", url)]
        if sha256 is not None:
            keys.append(("sha256", sha256))
        async with self._transaction() as db:
            image_id = await self._register(keys, phash=phash, sha256=sha256, source_url=url)
            await images.link_article(db, article_id=article_id, image_id=image_id)
        return image_id

    async def _register(
        self,
        keys: Sequence[ImageKey],
        *,
        phash: int | None,
        sha256: str | None = None,
        source_url: str | None = None,
        preview_file_id: str | None = None,
    ) -> int:
        now = self._clock()
        known = await images.by_keys(self._db, keys=keys)
        if known:
            image = known[0]
            await images.fill_in(
                self._db, image.id, phash=phash, sha256=sha256, preview_file_id=preview_file_id
            )
        else:
            new_id = await images.create(
                self._db,
                phash=phash,
                sha256=sha256,
                source_url=source_url,
                preview_file_id=preview_file_id,
                at=now,
            )
            image = await images.get(self._db, new_id)
        await images.add_keys(self._db, image.id, keys=keys)
        known_hash = image.phash if image.phash is not None else phash
        await self._hide_if_copy(image, phash=known_hash, now=now)
        return image.id

    async def _hide_if_copy(self, image: ImageRecord, *, phash: int | None, now: datetime) -> None:
        # An image an admin restored stays restored: only reports may hide it again.
        if phash is None or image.is_hidden or image.restored_at is not None:
            return
        original = await self._hidden_match(phash, excluding=image.id)
        if original is None:
            return
        if await images.hide_as_copy(self._db, image.id, copy_of=original, at=now):
            await audit.write(
                self._db,
                at=now,
                actor_id=None,
                action=AuditAction.HIDDEN_AS_COPY,
                image_id=image.id,
                details={"copy_of": original},
            )

    async def is_known_or_copy_of_hidden(
        self, file_unique_ids: Sequence[str], *, phash: int | None
    ) -> bool:
        """Whether a photo is already known or looks like a hidden image: only such photos
        need registering, so the bot keeps no record of every photo posted in its groups."""
        if await images.by_keys(self._db, keys=[("telegram", key) for key in file_unique_ids]):
            return True
        return phash is not None and await self._hidden_match(phash, excluding=0) is not None

    async def _hidden_match(self, phash: int, *, excluding: int) -> int | None:
        limit = self._settings.phash_max_distance
        matches = [
            (hamming(phash, other), image_id)
            for image_id, other in await images.hidden_hashes(self._db)
            if image_id != excluding and hamming(phash, other) <= limit
        ]
        return min(matches)[1] if matches else None

    async def image(self, image_id: int) -> ImageRecord | None:
        """The image with this id, or None."""
        return await images.get(self._db, image_id)

    async def article_image(self, article_id: int, url: str) -> ImageRecord:
        """The image an article shows; registered on the first /read, only read after that."""
        known = await images.of_article(self._db, article_id, url=url)
        if known is not None:
            return known
        image_id = await self.register_article_image(article_id, url, data=None)
        image = await images.get(self._db, image_id)
        assert image is not None  # just registered
        return image

    async def is_hidden(self, image_id: int) -> bool:
        """Whether the image is hidden; an unknown image is not."""
        image = await images.get(self._db, image_id)
        return image is not None and image.is_hidden

    async def hidden_article_ids(self, article_ids: Iterable[int]) -> set[int]:
        """Those of the articles whose image must not be shown."""
        return await images.hidden_articles(self._db, article_ids=article_ids)

    async def record_sent(
        self,
        chat_id: int,
        message_id: int,
        image_id: int,
        *,
        caption_html: str | None,
        file_unique_ids: Sequence[str] = (),
    ) -> None:
        """Remember a message the bot sent with this image; the photo's Telegram ids become
        keys of the image, so a /report on that message counts with its button's reports."""
        async with self._transaction() as db:
            await image_messages.record(
                db,
                chat_id=chat_id,
                message_id=message_id,
                image_id=image_id,
                caption_html=caption_html,
                at=self._clock(),
            )
            keys = [("telegram", key) for key in file_unique_ids]
            await images.add_keys(db, image_id, keys=keys)

    async def places_shown(
        self, image_id: int, *, after_id: int | None = None, limit: int = 500
    ) -> list[ImageMessage]:
        """One batch of the messages showing the image; pass the last batch's last id on."""
        return await image_messages.of_image(self._db, image_id, after_id=after_id, limit=limit)

    async def iter_places_shown(
        self, image_id: int, *, batch: int = 500
    ) -> AsyncIterator[list[ImageMessage]]:
        """Every message showing the image, batch by batch, without holding them all."""
        after_id = None
        while found := await self.places_shown(image_id, after_id=after_id, limit=batch):
            yield found
            after_id = found[-1].id

    # Reports ----------------------------------------------------------------------------------

    async def report(
        self, image: int | str, *, reporter_id: int, chat_id: int | None, is_admin: bool = False
    ) -> ReportOutcome:
        """Count a report of an image id or file_unique_id; stored before this returns."""
        async with self._transaction() as db:
            image_id = await self._resolve(image)
            now = self._clock()
            state = None
            if image_id is not None:
                state = await reports.state(
                    db,
                    image_id=image_id,
                    reporter_id=reporter_id,
                    chat_id=chat_id,
                    since=now - _HOUR,
                    rate_limit=self._settings.rate_limit_per_hour,
                )
            if state is None:
                return ReportOutcome(ReportStatus.UNKNOWN_IMAGE)
            return await self._count(state, reporter_id, chat_id, is_admin=is_admin, now=now)

    async def _resolve(self, image: int | str) -> int | None:
        if isinstance(image, int):
            return image
        found = await images.by_keys(self._db, keys=[("telegram", image)])
        return found[0].id if found else None

    async def _count(
        self,
        state: ReportState,
        reporter_id: int,
        chat_id: int | None,
        *,
        is_admin: bool,
        now: datetime,
    ) -> ReportOutcome:
        image = state.image
        threshold = state.chat_threshold or self._settings.threshold
        refused = refusal(state, rate_limit=self._settings.rate_limit_per_hour)
        if refused is not None:
            return ReportOutcome(refused, image.id, state.current_weight, threshold)
        weight = self._weight(reporter_id, is_admin=is_admin)
        stored = await reports.add(
            self._db,
            image_id=image.id,
            epoch=image.report_epoch,
            reporter_id=reporter_id,
            chat_id=chat_id,
            weight=weight,
            at=now,
        )
        if not stored:  # cannot happen under the write lock; the unique key says so anyway
            return ReportOutcome(ReportStatus.ALREADY_REPORTED, image.id, state.current_weight)
        count = state.current_weight + weight
        just_hidden = count >= threshold and await self._hide(image, threshold, chat_id, now)
        return ReportOutcome(ReportStatus.COUNTED, image.id, count, threshold, just_hidden)

    def _weight(self, reporter_id: int, *, is_admin: bool) -> int:
        if is_admin or reporter_id in self._settings.operator_ids:
            return self._settings.admin_weight
        return 1

    async def _hide(
        self, image: ImageRecord, threshold: int, chat_id: int | None, now: datetime
    ) -> bool:
        hidden = await images.hide_if_reported(
            self._db, image.id, epoch=image.report_epoch, threshold=threshold, at=now
        )
        if hidden:
            await audit.write(
                self._db,
                at=now,
                actor_id=None,
                action=AuditAction.HIDDEN_BY_REPORTS,
                image_id=image.id,
                subject_id=chat_id,
                details={"threshold": threshold, "epoch": image.report_epoch},
            )
        return hidden

    # Review -----------------------------------------------------------------------------------

    def may_moderate(self, actor_id: int, *, is_chat_admin: bool) -> bool:
        """Operators and chat admins may review, restore and ignore."""
        return is_chat_admin or self.is_operator(actor_id)

    def is_operator(self, actor_id: int) -> bool:
        """Operators (`[moderation] operator_ids`) act on every chat at once."""
        return actor_id in self._settings.operator_ids

    def _require_moderator(self, actor_id: int, is_chat_admin: bool) -> None:
        if not self.may_moderate(actor_id, is_chat_admin=is_chat_admin):
            raise NotModerator(actor_id)

    def _scope(self, actor_id: int, chat_id: int | None, is_chat_admin: bool) -> int | None:
        """The chat a moderator acts on, None for everywhere (operators only)."""
        self._require_moderator(actor_id, is_chat_admin)
        if self.is_operator(actor_id):
            return None
        if chat_id is None:  # an admin of some chat, acting from nowhere in particular
            raise NotModerator(actor_id)
        return chat_id

    async def unhide(
        self,
        image_id: int,
        *,
        actor_id: int,
        chat_id: int | None = None,
        is_chat_admin: bool = False,
    ) -> bool:
        """Restore a hidden image and its hidden copies in a new epoch with a cool-down.

        Hiding is global, so a chat admin (`is_chat_admin` for `chat_id`) may restore only an
        image hidden by reports made in their chat alone; False if the image was not hidden.
        Raise ImageNotFound (also for an image the admin's chat never saw), OperatorsOnly,
        NotModerator.
        """
        scope = self._scope(actor_id, chat_id, is_chat_admin)
        async with self._transaction() as db:
            image = await images.get(db, image_id)
            if image is None or (scope is not None and not await reports.is_in_chat(
                db, image_id, scope
            )):  # fmt: skip
                raise ImageNotFound(image_id)
            if scope is not None and image.is_hidden and not await self._hidden_by(image, scope):
                raise OperatorsOnly(image_id)
            now = self._clock()
            until = now + self._settings.cooldown
            if not await images.restore(db, image_id, at=now, cooldown_until=until):
                return False
            copies = await images.hidden_copies(db, image_id)
            for copy_id in copies:
                await images.restore(db, copy_id, at=now, cooldown_until=until)
            await audit.write(
                db,
                at=now,
                actor_id=actor_id,
                action=AuditAction.UNHIDE,
                image_id=image_id,
                subject_id=scope,
                details={"copies": copies, "cooldown_until": until.isoformat()},
            )
        return True

    async def _hidden_by(self, image: ImageRecord, chat_id: int) -> bool:
        """Whether the chat's own reports, and nobody else's, hid the image."""
        return image.copy_of is None and await reports.reported_only_in(self._db, image.id, chat_id)

    async def ignore_reporter(
        self,
        user_id: int,
        *,
        actor_id: int,
        chat_id: int | None = None,
        is_chat_admin: bool = False,
    ) -> bool:
        """Stop counting the person's reports everywhere, past ones included; False if already
        ignored. Operators only: raise OperatorsOnly for a chat admin, NotModerator."""
        return await self._set_ignored(
            user_id, True, actor_id=actor_id, chat_id=chat_id, is_chat_admin=is_chat_admin
        )

    async def unignore_reporter(
        self,
        user_id: int,
        *,
        actor_id: int,
        chat_id: int | None = None,
        is_chat_admin: bool = False,
    ) -> bool:
        """Count the person's reports again; False if they were not ignored (operators only)."""
        return await self._set_ignored(
            user_id, False, actor_id=actor_id, chat_id=chat_id, is_chat_admin=is_chat_admin
        )

    async def _set_ignored(
        self,
        user_id: int,
        ignored: bool,
        *,
        actor_id: int,
        chat_id: int | None,
        is_chat_admin: bool,
    ) -> bool:
        """Ignore or count again a reporter everywhere (operators only), audited when it changed."""
        if self._scope(actor_id, chat_id, is_chat_admin) is not None:
            raise OperatorsOnly(user_id)
        async with self._transaction() as db:
            now = self._clock()
            if ignored:
                changed = await reporters.ignore(db, user_id, by=actor_id, at=now)
            else:
                changed = await reporters.unignore(db, user_id)
            if changed:
                action = AuditAction.IGNORE_REPORTER if ignored else AuditAction.UNIGNORE_REPORTER
                await self._audit_person(action, user_id, actor_id, now)
        return changed

    async def _audit_person(
        self, action: AuditAction, user_id: int, actor_id: int, now: datetime
    ) -> None:
        await audit.write(self._db, at=now, actor_id=actor_id, action=action, subject_id=user_id)

    async def set_chat_threshold(
        self, chat_id: int, threshold: int | None, *, actor_id: int, is_chat_admin: bool = False
    ) -> None:
        """Use `threshold` for reports made in the chat (None: the global one again).

        `is_chat_admin` must mean admin of this chat. Raise BadThreshold (ThresholdTooLow
        below the global bar, except for operators), NotModerator.
        """
        self._require_moderator(actor_id, is_chat_admin)
        if threshold is not None and not 1 <= threshold <= MAX_THRESHOLD:
            raise BadThreshold(threshold)
        floor = self._settings.threshold
        if (
            threshold is not None
            and threshold < floor
            and actor_id not in self._settings.operator_ids
        ):
            # Hiding is global: a lower bar in one group would let a few people hide an image
            # everywhere the bot shows it.
            raise ThresholdTooLow(floor)
        async with self._transaction() as db:
            now = self._clock()
            if threshold is None:
                await chat_thresholds.clear(db, chat_id)
            else:
                await chat_thresholds.set_threshold(db, chat_id, threshold, by=actor_id, at=now)
            await audit.write(
                db,
                at=now,
                actor_id=actor_id,
                action=AuditAction.SET_CHAT_THRESHOLD,
                subject_id=chat_id,
                details={"threshold": threshold},
            )

    async def chat_threshold(self, chat_id: int) -> int:
        """How many weighted reports made in this chat hide an image."""
        own = await chat_thresholds.get(self._db, chat_id)
        return own or self._settings.threshold

    async def review_queue(
        self, limit: int = 20, *, actor_id: int | None = None, chat_id: int | None = None
    ) -> list[ReviewItem]:
        """Hidden images and images with reports in their current epoch, latest activity first.

        Everything for an operator (or with no actor: the service's own callers); for a chat
        admin only the images reported or shown in `chat_id`.
        """
        if actor_id is None or self.is_operator(actor_id):
            return await reports.review_queue(self._db, limit=limit, chat_id=None)
        if chat_id is None:
            raise NotModerator(actor_id)
        return await reports.review_queue(self._db, limit=limit, chat_id=chat_id)

    async def audit(self, limit: int = 50, *, before_id: int | None = None) -> list[AuditEntry]:
        """The audit log, newest first."""
        return await audit.latest(self._db, limit=limit, before_id=before_id)
