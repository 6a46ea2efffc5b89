"""The sandbox in a real browser: `akhbar sandbox` started as a user would, driven in Chromium.

Each scenario ends with assertions on what the page shows and a screenshot of its final state
under the test run's output folder (screenshots/).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.sandbox import browser_unavailable, chromium, output_dir, start_sandbox

_unavailable = browser_unavailable()
if _unavailable:
    pytest.skip(f"browser tests skipped: {_unavailable}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.i18n.catalogs import Catalogs  # noqa: E402
from sandbox import world  # noqa: E402
from tests.support.webchat_page import ChatPage  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE_NEWS = (REPO / "bot" / "data" / "sample_news.txt").read_text(encoding="utf-8")
PLACEHOLDER = (REPO / "bot" / "data" / "placeholder.png").read_bytes()
HEADLINE = re.compile(r"^(\d+)\.\s+(.+)$", re.MULTILINE)
CATALOGS = Catalogs("ar")
AR, FR, EN = (CATALOGS.texts(code) for code in ("ar", "fr", "en"))


def hours_ahead(hours: int) -> str:
    """A schedule time on the sandbox's clock at most `hours` ahead (the sandbox runs in the
    shipped config's zone): the digest then comes within a day of the sample news loading, in
    the first digest's window, whatever the time of day the test runs."""
    tz = load_config(REPO / "config.toml", environ={}).bot.tz
    return f"{datetime.now(tz) + timedelta(hours=hours):%H}:00"


def before(t, key: str, **values: object) -> str:
    """The catalog text up to its first placeholder, for texts that hold varying values."""
    marker = "\x00"
    names = re.findall(r"{(\w+)}", t(key))
    filled = {name: marker for name in names} | {k: str(v) for k, v in values.items()}
    return t(key, **filled).split(marker)[0].strip()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"), "--fresh")
    yield running
    assert running.stop() == 0, running.output[-20:]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def chat(sandbox, browser, request):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sandbox.url)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    driver = ChatPage(page, output_dir() / "screenshots" / f"{request.node.name}.png")
    yield driver
    driver.capture()
    page.close()
    assert errors == []


def headlines(message) -> dict[int, str]:
    return {
        int(n): title.strip()
        for n, title in HEADLINE.findall(message.locator(".text").inner_text())
    }


def test_latest_shows_the_sample_headlines_pages_and_opens_an_article(chat):
    chat.act_as(world.SUBSCRIBER.id)
    chat.open_chat(world.SUBSCRIBER.id)
    listing = chat.send("/latest")
    expect(listing).to_contain_text(AR("latest-title"))
    first = headlines(listing)
    assert len(first) == 8
    assert sum(title in SAMPLE_NEWS for title in first.values()) >= 5

    listing = chat.page.locator(f'.message[data-id="{listing.get_attribute("data-id")}"]')
    chat.press(listing, AR("button-next"))
    expect(listing.locator(".meta")).to_contain_text("edited")  # the same message, edited
    second = headlines(listing)
    assert second and not set(second) & set(first)
    assert all(title in SAMPLE_NEWS for title in second.values())
    chat.press(listing, AR("button-previous"))
    expect(listing.locator(".text")).to_contain_text(next(iter(first.values())))

    newest = next(iter(first))
    count = chat.bot_messages().count()
    listing.locator(".key").filter(has_text=re.compile(rf"^{newest}$")).click()
    article = chat.next_bot_message(count)
    expect(article.locator("img.photo")).to_be_visible()
    expect(article.locator(".text b").first).to_have_text(first[newest])
    expect(article.locator(".text")).to_contain_text(world.PHOTO_SOURCE)
    body = chat.message_with(AR("button-source"))
    expect(body.locator(".key-url")).to_contain_text(AR("button-source"))


def test_search_results_read_right_to_left(chat):
    chat.act_as(world.READER_YOUSSEF.id)
    chat.open_chat(world.READER_YOUSSEF.id)
    results = chat.send("/search المغرب")
    text = results.locator(".text")
    expect(text).to_contain_text(before(AR, "search-title", query="المغرب"))
    assert text.evaluate("e => getComputedStyle(e).direction") == "rtl"
    # Latin commands inside the Arabic lines keep their own left-to-right order.
    command = text.locator("a.command").first
    assert command.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert command.inner_text().startswith("/read_")
    bubble, line = results.locator(".bubble").bounding_box(), text.bounding_box()
    assert abs((bubble["x"] + bubble["width"]) - (line["x"] + line["width"])) < 16


