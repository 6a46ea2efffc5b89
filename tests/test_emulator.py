"""End-to-end tests of the Bot API emulator through python-telegram-bot's real Bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot as TelegramBot
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.clock import FakeClock

USER = 7001
PHOTO_URL = "https://example.org/news.jpg"

# The emulator's time is the `clock` fixture's, moved by hand (for the 48-hour delete rule).
pytestmark = pytest.mark.emulator(fake_clock=True)


@pytest.fixture(autouse=True)
def salma(emulator: BotApiEmulator) -> None:
    """The private chat every test here talks to."""
    emulator.add_chat(USER, "private", first_name="Salma")


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[TelegramBot]:
    telegram_bot = TelegramBot(
        TOKEN, base_url=emulator.base_url, base_file_url=emulator.base_file_url
    )
    await telegram_bot.initialize()
    yield telegram_bot
    await telegram_bot.shutdown()


async def test_get_me_returns_the_bot_user(bot: TelegramBot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "akhbar_test_bot"


async def test_wrong_token_is_rejected_as_invalid(emulator: BotApiEmulator) -> None:
    wrong = TelegramBot("123456:WRONG", base_url=emulator.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_sent_message_is_recorded_with_plain_text_and_entities(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    message = await bot.send_message(USER, "<b>عاجل</b>: خبر", parse_mode="HTML")
    assert message.text == "عاجل: خبر"
    assert message.entities[0].type == "bold"
    assert message.from_user.id == bot.id
    [sent] = emulator.sent(USER)
    assert (sent.message_id, sent.text, sent.raw_text) == (
        message.message_id,
        "عاجل: خبر",
        "<b>عاجل</b>: خبر",
    )
    assert (await emulator.next_message(USER)).message_id == message.message_id


@pytest.mark.parametrize(
    "html", ["<b>open", "<b>x</i>", "<br>", "AT&T", "&nbsp;", '<span class="x">a</span>']
)
async def test_invalid_html_is_refused(bot: TelegramBot, html: str) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, html, parse_mode="HTML")


async def test_text_longer_than_4096_is_refused(bot: TelegramBot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "a" * 4097)


async def test_arabic_text_of_exactly_4096_counted_after_parsing_passes(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    text = "<i>" + "ب" * 4096 + "</i>"
    message = await bot.send_message(USER, text, parse_mode="HTML")
    assert len(message.text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "ب" * 4096 + "&amp;", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot: TelegramBot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("اقرأ", callback_data="ب" * 32)]])
    await bot.send_message(USER, "ok", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("اقرأ", callback_data="ب" * 32 + "x")]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "no", reply_markup=too_long)


async def test_an_inline_keyboard_of_more_than_100_buttons_is_refused(bot: TelegramBot) -> None:
    def keyboard(buttons: int) -> InlineKeyboardMarkup:
        row = [InlineKeyboardButton(str(n), callback_data=str(n)) for n in range(buttons)]
        return InlineKeyboardMarkup([row[i : i + 2] for i in range(0, buttons, 2)])

    await bot.send_message(USER, "ok", reply_markup=keyboard(100))
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(USER, "no", reply_markup=keyboard(101))


async def test_unknown_chat_is_refused(bot: TelegramBot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello")


async def test_injected_429_raises_retry_after(
    bot: TelegramBot, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    emulator.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "first")
    assert caught.value.retry_after == dt.timedelta(seconds=7)
    await bot.send_message(USER, "second")
    assert [m.text for m in emulator.sent(USER)] == ["second"]


async def test_blocked_user_raises_forbidden(bot: TelegramBot, emulator: BotApiEmulator) -> None:
    emulator.block(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "hello")


async def test_server_error_raises_network_error(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    emulator.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "hello")


async def test_migrated_group_raises_chat_migrated_with_new_id(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    emulator.add_chat(-100, "group", title="أخبار")
    emulator.migrate_group(-100, -1001234)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-100, "hello")
    assert caught.value.new_chat_id == -1001234
    message = await bot.send_message(-1001234, "hello")
    assert message.chat.type == "supergroup"


async def test_channel_username_resolves(bot: TelegramBot, emulator: BotApiEmulator) -> None:
    emulator.add_chat(-1005, "channel", title="قناة", username="akhbar_news")
    message = await bot.send_message("@akhbar_news", "نشرة")
    assert message.chat.id == -1005
    assert emulator.sent(-1005)[0].text == "نشرة"


async def test_long_poll_returns_as_soon_as_a_user_writes(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emulator.wait_until_polling()
    await emulator.send_text(USER, "/start", language_code="ar")
    updates = await asyncio.wait_for(poll, timeout=2)
    [update] = updates
    assert update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.from_user.language_code == "ar"
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_long_poll_returns_empty_after_timeout(bot: TelegramBot) -> None:
    updates = await asyncio.wait_for(bot.get_updates(timeout=1), timeout=3)
    assert updates == ()


async def test_edit_changes_text_and_identical_edit_is_refused(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    message = await bot.send_message(USER, "draft")
    await bot.edit_message_text("final", chat_id=USER, message_id=message.message_id)
    [sent] = emulator.sent(USER)
    assert (sent.text, sent.is_edited) == ("final", True)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("final", chat_id=USER, message_id=message.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)


async def test_delete_is_refused_after_48_hours(
    bot: TelegramBot, emulator: BotApiEmulator, clock: FakeClock
) -> None:
    fresh = await bot.send_message(USER, "fresh")
    old = await bot.send_message(USER, "old")
    assert await bot.delete_message(USER, fresh.message_id)
    clock.advance(hours=49)
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(USER, old.message_id)
    assert [m.is_deleted for m in emulator.sent(USER)] == [True, False]


async def test_photo_sizes_keep_file_unique_ids_for_the_same_source(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    first = await bot.send_photo(USER, PHOTO_URL, caption="<b>صورة</b>", parse_mode="HTML")
    assert 2 <= len(first.photo) <= 3
    assert len({size.file_unique_id for size in first.photo}) == len(first.photo)
    again = await bot.send_photo(USER, first.photo[-1].file_id)
    assert [s.file_unique_id for s in again.photo] == [s.file_unique_id for s in first.photo]
    uploaded = await bot.send_photo(USER, b"\xff\xd8 jpeg bytes")
    assert uploaded.photo[0].file_unique_id != first.photo[0].file_unique_id
    assert emulator.sent(USER)[0].caption == "صورة"
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(USER, PHOTO_URL, caption="c" * 1025)


async def test_edit_media_replaces_the_photo(bot: TelegramBot, emulator: BotApiEmulator) -> None:
    message = await bot.send_photo(USER, PHOTO_URL)
    await bot.edit_message_media(
        InputMediaPhoto("https://example.org/other.jpg", caption="جديد"),
        chat_id=USER,
        message_id=message.message_id,
    )
    [sent] = emulator.sent(USER)
    assert (sent.photo, sent.caption) == ("https://example.org/other.jpg", "جديد")


async def test_button_press_reaches_the_bot_and_answer_is_recorded(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("اقرأ", callback_data="read:1")]])
    message = await bot.send_message(USER, "خبر", reply_markup=keyboard)
    query_id = await emulator.press_button(USER, message.message_id, "read:1")
    [update] = await bot.get_updates(timeout=1)
    assert (update.callback_query.id, update.callback_query.data) == (query_id, "read:1")
    await update.callback_query.answer("تم")
    assert emulator.callback_answers[query_id].text == "تم"
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(query_id, "again")


async def test_commands_are_stored_per_language(bot: TelegramBot, emulator: BotApiEmulator) -> None:
    await bot.set_my_commands([BotCommand("start", "ابدأ")], language_code="ar")
    await bot.set_my_commands([BotCommand("start", "Start")], scope=BotCommandScopeDefault())
    assert emulator.commands_for("ar") == [("start", "ابدأ")]
    assert emulator.commands_for() == [("start", "Start")]
    english = await bot.get_my_commands()
    assert [(c.command, c.description) for c in english] == [("start", "Start")]


async def test_flood_limits_answer_429_past_the_burst(
    bot: TelegramBot, emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    emulator.enforce_flood_limits = True
    for index in range(3):
        await bot.send_message(USER, f"burst {index}")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "one too many")
    assert len(emulator.send_times(USER)) == 3


async def test_next_message_times_out_with_what_was_sent(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    await bot.send_message(USER, "only one")
    await emulator.next_message(USER)
    with pytest.raises(AssertionError, match="only one"):
        await emulator.next_message(USER, timeout=0.05)


async def test_json_bodies_work_and_unknown_methods_are_not_found(
    emulator: BotApiEmulator,
) -> None:
    url = f"{emulator.base_url}{TOKEN}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/sendMessage", json={"chat_id": USER, "text": "hi"}) as ok:
            assert (ok.status, (await ok.json())["result"]["text"]) == (200, "hi")
        async with session.post(f"{url}/sendMessage", json={"chat_id": USER, "text": " "}) as bad:
            body = await bad.json()
            assert body == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
        async with session.get(f"{url}/noSuchMethod") as missing:
            assert (missing.status, (await missing.json())["description"]) == (404, "Not Found")
    assert [call.status for call in emulator.requests] == [200, 400, 404]


async def test_user_photo_can_be_downloaded_by_the_bot(
    bot: TelegramBot, emulator: BotApiEmulator
) -> None:
    await emulator.send_photo_from_user(USER, b"jpeg-bytes", caption="صورة")
    [update] = await bot.get_updates(timeout=1)
    file = await bot.get_file(update.message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"jpeg-bytes"
