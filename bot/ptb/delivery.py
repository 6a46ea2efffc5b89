"""Delivery: the outbox worker wired to python-telegram-bot, and Telegram errors as outcomes.

The worker sends through its own `Bot` (aiohttp transport, no AIORateLimiter): the engine paces
itself per chat and overall, and it must see every 429 rather than have a limiter retry it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery.outbox import (
    ChatEvents,
    Clock,
    Delivered,
    FloodWait,
    Migrated,
    OutboxSettings,
    Rejected,
    SendOutcome,
    TransientFailure,
    Unreachable,
)
from bot.delivery.outcomes import ApiUnavailable, SendObserver
from bot.delivery.worker import OutboxWorker
from bot.logs import Redactor, token_forms
from bot.models import PhotoPost, UnreachableReason
from bot.moderation.hiding import placeholder_image, report_callback_data
from bot.ptb.context import AkhbarApp
from bot.ptb.rate_limits import SharedRateLimiter
from bot.ptb.transport import AiohttpRequest, BotApiUnreachable
from bot.reading import search_text
from bot.services import Services, outbox_settings
from storage import database
from storage.connection import Connection

# Opt in to python-telegram-bot's timedelta RetryAfter.retry_after (the int form is deprecated).
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Serialised once: PTB would otherwise convert the object to JSON on every request.
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True).to_json()
_WITH_PREVIEW = LinkPreviewOptions(is_disabled=False).to_json()


class BroadcastBot(Bot):
    """A Bot that can send a message without building a `Message` from Telegram's answer.

    `send_message` turns every answer into a `Message` object, about a third of the CPU time of
    a broadcast at 2,000 messages/s; the engine only needs to know that Telegram accepted it.
    The request and error translation are python-telegram-bot's own.
    """

    async def post_message(
        self,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None,
        paid: bool,
        link_preview: bool = False,
    ) -> None:
        """sendMessage in HTML, without a link preview unless asked; raises telegram.error
        like send_message."""
        await self._post(
            "sendMessage",
            {
                "chat_id": chat_id,
                "text": text,
                "parse_mode": ParseMode.HTML,
                "message_thread_id": thread_id,
                "link_preview_options": _WITH_PREVIEW if link_preview else _NO_PREVIEW,
                "allow_paid_broadcast": paid or None,
            },
        )


class SentPhotos(Protocol):
    """Where photo messages are registered so hiding their image later edits them
    (the moderation service)."""

    async def is_hidden(self, image_id: int) -> bool: ...

    async def record_sent(
        self,
        chat_id: int,
        message_id: int,
        image_id: int,
        *,
        caption_html: str | None,
        file_unique_ids: Sequence[str] = (),
    ) -> None: ...


class TelegramSender:
    """Sends, edits and deletes with python-telegram-bot and names the outcome."""

    def __init__(
        self,
        bot: BroadcastBot,
        *,
        allow_paid_broadcast: bool = False,
        placeholder: bytes | None = None,
        photos: SentPhotos | None = None,
    ) -> None:
        self._bot = bot
        self._photos = photos
        # Telegram's error descriptions are stored in the outbox and logged: never the token.
        self._redact = Redactor(token_forms(bot.token))
        self._paid = allow_paid_broadcast
        self._placeholder = placeholder
        self._placeholder_file_id: str | None = None
        self._upload = asyncio.Lock()

    async def send(
        self, chat_id: int, text: str, *, thread_id: int | None, link_preview: bool = False
    ) -> SendOutcome:
        """Send and translate telegram.error into a domain outcome."""
        return await _outcome(
            self._bot.post_message(
                chat_id, text, thread_id=thread_id, paid=self._paid, link_preview=link_preview
            ),
            self._redact,
        )

    async def send_photo(
        self, chat_id: int, photo: PhotoPost, *, caption: str, thread_id: int | None
    ) -> SendOutcome:
        """The photo with its caption and report button, registered once Telegram took it; the
        caption alone as text when the image was hidden meanwhile or Telegram cannot use it."""
        if self._photos is not None and await self._photos.is_hidden(photo.image_id):
            return await self.send(chat_id, caption, thread_id=thread_id)
        button = InlineKeyboardButton(
            photo.report_button, callback_data=report_callback_data(photo.image_id)
        )
        try:
            sent = await self._bot.send_photo(
                chat_id, photo.url, caption=caption, parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup([[button]]), message_thread_id=thread_id,
            )  # fmt: skip
        except BadRequest as error:
            if not _is_unusable_photo(error.message):
                return Rejected(self._redact(error.message))
            return await self.send(chat_id, caption, thread_id=thread_id)
        except TelegramError as error:
            return await _outcome(_raise(error), self._redact)
        if self._photos is not None:
            await self._photos.record_sent(
                chat_id, sent.message_id, photo.image_id, caption_html=caption,
                file_unique_ids=[size.file_unique_id for size in sent.photo],
            )  # fmt: skip
        return Delivered()

    async def edit_to_placeholder(
        self, chat_id: int, message_id: int, *, caption: str | None
    ) -> SendOutcome:
        """Replace the message's photo with the placeholder; "not modified" counts as done."""
        outcome = await _outcome(self._edit(chat_id, message_id, caption), self._redact)
        if isinstance(outcome, Rejected) and "not modified" in outcome.reason.lower():
            return Delivered()
        return outcome

    async def delete(self, chat_id: int, message_id: int) -> SendOutcome:
        """Delete a message the bot sent."""
        return await _outcome(self._bot.delete_message(chat_id, message_id), self._redact)

    async def _edit(self, chat_id: int, message_id: int, caption: str | None) -> None:
        if self._placeholder_file_id is None:
            # The first edit uploads the bytes; the others wait for its file_id and reuse it.
            async with self._upload:
                if self._placeholder_file_id is None:
                    uploaded = await self._edit_with(chat_id, message_id, caption, upload=True)
                    self._placeholder_file_id = _largest_photo(uploaded)
                    return
        await self._edit_with(chat_id, message_id, caption, upload=False)

    async def _edit_with(
        self, chat_id: int, message_id: int, caption: str | None, *, upload: bool
    ) -> Message | bool:
        if self._placeholder is None:
            self._placeholder = placeholder_image()
        media = InputMediaPhoto(
            self._placeholder if upload else self._placeholder_file_id,
            caption=caption,
            parse_mode=ParseMode.HTML,
            filename="placeholder.png",
        )
        return await self._bot.edit_message_media(media, chat_id=chat_id, message_id=message_id)