def test_group_and_channel_digests_arrive_when_the_clock_reaches_them(chat):
    chat.act_as(world.GROUP_ADMIN.id)
    chat.open_chat(world.GROUP_ID)
    created = chat.send(f"/schedule {hours_ahead(1)}")
    expect(created).to_contain_text(
        before(AR, "schedule-created", number=1, chat=world.GROUP_TITLE)
    )
    assert "1 digest(s) queued" in chat.operator("advance-clock")
    digest = chat.message_with(before(AR, "digest-heading"))
    links = digest.locator(f'a[href*="t.me/{world.BOT_USERNAME}?start=read_"]')
    expect(links.first).to_be_visible()

    chat.act_as(world.CHANNEL_ADMIN.id)
    chat.open_chat(world.CHANNEL_ID)
    post = chat.message_with(world.CHANNEL_WELCOME)
    post.hover()
    post.locator(".forward-action").click()
    expect(chat.page.locator("body")).to_have_attribute("data-chat", str(world.CHANNEL_ADMIN.id))
    chat.message_with(before(EN, "schedule-channel-chosen", chat=world.CHANNEL_TITLE))
    created = chat.send(f"/schedule {hours_ahead(2)}")
    expect(created).to_contain_text(
        before(EN, "schedule-created", number=1, chat=world.CHANNEL_TITLE)
    )
    assert "1 digest(s) queued" in chat.operator("advance-clock")
    chat.open_chat(world.CHANNEL_ID)
    posted = chat.message_with(before(EN, "digest-heading"))
    assert posted.get_attribute("class").split().count("from-bot") == 1

    # A digest's headline is a t.me link to the bot: it opens the article in the private chat.
    link = posted.locator('a[href*="start=read_"]').first
    article_id = re.search(r"start=read_(\d+)", link.get_attribute("href"))[1]
    link.click()
    expect(chat.page.locator("body")).to_have_attribute("data-chat", str(world.CHANNEL_ADMIN.id))
    started = chat.message_with(f"/start read_{article_id}")
    opened = started.locator("xpath=following-sibling::div[contains(@class, 'from-bot')][1]")
    expect(opened.locator(".text b").first).to_be_visible()


def test_a_subscriber_gets_a_digest_sent_now_from_the_operator_panel(chat):
    chat.act_as(world.READER_CAMILLE.id)
    chat.open_chat(world.READER_CAMILLE.id)
    expect(chat.send("/subscribe")).to_contain_text(before(FR, "subscribe-done"))
    count = chat.bot_messages().count()
    assert "queued" in chat.operator("digest-now")
    digest = chat.next_bot_message(count)
    expect(digest).to_contain_text(before(FR, "digest-heading"))
    expect(
        digest.locator(f'a[href*="t.me/{world.BOT_USERNAME}?start=read_"]').first
    ).to_be_visible()
    expect(chat.page.locator('#operator-status dd[data-status="Outbox sent"]')).not_to_have_text(
        "0"
    )


def test_a_photo_reported_by_three_people_becomes_the_placeholder_in_every_view(chat):
    chat.act_as(world.GROUP_ADMIN.id)
    chat.open_chat(world.GROUP_ID)
    chat.send("/language ar")  # the group's language, whatever the earlier tests left
    chat.send("/search الصويرة")
    # Found by its heading: a digest from an earlier test may still be arriving in the group.
    results = chat.message_with("الصويرة»")
    (article_id,) = headlines(results)
    count = chat.bot_messages().count()
    results.locator(".key").filter(has_text=re.compile(rf"^{article_id}$")).click()
    photo = chat.next_bot_message(count)
    image = photo.locator("img.photo")
    expect(image).to_be_visible()
    original = image.get_attribute("data-file-id")
    photo = chat.page.locator(f'.message[data-id="{photo.get_attribute("data-id")}"]')
    report = AR("button-report-image")

    chat.act_as(world.SUBSCRIBER.id)  # she also has the article in her private chat
    chat.open_chat(world.SUBSCRIBER.id)
    private_copy = chat.send(f"/read {article_id}")
    expect(private_copy.locator("img.photo")).to_have_attribute("data-file-id", original)
    private_copy = chat.page.locator(f'.message[data-id="{private_copy.get_attribute("data-id")}"]')
    chat.open_chat(world.GROUP_ID)
    assert chat.press(photo, report) == {"alert": AR("report-thanks")}
    for _ in range(2):  # one person reporting again counts once
        assert chat.press(photo, report) == {"alert": AR("report-already")}
    expect(photo.locator("img.photo")).to_have_attribute("data-file-id", original)

    chat.act_as(world.READER_YOUSSEF.id)
    chat.open_chat(world.GROUP_ID)
    assert chat.press(photo, report) == {"alert": AR("report-thanks")}
    expect(photo.locator("img.photo")).to_have_attribute("data-file-id", original)
    chat.act_as(world.READER_CAMILLE.id)
    chat.open_chat(world.GROUP_ID)
    assert chat.press(photo, report) == {
        "alert": AR("report-hidden-now")
    }  # the group speaks Arabic

    for person in (world.SUBSCRIBER, world.READER_YOUSSEF, world.READER_CAMILLE, world.GROUP_ADMIN):
        chat.act_as(person.id)
        chat.open_chat(world.GROUP_ID)
        shown = photo.locator("img.photo")
        expect(shown).not_to_have_attribute("data-file-id", original, timeout=15_000)
        expect(shown).to_be_visible()
        assert chat.page.request.get(shown.evaluate("e => e.src")).body() == PLACEHOLDER
    chat.act_as(world.SUBSCRIBER.id)
    chat.open_chat(world.SUBSCRIBER.id)
    expect(private_copy.locator("img.photo")).not_to_have_attribute("data-file-id", original)


