"""Hiding an image where it was already shown: one outbox edit per message that carries it.

Each message the bot sent with a hidden image becomes an outbox row that replaces the photo with
a neutral placeholder (same caption) or, where Telegram refuses the edit, deletes the message and
re-sends its caption as text with a short note. The outbox paces, retries and survives restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib import resources

from bot import formatting
from bot.delivery.outbox import Outbox
from bot.errors import ImageNotFound
from bot.i18n.catalogs import Catalogs
from bot.models import ImageEdit, ImageMessage, ImageRecord, OutgoingMessage
from bot.moderation.service import ModerationService
from storage import chats
from storage.connection import Connection
from storage.database import transaction

HIDE_KIND = "hide"
BATCH = 500


REPORT_PREFIX = "x1"


def report_callback_data(image_id: int) -> str:
    """The callback data of the "report image" button under a photo of this image."""
    return f"{REPORT_PREFIX}:{image_id}"


def placeholder_image() -> bytes:
    """The PNG shown instead of a hidden image (grey, a crossed-out picture, no text)."""
    return (resources.files("bot") / "data" / "placeholder.png").read_bytes()


def hide_key(image: ImageRecord, message: ImageMessage) -> str:
    """The outbox key of one message's edit: the same image, epoch and message queue once."""
    return f"hide:{image.id}:{image.report_epoch}:{message.chat_id}:{message.message_id}"


class ImageHiding:
    """Queues the placeholder edits for every message that shows a hidden image.

    `db` must be the connection `outbox` writes with (this service commits it) and should not be
    the moderation service's own: that one opens `BEGIN IMMEDIATE` transactions of its own.
    """

    def __init__(
        self,
        db: Connection,
        *,
        outbox: Outbox,
        moderation: ModerationService,
        catalogs: Catalogs,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._moderation = moderation
        self._catalogs = catalogs
        self._clock = clock

    async def queue_edits(self, image_id: int) -> int:
        """Queue an edit for each message showing the hidden image; return how many are new.

        Commits batch by batch; re-running (after a restart, or twice) queues only what is
        missing. An image that is not hidden queues nothing. Raise ImageNotFound.
        """
        image = await self._moderation.image(image_id)
        if image is None:
            raise ImageNotFound(image_id)
        if not image.is_hidden:
            return 0
        queued = 0
        async for batch in self._moderation.iter_places_shown(image_id, batch=BATCH):
            # One read of the batch's chat languages, not one per message.
            found = await chats.many(self._db, sorted({m.chat_id for m in batch}))
            edits = [
                self._edit(image, m, found[m.chat_id].language if m.chat_id in found else None)
                for m in batch
            ]
            async with transaction(self._db):
                queued += await self._outbox.enqueue(edits)
        return queued

    def _edit(
        self, image: ImageRecord, message: ImageMessage, language: str | None
    ) -> OutgoingMessage:
        note = self._catalogs.texts(language)("image-hidden-note")
        text = formatting.hidden_image_fallback(message.caption_html, note)
        return OutgoingMessage(
            key=hide_key(image, message),
            chat_id=message.chat_id,
            parts=(text,),
            kind=HIDE_KIND,
            edit=ImageEdit(message.message_id, message.caption_html, text),
        )
