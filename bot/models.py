"""Domain types shared by services, storage and handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """A news item as read from a source, before it is stored and given an id."""

    source: str
    title: str
    body: str | None = None
    url: str | None = None
    guid: str | None = None
    published_at: datetime | None = None  # timezone-aware, UTC
    language: str = "ar"
    topics: tuple[str, ...] = ()
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article; `id` is the short number users type in /read."""

    id: int
    source: str
    title: str
    body: str | None
    url: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str
    topics: tuple[str, ...] = field(default=())
    image_url: str | None = None

    @property
    def has_body(self) -> bool:
        return bool(self.body)


@dataclass(frozen=True, slots=True)
class KeywordFilters:
    """Words a chat wants (any of `include`) or refuses (any of `exclude`), as typed."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.include and not self.exclude


@dataclass(frozen=True, slots=True)
class Subscription:
    """A private chat's subscription; no topics means every topic."""

    chat_id: int
    topics: tuple[str, ...] = ()
    instant_topics: tuple[str, ...] = ()
    filters: KeywordFilters = field(default_factory=KeywordFilters)


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class ScheduleRule:
    """Daily `times` on `days` (0 = Monday; empty = every day), or a `cron` expression."""

    times: tuple[time, ...] = ()
    days: tuple[int, ...] = ()
    cron: str | None = None

    @property
    def day_names(self) -> tuple[str, ...]:
        return tuple(DAY_NAMES[d] for d in self.days)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When one chat (or forum topic) gets a digest, of which topics and how many headlines."""

    id: int
    chat_id: int
    rule: ScheduleRule
    item_count: int
    thread_id: int | None = None
    topics: tuple[str, ...] = ()
    created_by: int | None = None
    paused_reason: str | None = None
    last_slot: datetime | None = None
    last_article_id: int | None = None
    # Epoch seconds of the next fire time: 0 = not computed yet, None = never fires again.
    next_fire_at: int | None = 0

    @property
    def is_paused(self) -> bool:
        return self.paused_reason is not None


@dataclass(frozen=True, slots=True)
class SettingsView:
    """Everything /settings shows about a private chat."""

    subscription: Subscription | None
    schedules: tuple[Schedule, ...]
    timezone: str
    language: str


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What the bot remembers of a chat that matters for digests."""

    chat_id: int
    type: str
    title: str | None
    language: str | None
    timezone: str | None
    is_active: bool


# One due schedule's own columns: (schedule id, chat id, thread id, created by, chat title).
class DueBatch(NamedTuple):
    """What one batch of due work did (a DueLoop's `run_due`): rows claimed and run, and
    whether more may be due now (the batch stopped at its size), so the pass goes on at once."""

    ran: int
    more: bool


DueMember = tuple[int, int, int | None, int | None, str | None]


@dataclass(frozen=True, slots=True)
class DueGroup:
    """Due schedules alike in everything their digest depends on (rule, topics, count, last
    slot and position, next fire time, the chat's language, time zone and state, the
    subscription): one composition can serve every member. `schedule`, `chat` and
    `subscription` are the first member's (`chat` None: a chat the bot does not know)."""

    schedule: Schedule
    chat: ChatSettings | None
    subscription: Subscription | None
    members: tuple[DueMember, ...]


@dataclass(frozen=True, slots=True)
class ChatRights:
    """What Telegram says about a chat: is the person an admin, may the bot post there."""

    is_admin: bool
    bot_may_post: bool


@dataclass(frozen=True, slots=True)
class TargetChat:
    """A group or channel a schedule is for."""

    chat_id: int
    type: str
    title: str | None


class AutopostStyle(StrEnum):
    """How an auto-posted article looks in the chat."""

    HEADLINE = "headline"  # bold title, source and time, a "read" link
    SUMMARY = "summary"  # the headline plus the first paragraph
    PHOTO = "photo"  # the article's picture with the summary as its caption


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span (minutes after midnight, chat time) when nothing is posted; may wrap."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AutopostRule:
    """One chat's (or forum topic's) standing order: post new articles of these topics."""

    id: int
    chat_id: int
    thread_id: int | None = None
    topics: tuple[str, ...] = ()
    filters: KeywordFilters = field(default_factory=KeywordFilters)
    style: AutopostStyle = AutopostStyle.HEADLINE
    link_preview: bool = False
    hourly_cap: int | None = None  # None: the configured default
    quiet: QuietHours | None = None
    created_by: int | None = None
    paused_reason: str | None = None

    @property
    def is_paused(self) -> bool:
        return self.paused_reason is not None


# Delivery