def test_a_members_photo_reported_by_three_people_leaves_the_group(chat):
    chat.act_as(world.READER_YOUSSEF.id)
    chat.open_chat(world.GROUP_ID)
    chat.page.click("#attach-button")
    chat.page.click('#samples .sample[data-sample="medina.jpg"]')
    mine = chat.page.locator("#messages .message.outgoing").filter(has=chat.page.locator("img"))
    expect(mine.last).to_be_visible()
    photo = chat.page.locator(f'.message[data-id="{mine.last.get_attribute("data-id")}"]')

    for person in (world.SUBSCRIBER, world.READER_CAMILLE, world.GROUP_ADMIN):
        chat.act_as(person.id)
        chat.open_chat(world.GROUP_ID)
        photo.hover()
        photo.locator(".reply-action").click()
        expect(chat.page.locator("#reply-bar")).to_be_visible()
        with chat.page.expect_response(lambda r: r.url.endswith("/messages") and r.ok):
            chat.page.fill("#input", "/report")
            chat.page.press("#input", "Enter")

    for person in (world.SUBSCRIBER, world.READER_YOUSSEF, world.READER_CAMILLE, world.GROUP_ADMIN):
        chat.act_as(person.id)
        chat.open_chat(world.GROUP_ID)
        expect(photo).to_have_count(0, timeout=15_000)
        chat.message_with(AR("group-photo-removed"))
        expect(chat.page.locator(".reply-quote", has_text="Deleted message").first).to_be_visible()


def test_switching_to_french_changes_the_command_menu_and_the_replies(chat):
    chat.act_as(world.READER_YOUSSEF.id)
    chat.open_chat(world.READER_YOUSSEF.id)
    menu_latest = chat.page.locator('#command-menu .command-item[data-command="latest"] span')
    chat.page.click("#menu-button")
    expect(menu_latest).to_have_text(AR("command-latest"))
    chat.page.click("#menu-button")
    expect(chat.send("/help")).to_contain_text(AR("help").splitlines()[0])
    try:
        chat.set_language("fr")
        chat.page.click("#menu-button")
        expect(menu_latest).to_have_text(FR("command-latest"))
        chat.page.click("#menu-button")
        expect(chat.send("/help")).to_contain_text(FR("help").splitlines()[0])
        chat.capture()
    finally:
        chat.set_language("ar")


def test_the_page_is_usable_at_a_phones_width(chat):
    chat.page.set_viewport_size({"width": 390, "height": 800})
    chat.act_as(world.SUBSCRIBER.id)
    expect(chat.page.locator("#chat-list")).to_be_visible()
    chat.open_chat(world.FORUM_ID)
    expect(chat.page.locator("#chat-list")).to_be_hidden()
    chat.open_topic(world.FORUM_TOPICS[0])
    reply = chat.send("/latest 3")
    expect(reply).to_contain_text(AR("latest-title"))
    assert reply.evaluate("e => e.getBoundingClientRect().right") <= 390
    chat.open_topic(world.FORUM_TOPICS[1])
    expect(chat.page.locator("#messages .message")).to_have_count(0)