def _is_unusable_photo(message: str) -> bool:
    # Telegram's words for a picture it could not fetch or read, as opposed to a chat problem.
    text = message.lower()
    return any(word in text for word in ("photo", "image", "file", "url", "webpage", "media"))


async def _raise(error: TelegramError) -> None:
    raise error


def _largest_photo(answer: Message | bool) -> str | None:
    if isinstance(answer, Message) and answer.photo:
        return answer.photo[-1].file_id
    return None


async def _outcome(request: Awaitable[object], redact: Callable[[str], str]) -> SendOutcome:
    """Await one Bot API request and translate telegram.error into a domain outcome whose
    reason has passed through `redact`."""
    try:
        await request
    except RetryAfter as error:
        return FloodWait(_seconds(error.retry_after))
    except ChatMigrated as error:
        return Migrated(error.new_chat_id)
    except Forbidden as error:
        return Unreachable(UnreachableReason.from_telegram(error.message), redact(error.message))
    except BadRequest as error:  # before NetworkError: PTB derives BadRequest from it
        return Rejected(redact(error.message))
    except BotApiUnreachable as error:
        return ApiUnavailable(error.message)
    except TimedOut:
        return TransientFailure("timed out")
    except (NetworkError, TelegramError) as error:
        return TransientFailure(redact(f"{type(error).__name__}: {error.message}"))
    return Delivered()


def _seconds(retry_after: timedelta | float) -> float:
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


