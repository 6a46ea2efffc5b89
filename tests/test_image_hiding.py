"""Hiding an image where the bot already showed it: placeholder edits through the outbox."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from telegram import Bot

from bot.clock import utc_now
from bot.delivery.outbox import Outbox
from bot.formatting import hidden_image_fallback
from bot.i18n.catalogs import Catalogs
from bot.models import ImageEdit, OutgoingMessage
from bot.moderation.hiding import ImageHiding
from bot.moderation.service import ModerationService, ModerationSettings
from bot.ptb.delivery import DeliveryHandle
from bot.reading import search_text
from emulator import BotApiEmulator
from emulator.params import UploadedFile
from storage import chats, database
from storage import outbox as rows_db
from tests.conftest import TOKEN
from tests.support.delivery import RecordedEvents, worker_starter
from tests.test_outbox import FAST

CAPTION = "<b>عاجل</b>: خبر &amp; صورة"
PLAIN_CAPTION = "عاجل: خبر & صورة"
PHOTO_URL = "https://example.com/news/photo.jpg"
NOTES = {
    "ar": "🚫 حُجبت صورة هذا الخبر بعد بلاغات من القراء.",
    "fr": "🚫 L'image de cet article a été masquée après des signalements de lecteurs.",
}


class EmulatorClock:
    """The emulator's wall clock, moved by hand (for the 48-hour delete rule)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, *, hours: float) -> None:
        self.now += hours * 3600


@pytest.fixture
def emulator_clock() -> EmulatorClock:
    return EmulatorClock()


@pytest.fixture
async def emulator(emulator_clock) -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, clock=emulator_clock, auto_create_chats=True) as emu:
        yield emu


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "akhbar.sqlite3"


async def _connect(path):
    return await database.connect(path, index_terms=search_text.index_text)


@pytest.fixture
async def db(db_path):
    connection = await _connect(db_path)
    yield connection
    await connection.close()


@pytest.fixture
async def moderation(db_path, db) -> AsyncIterator[ModerationService]:
    # Its own connection: the service runs BEGIN IMMEDIATE transactions on it.
    connection = await _connect(db_path)
    yield ModerationService(connection, settings=ModerationSettings(), clock=utc_now)
    await connection.close()


@pytest.fixture
def outbox(db) -> Outbox:
    return Outbox(db, clock=utc_now, settings=FAST)


@pytest.fixture
def hiding(db, outbox, moderation) -> ImageHiding:
    return ImageHiding(
        db, outbox=outbox, moderation=moderation, catalogs=Catalogs("ar"), clock=utc_now
    )


@pytest.fixture
def events() -> RecordedEvents:
    return RecordedEvents()


@pytest.fixture
async def start_worker(emulator, db_path, events):
    async with worker_starter(emulator, db_path, events, FAST) as start:
        yield start


@pytest.fixture
async def worker(start_worker) -> DeliveryHandle:
    return await start_worker()


async def show_hidden_image(emulator, moderation, chat_ids) -> int:
    """Send one photo to each chat, record where it shows, then hide it by three reports."""
    image_id = None
    async with Bot(TOKEN, base_url=emulator.base_url) as bot:
        for chat_id in chat_ids:
            message = await bot.send_photo(chat_id, PHOTO_URL, caption=CAPTION, parse_mode="HTML")
            if image_id is None:
                unique_ids = [size.file_unique_id for size in message.photo]
                image_id = await moderation.register_telegram_photo(unique_ids, phash=None)
            await moderation.record_sent(
                chat_id, message.message_id, image_id, caption_html=CAPTION
            )
    for reporter in (101, 102, 103):
        await moderation.report(image_id, reporter_id=reporter, chat_id=None)
    assert await moderation.is_hidden(image_id)
    return image_id


def original_file_ids(emulator, chat_id: int) -> tuple[str, ...]:
    return emulator.sent(chat_id)[0].photo_file_ids


async def hide(hiding, worker, image_id: int) -> int:
    queued = await hiding.queue_edits(image_id)
    worker.wake()
    await worker.drain(timeout=10)
    return queued


