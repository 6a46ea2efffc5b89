"""People report images from chat; at the threshold the image is hidden everywhere."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw

from bot.app import build_application, polling
from bot.config import ModerationConfig
from bot.models import ArticleDraft
from tests.conftest import NOW
from tests.support.digest_world import MovableClock, store
from tests.test_e2e_reading import ask

OPERATOR = 900
GROUP = -1002000
READERS = (7, 8, 9)
THANKS = "شكرا على الإبلاغ! ستُحجب هذه الصورة تلقائيا حين يبلغ عنها عدة أشخاص."


def photo_bytes(seed: int, size=(640, 480), quality: int = 90) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        box = sorted(rng.sample(range(size[0]), 2)), sorted(rng.sample(range(size[1]), 2))
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((box[0][0], box[1][0], box[0][1], box[1][1]), fill=color)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def resized(data: bytes, factor: float = 0.5) -> bytes:
    image = Image.open(io.BytesIO(data))
    small = image.resize((int(image.width * factor), int(image.height * factor)))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    return out.getvalue()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(NOW)


@pytest.fixture
async def bot(emulator, bot_config, clock):
    config = bot_config.model_copy(
        update={"moderation": ModerationConfig(operator_ids=(OPERATOR,))}
    )
    app = build_application(config, clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=1):
        yield app


async def article_with_photo(app) -> int:
    [article_id] = await store(
        app.bot_data.services,
        ArticleDraft(
            source="هسبريس",
            title="صورة من الرباط",
            body="نص الخبر.",
            url="https://news.test/rabat",
            image_url="https://news.test/rabat.jpg",
        ),
    )
    return article_id


async def read_photo(emulator, chat_id: int, article_id: int):
    await emulator.send_text(chat_id, f"/read {article_id}")
    photo = await emulator.next_message(chat_id)
    await emulator.next_message(chat_id)  # the body
    return photo


async def report(emulator, photo, user_id: int) -> str:
    [(label, data)] = photo.buttons
    assert label == "🚩 إبلاغ عن الصورة"
    query = await emulator.press_button(photo.chat_id, photo.message_id, data, user_id=user_id)
    return (await emulator.wait_for_callback_answer(query)).text


async def test_three_readers_hide_an_article_photo_and_the_next_read_omits_it(emulator, bot):
    article_id = await article_with_photo(bot)
    photos = [await read_photo(emulator, reader, article_id) for reader in READERS]
    assert all(p.photo == "https://news.test/rabat.jpg" for p in photos)
    answers = [await report(emulator, photo, photo.chat_id) for photo in photos]
    assert answers[:2] == [THANKS, THANKS]
    assert answers[2].startswith("شكرا على الإبلاغ! تم حجب هذه الصورة")
    for photo in photos:  # what the bot already sent is changed in every chat
        await emulator.wait_for(
            lambda call, p=photo: (
                call.method == "editMessageMedia"
                and int(call.params["chat_id"]) == p.chat_id
                and call.status == 200
            )
        )
        edited = next(m for m in emulator.sent(photo.chat_id) if m.message_id == photo.message_id)
        assert edited.photo != photo.photo and edited.caption == photo.caption
    again = await ask(emulator, f"/read {article_id}", chat_id=READERS[0])
    assert again.photo is None
    assert "حُجبت صورة هذا الخبر بعد بلاغات من القراء" in again.text
    assert "نص الخبر." in again.text


async def test_one_person_reporting_three_times_counts_once(emulator, bot):
    article_id = await article_with_photo(bot)
    photo = await read_photo(emulator, READERS[0], article_id)
    answers = [await report(emulator, photo, READERS[0]) for _ in range(3)]
    already = "لقد أبلغت عن هذه الصورة من قبل. شكرا!"
    assert answers == [THANKS, already, already]
    assert (await ask(emulator, f"/read {article_id}", chat_id=READERS[1])).photo is not None


async def test_a_forged_report_button_is_refused_and_counts_nothing(emulator, bot):
    article_id = await article_with_photo(bot)
    photo = await read_photo(emulator, READERS[0], article_id)
    record = emulator.state.chats[READERS[0]].messages[photo.message_id]
    record.payload["reply_markup"] = {
        "inline_keyboard": [[{"text": "🚩 إبلاغ عن الصورة", "callback_data": "x1:999999"}]]
    }
    forged = emulator.sent(READERS[0])[0]
    assert await report(emulator, forged, READERS[0]) == (
        "لم أعد أعرف هذه الصورة، لذلك لا يمكن الإبلاغ عنها."
    )
    queue = await ask(emulator, "/reports", chat_id=OPERATOR)
    assert queue.text == "لا توجد صور مبلغ عنها."


async def test_report_command_needs_a_reply_to_a_photo(emulator, bot):
    assert "أجب على رسالتها بالأمر \u200e/report" in (await ask(emulator, "/report")).text
    question = await emulator.send_text(7, "مرحبا")
    await emulator.send_text(7, "/report", reply_to_message_id=question["message_id"])
    assert (await emulator.next_message(7)).text == "الرسالة التي أجبت عليها لا تحتوي على صورة."


def group(emulator, bot_app, *, can_delete: bool) -> None:
    emulator.add_chat(GROUP, "supergroup", title="مجموعة الأخبار")
    emulator.set_member(GROUP, bot_app.bot.id, "administrator", can_delete_messages=can_delete)
    for member in (*READERS, 50):
        emulator.set_member(GROUP, member, "member")


async def report_in_group(emulator, photo_message_id: int, user_id: int) -> None:
    await emulator.send_text(
        GROUP, "/report", user_id=user_id, reply_to_message_id=photo_message_id
    )


async def test_a_group_photo_reported_by_three_members_is_deleted_and_copies_too(emulator, bot):
    group(emulator, bot, can_delete=True)
    original = photo_bytes(seed=1)
    for reader in READERS[:2]:
        await ask(emulator, "/start", chat_id=reader)
    posted = await emulator.send_photo_from_user(GROUP, original, user_id=50)
    for reader in READERS[:2]:
        await report_in_group(emulator, posted["message_id"], reader)
        assert (await emulator.next_message(reader)).text == THANKS  # told privately
    await report_in_group(emulator, posted["message_id"], READERS[2])
    in_group = await emulator.next_message(GROUP)  # never talked to the bot: told in the group
    assert in_group.text.startswith("شكرا على الإبلاغ! تم حجب هذه الصورة")
    removed = await emulator.next_message(GROUP)
    assert removed.text == "🚫 حُذفت صورة بعد بلاغات عدة أشخاص."
    assert emulator.state.chats[GROUP].messages[posted["message_id"]].is_deleted

    copy = await emulator.send_photo_from_user(GROUP, resized(original), user_id=50)
    assert (await emulator.next_message(GROUP)).text == "🚫 حُذفت صورة بعد بلاغات عدة أشخاص."
    assert emulator.state.chats[GROUP].messages[copy["message_id"]].is_deleted

    unrelated = await emulator.send_photo_from_user(GROUP, photo_bytes(seed=2), user_id=50)
    await emulator.send_text(GROUP, "/help", user_id=50)  # updates are handled in order
    assert (await emulator.next_message(GROUP)).text.startswith("كيف تستعمل")
    assert not emulator.state.chats[GROUP].messages[unrelated["message_id"]].is_deleted


async def test_without_the_right_to_delete_the_group_admins_are_told(emulator, bot):
    group(emulator, bot, can_delete=False)
    posted = await emulator.send_photo_from_user(GROUP, photo_bytes(seed=3), user_id=50)
    for reader in READERS:
        await report_in_group(emulator, posted["message_id"], reader)
        await emulator.next_message(GROUP)  # the answer, in the group
    notice = await emulator.next_message(GROUP)
    assert notice.text.startswith("⚠️ أبلغ عدة أشخاص عن صورة")
    assert notice.reply_to_message_id == posted["message_id"]


async def test_unhide_restores_and_the_cool_down_holds(emulator, bot, clock):
    article_id = await article_with_photo(bot)
    for reader in READERS:
        await report(emulator, await read_photo(emulator, reader, article_id), reader)
    assert "#1" in (await ask(emulator, "/reports", chat_id=OPERATOR)).text
    assert "هذا الأمر خاص بالمشرفين" in (await ask(emulator, "/unhide 1", chat_id=7)).text
    assert (await ask(emulator, "/unhide 1", chat_id=OPERATOR)).text.startswith("أعيد إظهار")

    later = [await read_photo(emulator, reader, article_id) for reader in (*READERS, 10)]
    assert all(p.photo for p in later)
    for photo in later:
        await report(emulator, photo, photo.chat_id)
    assert (await ask(emulator, f"/read {article_id}", chat_id=11)).photo  # cool-down

    clock.advance(hours=25)
    fresh = await read_photo(emulator, 12, article_id)
    assert (await report(emulator, fresh, 12)).startswith("شكرا على الإبلاغ! تم حجب")


async def test_group_admins_may_raise_but_not_lower_the_report_threshold(emulator, bot):
    group(emulator, bot, can_delete=True)
    emulator.set_member(GROUP, 60, "administrator")
    await emulator.send_text(GROUP, "/reportthreshold 1", user_id=60)
    assert "أقل من 3 بلاغات" in (await emulator.next_message(GROUP)).text
    await emulator.send_text(GROUP, "/reportthreshold 5", user_id=60)
    assert (await emulator.next_message(GROUP)).text == "تُحجب الصور هنا بعد 5 بلاغات."
    await emulator.send_text(GROUP, "/reportthreshold 5", user_id=READERS[0])
    assert "خاص بالمشرفين" in (await emulator.next_message(GROUP)).text


async def test_report_command_and_button_on_a_bot_photo_count_together(emulator, bot):
    group(emulator, bot, can_delete=True)
    article_id = await article_with_photo(bot)
    await emulator.send_text(GROUP, f"/read {article_id}", user_id=READERS[0])
    photo = await emulator.next_message(GROUP)
    await emulator.next_message(GROUP)  # the body
    for reader in READERS[:2]:
        await report(emulator, photo, reader)
    await report_in_group(emulator, photo.message_id, READERS[2])
    answer = await emulator.next_message(GROUP)  # never talked to the bot: told in the group
    assert answer.text.startswith("شكرا على الإبلاغ! تم حجب هذه الصورة")
    again = await ask(emulator, f"/read {article_id}", chat_id=READERS[0])
    assert again.photo is None


async def test_ordinary_group_photos_leave_no_record(emulator, bot):
    group(emulator, bot, can_delete=True)
    await emulator.send_photo_from_user(GROUP, photo_bytes(seed=7), user_id=50)
    await ask(emulator, "/help", chat_id=GROUP, user_id=50)  # updates are handled in order
    rows = await bot.bot_data.services.db.execute_fetchall("SELECT count(*) FROM images")
    assert rows[0][0] == 0
