"""The web chat page over the emulator alone, in Chromium: the test plays the bot over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sandbox import browser_unavailable, chromium, output_dir

_unavailable = browser_unavailable()
if _unavailable:
    pytest.skip(f"browser tests skipped: {_unavailable}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.support.webchat_page import ChatPage  # noqa: E402
from tests.support.webchat_server import BackgroundWebChat  # noqa: E402

TOKEN = "424242:WEBCHAT-test-token"
PERSON = 201
GROUP = -100500
SAMPLES = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "samples"


@pytest.fixture(scope="module")
def served():
    server = BackgroundWebChat(TOKEN)
    server.start({path.name: path.read_bytes() for path in sorted(SAMPLES.glob("*.jpg"))})

    def seed() -> None:
        emulator = server.emulator
        emulator.add_user(PERSON, first_name="Amina", language_code="ar")
        emulator.add_chat(PERSON, "private", first_name="Amina")
        emulator.add_chat(GROUP, "supergroup", title="مجموعة")
        emulator.set_member(GROUP, PERSON)
        server.webchat.add_person(PERSON, "reader")

    server.call(seed)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("profile")) as context:
        yield context


@pytest.fixture
def chat(served, browser, request):
    page = browser.new_page()
    page.goto(served.webchat.url)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    driver = ChatPage(page, output_dir() / "screenshots" / f"{request.node.name}.png")
    driver.open_chat(PERSON)
    yield driver
    driver.capture()
    page.close()


def sent(served: BackgroundWebChat, text: str, **params) -> int:
    answer = served.bot_api("sendMessage", chat_id=PERSON, text=text, parse_mode="HTML", **params)
    assert answer["ok"], answer
    return answer["result"]["message_id"]


def test_html_entities_render_as_telegram_shows_them(served, chat):
    message_id = sent(
        served,
        "<b>عاجل</b> <i>مائل</i> <u>تحت</u> <s>مشطوب</s> "
        '<a href="https://example.com/x">رابط</a> <code>code 42</code> '
        "<tg-spoiler>سر</tg-spoiler>\n<blockquote>اقتباس مع Latin 2025</blockquote>\n"
        "<pre>x = 1</pre>",
    )
    text = chat.page.locator(f'.message[data-id="{message_id}"] .text')
    for selector, shown in (
        ("b", "عاجل"), ("i", "مائل"), ("u", "تحت"), ("s", "مشطوب"), ("a", "رابط"),
        ("code", "code 42"), (".spoiler", "سر"), ("blockquote", "اقتباس مع Latin 2025"),
        ("pre", "x = 1"),
    ):  # fmt: skip
        expect(text.locator(selector)).to_have_text(shown)
    expect(text.locator("a")).to_have_attribute("href", "https://example.com/x")
    spoiler = text.locator(".spoiler")
    assert spoiler.evaluate("e => getComputedStyle(e).color") == "rgba(0, 0, 0, 0)"
    spoiler.click()
    assert spoiler.evaluate("e => getComputedStyle(e).color") != "rgba(0, 0, 0, 0)"
    assert text.evaluate("e => getComputedStyle(e).direction") == "rtl"


def test_edits_and_deletions_change_the_message_in_place(served, chat):
    message_id = sent(served, "<b>أول</b> نص")
    message = chat.page.locator(f'.message[data-id="{message_id}"]')
    expect(message.locator(".text")).to_have_text("أول نص")
    answer = served.bot_api(
        "editMessageText", chat_id=PERSON, message_id=message_id, text="نص معدل", parse_mode="HTML"
    )
    assert answer["ok"]
    expect(message.locator(".text")).to_have_text("نص معدل")
    expect(message.locator(".meta")).to_contain_text("edited")
    assert served.bot_api("deleteMessage", chat_id=PERSON, message_id=message_id)["ok"]
    expect(message).to_have_count(0)


def test_a_request_telegram_refuses_shows_in_red_with_its_error(served, chat):
    answer = served.bot_api("sendMessage", chat_id=PERSON, text="<b>غير مغلق", parse_mode="HTML")
    assert not answer["ok"]
    refused = chat.page.locator("#messages .message.refused").last
    expect(refused).to_contain_text(answer["description"])
    expect(refused.locator(".refusal-text")).to_have_text("<b>غير مغلق")
    # Retried until it holds: the list may be re-rendered between finding and reading it.
    expect(refused.locator(".bubble")).to_have_css("color", "rgb(229, 57, 53)")
    expect(chat.page.locator("#refused-list li").first).to_contain_text(answer["description"])


def test_button_answers_show_as_a_toast_or_an_alert(served, chat):
    keyboard = {"inline_keyboard": [[{"text": "اضغط", "callback_data": "press"}]]}
    served.bot_api("getUpdates", offset=-1)  # forget older updates
    for show_alert in (False, True):
        message_id = sent(served, "زر", reply_markup=keyboard)
        message = chat.page.locator(f'.message[data-id="{message_id}"]')
        message.locator(".key").click()
        updates = served.bot_api("getUpdates", timeout=10)["result"]
        query = updates[-1]["callback_query"]
        assert query["from"]["id"] == PERSON and query["data"] == "press"
        served.bot_api("getUpdates", offset=updates[-1]["update_id"] + 1)
        served.bot_api(
            "answerCallbackQuery",
            callback_query_id=query["id"],
            text="تم ✅",
            show_alert=show_alert,
        )
        if show_alert:
            expect(chat.page.locator("#alert-text")).to_have_text("تم ✅")
            chat.page.click("#alert-ok")
        else:
            expect(chat.page.locator("#toast")).to_have_text("تم ✅")


def test_a_person_sends_a_sample_photo_and_one_from_disk(served, chat):
    served.bot_api("getUpdates", offset=-1)
    chat.page.click("#attach-button")
    chat.page.fill("#input", "صورة من المدينة")
    chat.page.click('#samples .sample[data-sample="medina.jpg"]')
    chat.page.click("#attach-button")
    chat.page.set_input_files("#upload", str(SAMPLES / "atlas.jpg"))
    photos = chat.page.locator("#messages .message.outgoing img.photo")
    expect(photos).to_have_count(2)
    expect(chat.page.locator("#messages .message.outgoing .text")).to_have_text("صورة من المدينة")
    assert photos.first.evaluate("e => e.naturalWidth") == 640
    updates = served.bot_api("getUpdates", timeout=5)["result"]
    messages = [u["message"] for u in updates if "photo" in u.get("message", {})]
    assert [m.get("caption") for m in messages[-2:]] == ["صورة من المدينة", None]