class UnreachableReason(StrEnum):
    """Why the bot may no longer post in a chat, as users are told it (never Telegram's text)."""

    REMOVED = "removed"  # kicked or left the group or channel
    BLOCKED = "blocked"  # a private chat blocked the bot, or the account is gone
    NO_RIGHT_TO_POST = "no-right-to-post"  # still a member, without the right to post

    @classmethod
    def from_telegram(cls, description: str) -> UnreachableReason:
        """Telegram's 403 description, mapped to what it means for the chat."""
        text = description.casefold()
        if "blocked" in text or "deactivated" in text:
            return cls.BLOCKED
        if "rights" in text or "not enough" in text:
            return cls.NO_RIGHT_TO_POST
        return cls.REMOVED


@dataclass(frozen=True, slots=True)
class ImageEdit:
    """Replace the photo of a message the bot sent with the neutral placeholder.

    `caption` is the Telegram-HTML caption to keep; `fallback_text` is sent as a new message
    when the edit is refused and the photo message could be deleted instead.
    """

    message_id: int
    caption: str | None
    fallback_text: str


@dataclass(frozen=True, slots=True)
class PhotoPost:
    """A message that opens with a photo: `parts[0]` is its caption, under a report button.

    `image_id` is the moderation record of the picture: a hidden image is sent as text instead,
    and the sent message is registered so hiding the image later edits it too.
    """

    url: str
    image_id: int
    report_button: str  # the button's label, in the chat's language


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to one chat; `key` makes enqueueing idempotent.

    With `edit`, the row changes an existing message instead; its parts are the fallback text.
    """

    key: str
    chat_id: int
    parts: tuple[str, ...]
    thread_id: int | None = None
    kind: str = "digest"
    edit: ImageEdit | None = None
    photo: PhotoPost | None = None
    link_preview: bool = False

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError(f"outgoing message {self.key!r} has no parts")
        if self.edit is not None and self.parts != (self.edit.fallback_text,):
            raise ValueError(f"edit {self.key!r}: parts must be (edit.fallback_text,)")


# Moderation


class ImageStatus(StrEnum):
    VISIBLE = "visible"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """A known image: its moderation state and, when it was hidden as a copy, of which image."""

    id: int
    status: ImageStatus
    report_epoch: int
    phash: int | None
    source_url: str | None
    preview_file_id: str | None
    copy_of: int | None
    hidden_at: datetime | None
    restored_at: datetime | None
    cooldown_until: datetime | None

    @property
    def is_hidden(self) -> bool:
        return self.status is ImageStatus.HIDDEN


@dataclass(frozen=True, slots=True)
class ImageMessage:
    """A message the bot sent with an image: where to edit or delete it once the image is hidden."""

    id: int
    chat_id: int
    message_id: int
    image_id: int
    sent_at: datetime
    caption_html: str | None

    @property
    def has_caption(self) -> bool:
        return bool(self.caption_html)


@dataclass(frozen=True, slots=True)
class ReportState:
    """What decides a report, read in one query: the image, the reporter and the chat's rules."""

    image: ImageRecord
    is_ignored: bool
    has_reported: bool
    reports_last_hour: int
    current_weight: int
    chat_threshold: int | None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An image in the review queue: reported in its current epoch, or hidden."""

    image: ImageRecord
    weight: int
    reporters: int
    last_report_at: datetime | None


class AuditAction(StrEnum):
    HIDDEN_BY_REPORTS = "hidden_by_reports"
    HIDDEN_AS_COPY = "hidden_as_copy"
    UNHIDE = "unhide"
    IGNORE_REPORTER = "ignore_reporter"
    UNIGNORE_REPORTER = "unignore_reporter"
    SET_CHAT_THRESHOLD = "set_chat_threshold"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when; `actor_id` is None for what the bot did on its own."""

    id: int
    at: datetime
    actor_id: int | None
    action: AuditAction
    image_id: int | None
    subject_id: int | None
    details: str


# Sources


class PauseReason(StrEnum):
    OPERATOR = "operator"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class Source:
    """A news source as the database keeps it: what to fetch, when, and how it has fared."""

    name: str
    url: str
    kind: str = "rss"
    language: str = "ar"
    topics: tuple[str, ...] = ()
    poll_minutes: int = 30
    paused_reason: PauseReason | None = None
    next_poll_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    failing_since: datetime | None = None
    error_kind: str | None = None
    last_error: str | None = None
    last_success_at: datetime | None = None
    alerted: bool = False

    @property
    def is_paused(self) -> bool:
        return self.paused_reason is not None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source and its recent article rate, as /sources and `akhbar sources list` show it."""

    source: Source
    articles_per_day: float