def calls(emulator, method: str, chat_id: int | None = None):
    return [
        call
        for call in emulator.requests
        if call.method == method
        and (chat_id is None or str(call.params.get("chat_id")) == str(chat_id))
    ]


def uploads(emulator) -> int:
    return sum(
        any(isinstance(value, UploadedFile) for value in call.params.values())
        for call in calls(emulator, "editMessageMedia")
    )


async def set_language(db, chat_id: int, language: str) -> None:
    await chats.remember(db, chat_id, type="private", title=None, at=utc_now())
    await chats.set_language(db, chat_id, language)
    await db.commit()


# Queueing


def test_the_fallback_text_keeps_the_caption_and_escapes_the_note():
    assert hidden_image_fallback("<b>x</b>", "a < b & c") == "<b>x</b>\n\na &lt; b &amp; c"
    assert hidden_image_fallback(None, "note") == "note"


def test_an_edit_row_carries_its_fallback_text_as_its_only_part():
    edit = ImageEdit(message_id=5, caption=None, fallback_text="text")
    with pytest.raises(ValueError, match="fallback_text"):
        OutgoingMessage(key="k", chat_id=1, parts=("other",), edit=edit)


async def test_queueing_twice_queues_nothing_new(emulator, moderation, hiding, outbox):
    image_id = await show_hidden_image(emulator, moderation, (1, 2, 3))
    assert await hiding.queue_edits(image_id) == 3
    assert await hiding.queue_edits(image_id) == 0
    assert (await outbox.stats()).queued == 3


async def test_an_image_that_is_not_hidden_queues_nothing(emulator, moderation, hiding):
    image_id = await show_hidden_image(emulator, moderation, (1,))
    await moderation.unhide(image_id, actor_id=1, is_chat_admin=True)
    assert await hiding.queue_edits(image_id) == 0


# Editing


async def test_every_message_with_the_image_shows_the_placeholder_and_keeps_its_caption(
    emulator, moderation, hiding, worker, db
):
    chat_ids = (1, 2, 3)
    image_id = await show_hidden_image(emulator, moderation, chat_ids)
    before = {chat: original_file_ids(emulator, chat) for chat in chat_ids}

    assert await hide(hiding, worker, image_id) == 3

    messages = [emulator.sent(chat) for chat in chat_ids]
    assert all(len(sent) == 1 for sent in messages)
    shown = {sent[0].photo_file_ids for sent in messages}
    assert len(shown) == 1
    assert shown.isdisjoint(before.values())
    for [message] in messages:
        assert (message.caption, message.raw_text, message.is_edited) == (
            PLAIN_CAPTION,
            CAPTION,
            True,
        )
        assert not message.is_deleted
    for chat, [message] in zip(chat_ids, messages, strict=True):
        row = await rows_db.get(db, f"hide:{image_id}:0:{chat}:{message.message_id}")
        assert row.status == "sent"


async def test_the_placeholder_is_uploaded_once_then_reused_by_file_id(
    emulator, moderation, hiding, worker
):
    image_id = await show_hidden_image(emulator, moderation, range(1, 11))
    await hide(hiding, worker, image_id)
    edits = calls(emulator, "editMessageMedia")
    assert len(edits) == 10
    assert all(call.is_ok for call in edits)
    assert uploads(emulator) == 1
    file_id = emulator.sent(1)[0].photo_file_ids[-1]
    reused = [call for call in edits if file_id in str(call.params.get("media"))]
    assert len(reused) == 9


async def test_a_message_that_cannot_be_edited_is_deleted_and_resent_with_the_note(
    emulator, moderation, hiding, worker, db
):
    await set_language(db, 2, "fr")
    image_id = await show_hidden_image(emulator, moderation, (1, 2))
    emulator.fail_next(
        "editMessageMedia", status=400, description="Bad Request: message can't be edited",
        chat_id=2,
    )  # fmt: skip
    await hide(hiding, worker, image_id)

    photo, text = emulator.sent(2)
    assert photo.is_deleted
    assert text.text == f"{PLAIN_CAPTION}\n\n{NOTES['fr']}"
    assert text.raw_text == f"{CAPTION}\n\n{NOTES['fr']}"
    assert not emulator.sent(1)[0].is_deleted
    row = await rows_db.get(db, f"hide:{image_id}:0:2:{photo.message_id}")
    assert (row.status, row.step) == ("sent", "send")