@dataclass(frozen=True, slots=True)
class DeliveryHandle:
    """A running worker with its own Bot and database connection."""

    worker: OutboxWorker
    bot: Bot
    db: Connection
    budget_db: Connection  # where the worker draws its send slots
    replies: SharedRateLimiter | None = None  # the handlers' limiter, bound to the worker

    @property
    def is_running(self) -> bool:
        """Whether the worker is sending."""
        return self.worker.is_running

    def wake(self) -> None:
        """New rows were committed: deliver them now."""
        self.worker.wake()

    def chat_reachable(self, chat_id: int) -> None:
        """The chat let the bot back in: stop skipping it."""
        self.worker.chat_reachable(chat_id)

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until the worker holds nothing and finds nothing due."""
        await self.worker.drain(timeout)

    async def stop(self) -> None:
        """Finish requests in flight, record them, release claims, close everything."""
        try:
            if self.replies is not None:
                await self.replies.unbind()
            await self.worker.stop()
        finally:
            try:
                await self.bot.shutdown()
            finally:
                await self._close_connections()

    async def abort(self) -> frozenset[int]:
        """Stop as a crash would (tests); return chats whose last send may be repeated."""
        if self.replies is not None:
            await self.replies.unbind()
        at_risk = await self.worker.abort()
        await self.bot.shutdown()
        await self._close_connections()
        return at_risk

    async def _close_connections(self) -> None:
        try:
            await self.db.close()
        finally:
            await self.budget_db.close()


async def open_delivery(
    *,
    token: str,
    base_url: str,
    db_path: str | Path,
    events: ChatEvents,
    settings: OutboxSettings,
    clock: Clock,
    allow_paid_broadcast: bool = False,
    worker_id: str | None = None,
    photos: SentPhotos | None = None,
    observer: SendObserver | None = None,
) -> DeliveryHandle:
    """Open a worker connection and a Bot on the aiohttp transport, and start draining."""
    bot = BroadcastBot(
        token,
        base_url=base_url,
        request=AiohttpRequest(pool_size=settings.concurrency),
        get_updates_request=AiohttpRequest(pool_size=1),
    )
    await bot.initialize()
    db = await database.connect(db_path, index_terms=search_text.index_text)
    try:
        budget_db = await database.connect_send_budget(db_path)
    except BaseException:
        await db.close()
        raise
    sender = TelegramSender(bot, allow_paid_broadcast=allow_paid_broadcast, photos=photos)
    worker = OutboxWorker(
        db, sender, events, settings=settings, clock=clock, worker_id=worker_id,
        observer=observer, budget_db=budget_db,
    )  # fmt: skip
    worker.start()
    return DeliveryHandle(worker, bot, db, budget_db)


async def open_configured_delivery(
    services: Services, *, worker_id: str | None, observer: SendObserver | None
) -> DeliveryHandle:
    """`open_delivery` as the config asks (its Bot API, database, rates and paid broadcasts),
    with the services' clock, chat events and sent photos."""
    config = services.config
    return await open_delivery(
        token=config.token,
        base_url=str(config.telegram.api_base_url),
        db_path=config.storage.location,
        events=services.subscriptions,
        settings=outbox_settings(config),
        clock=services.clock,
        worker_id=worker_id,
        allow_paid_broadcast=config.delivery.paid_broadcast,
        photos=services.moderation,
        observer=observer,
    )


async def start_delivery(
    app: AkhbarApp, *, worker_id: str | None = None, observer: SendObserver | None = None
) -> DeliveryHandle:
    """Start the worker for a running application (call from post_init, after services).

    `worker_id` (else `[delivery] worker_id`, else host and process id) must differ between
    processes running at once; a restart under the same id takes back the rows its
    predecessor held at once instead of after their lease.
    """
    services = app.bot_data.services
    if services is None:
        raise RuntimeError("start_delivery needs the services opened first")
    worker_id = worker_id or services.config.delivery.worker_id or None
    handle = await open_configured_delivery(services, worker_id=worker_id, observer=observer)
    limiter = app.bot.rate_limiter
    if not isinstance(limiter, SharedRateLimiter):
        return handle
    # From here on the handlers' replies take their slots from the worker's shared schedule.
    await limiter.bind(handle.worker)
    return dataclasses.replace(handle, replies=limiter)
