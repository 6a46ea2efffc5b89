"""Topics as readers meet them: named in their language, typed in any, unknown ones refused,
and a topic keyboard Telegram accepts however many categories the feeds bring."""

from __future__ import annotations

import time

from emulator import BotApiEmulator, SentMessage
from tests.support.digest_world import draft, store

USER = 7
ADMIN = 42
GROUP = -1004321


async def ask(emulator: BotApiEmulator, text: str, chat_id: int = USER, **user) -> SentMessage:
    await emulator.send_text(chat_id, text, **user)
    return await emulator.next_message(chat_id)


async def press_and_see_edit(emulator: BotApiEmulator, message: SentMessage, data: str):
    pressed_at = time.monotonic()
    await emulator.press_button(message.chat_id, message.message_id, data)
    await emulator.wait_for(lambda call: call.method == "editMessageText" and call.at >= pressed_at)
    return next(m for m in emulator.sent(message.chat_id) if m.message_id == message.message_id)


def services(akhbar):
    return akhbar.bot_data.services


async def test_subscribing_to_an_unknown_topic_is_refused_with_the_topics_there_are(
    emulator, akhbar
):
    reply = await ask(emulator, "/subscribe foo")
    assert reply.text == "لا يوجد موضوع باسم «foo». المواضيع المتوفرة: المغرب، العالم، رياضة"
    assert await services(akhbar).subscriptions.subscription(USER) is None
    english = await ask(emulator, "/subscribe maroc sprot", language_code="en")
    assert english.text == (
        "There is no topic called “sprot”. Available topics: Morocco, World, Sport"
    )
    assert await services(akhbar).subscriptions.subscription(USER) is None


async def test_topics_are_typed_in_any_language_and_stored_by_their_id(emulator, akhbar):
    reply = await ask(emulator, "/subscribe مغرب Monde الرياضة")
    assert reply.text.startswith("تم اشتراكك. المواضيع: المغرب، العالم، رياضة")
    subscription = await services(akhbar).subscriptions.subscription(USER)
    assert subscription.topics == ("maroc", "monde", "sport")


async def test_latest_accepts_a_topic_by_its_name_in_any_language(emulator, akhbar):
    by_id = await ask(emulator, "/latest 3 maroc")
    assert by_id.text.startswith("آخر الأخبار: المغرب")
    for word in ("المغرب", "مغرب", "Maroc", "morocco", "المَغْرِب"):
        reply = await ask(emulator, f"/latest 3 {word}")
        assert reply.text == by_id.text, word
    french = await ask(emulator, "/latest 3 العالم", language_code="fr")
    assert french.text.startswith("Dernières nouvelles : Monde")
    unknown = await ask(emulator, "/latest nothing", language_code="en")
    assert unknown.text == "No news on the topic “nothing”. Available topics: Morocco, World, Sport"


async def test_schedule_refuses_unknown_topics_and_accepts_arabic_names(emulator, akhbar):
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    refused = await ask(emulator, "/schedule 08:00 bogus-topic", chat_id=GROUP, user_id=ADMIN)
    assert refused.text.startswith("لا يوجد موضوع باسم «bogus-topic»")
    assert await services(akhbar).schedules.of_chat(GROUP) == []
    created = await ask(emulator, "/schedule 08:00 مغرب", chat_id=GROUP, user_id=ADMIN)
    assert "المواضيع: المغرب" in created.text
    [schedule] = await services(akhbar).schedules.of_chat(GROUP)
    assert schedule.topics == ("maroc",)


async def test_a_feeds_own_category_is_a_topic_shown_as_it_is(emulator, akhbar):
    await store(services(akhbar), draft("انتخابات جزئية", topics=("سياسة",)))
    reply = await ask(emulator, "/subscribe السياسة")
    assert reply.text.startswith("تم اشتراكك. المواضيع: سياسة")


async def test_the_topic_keyboard_stays_within_telegrams_100_buttons(emulator, akhbar):
    categories = [f"cat{n:02}" for n in range(60)]
    await store(
        services(akhbar),
        *(draft(f"خبر رقم {n}", topics=(topic,)) for n, topic in enumerate(categories)),
    )
    await ask(emulator, "/subscribe")
    keyboard = await ask(emulator, "/topics")
    assert all(call.is_ok for call in emulator.requests)
    assert 0 < len(keyboard.buttons) <= 100
    assert ("▫️ المغرب", "u1:t:maroc") in keyboard.buttons  # the most used come first
    seen = {data for _, data in keyboard.buttons if data.startswith("u1:t:")}
    page = keyboard
    while next_page := [data for text, data in page.buttons if text == "التالي ←"]:
        page = await press_and_see_edit(emulator, page, next_page[0])
        seen |= {data for _, data in page.buttons if data.startswith("u1:t:")}
    assert {f"u1:t:{topic}" for topic in categories} <= seen
    chosen = await press_and_see_edit(emulator, page, "u1:t:cat59")
    assert ("✅ cat59", "u1:t:cat59") in chosen.buttons  # stays on the page it was tapped on


async def test_a_forged_topic_button_adds_no_topic(emulator, akhbar):
    await ask(emulator, "/subscribe")
    keyboard = await ask(emulator, "/topics")
    offered = keyboard.buttons
    forged = {"inline_keyboard": [[{"text": "x", "callback_data": "u1:t:made-up"}]]}
    emulator.state.chats[USER].messages[keyboard.message_id].payload["reply_markup"] = forged
    redrawn = await press_and_see_edit(emulator, keyboard, "u1:t:made-up")
    assert redrawn.buttons == offered
    subscription = await services(akhbar).subscriptions.subscription(USER)
    assert subscription.topics == () and subscription.instant_topics == ()