async def test_an_old_message_that_cannot_be_edited_is_left_with_the_reason(
    emulator, emulator_clock, moderation, hiding, worker, db, caplog
):
    image_id = await show_hidden_image(emulator, moderation, (1, 2))
    emulator_clock.advance(hours=49)
    emulator.fail_next(
        "editMessageMedia", status=400, description="Bad Request: message can't be edited",
        chat_id=2,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outbox"):
        await hide(hiding, worker, image_id)

    [photo] = emulator.sent(2)
    assert not photo.is_deleted
    assert [c.status for c in calls(emulator, "editMessageMedia", 2)] == [400]
    assert [c.status for c in calls(emulator, "deleteMessage", 2)] == [400]
    assert calls(emulator, "sendMessage", 2) == []
    row = await rows_db.get(db, f"hide:{image_id}:0:2:{photo.message_id}")
    assert row.status == "failed"
    assert "can't be edited" in row.last_error
    assert "can't be deleted" in row.last_error
    assert any("can't be deleted" in record.getMessage() for record in caplog.records)


async def test_a_chat_that_blocked_the_bot_is_reported_unreachable(
    emulator, moderation, hiding, worker, events, outbox
):
    image_id = await show_hidden_image(emulator, moderation, (1, 2, 3))
    emulator.block(2)
    await hide(hiding, worker, image_id)
    assert [chat for chat, _ in events.unreachable] == [2]
    assert [c.status for c in calls(emulator, "editMessageMedia", 2)] == [403]
    assert calls(emulator, "deleteMessage") == []
    stats = await outbox.stats()
    assert (stats.sent, stats.failed) == (2, 1)


async def test_a_restart_mid_run_finishes_without_editing_a_message_twice(
    emulator, moderation, hiding, outbox, start_worker
):
    chat_ids = range(1, 61)
    image_id = await show_hidden_image(emulator, moderation, chat_ids)
    assert await hiding.queue_edits(image_id) == len(chat_ids)
    paced = replace(FAST, overall_per_second=150)
    first = await start_worker(paced, worker_id="akhbar")
    await emulator.wait_for(lambda _: len(calls(emulator, "editMessageMedia")) >= 25)
    at_risk = await first.abort()

    second = await start_worker(paced, worker_id="akhbar")
    await second.drain(timeout=10)

    placeholder = emulator.sent(1)[0].photo_file_ids
    assert all(emulator.sent(chat)[0].photo_file_ids == placeholder for chat in chat_ids)
    edits = Counter(int(call.params["chat_id"]) for call in calls(emulator, "editMessageMedia"))
    assert set(edits) == set(chat_ids)
    assert {chat for chat, n in edits.items() if n > 1} <= at_risk
    assert calls(emulator, "deleteMessage") == []
    assert (await outbox.stats()).sent == len(chat_ids)


async def test_a_restart_after_the_delete_sends_the_fallback_without_editing_again(
    emulator, moderation, hiding, db, start_worker
):
    image_id = await show_hidden_image(emulator, moderation, (1,))
    await hiding.queue_edits(image_id)
    now = utc_now().timestamp()
    [row] = await rows_db.claim(db, worker="akhbar", now=now, lease_until=now + 60, limit=1)
    deleted = rows_db.RowProgress(row.id, 1, 0, "queued", 0, 0.0, None, now, None, "send")
    await rows_db.record(db, [deleted], worker="akhbar")  # the delete was recorded, then a crash
    await db.commit()

    handle = await start_worker(worker_id="akhbar")
    await handle.drain(timeout=5)
    assert calls(emulator, "editMessageMedia") == calls(emulator, "deleteMessage") == []
    assert emulator.sent(1)[-1].text == f"{PLAIN_CAPTION}\n\n{NOTES['ar']}"
