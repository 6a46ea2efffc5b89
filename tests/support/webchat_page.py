"""Drives the web chat page as a person would: pick who you are, open a chat, type, tap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

TIMEOUT_MS = 15_000


class ChatPage:
    def __init__(self, page: Page, screenshot: Path | None = None) -> None:
        self.page = page
        self.screenshot_path = screenshot
        self.captured = False

    def act_as(self, person_id: int) -> None:
        self.page.select_option("#person", str(person_id))
        expect(self.page.locator("body")).to_have_attribute("data-person", str(person_id))

    def open_chat(self, chat_id: int) -> None:
        self.page.click(f'.chat-item[data-chat-id="{chat_id}"]')
        expect(self.page.locator("body")).to_have_attribute("data-chat", str(chat_id))

    def open_topic(self, name: str) -> None:
        self.page.locator("#topics .topic", has_text=name).click()
        expect(self.page.locator("#topics .topic.active")).to_have_text(f"# {name}")

    def set_language(self, code: str) -> None:
        self.page.select_option("#language", code)

    def bot_messages(self) -> Locator:
        return self.page.locator("#messages .message.from-bot")

    def send(self, text: str) -> Locator:
        """Type and send `text`; return the bot's first message after it."""
        before = self.bot_messages().count()
        self.page.fill("#input", text)
        self.page.press("#input", "Enter")
        return self.next_bot_message(before)

    def next_bot_message(self, before: int) -> Locator:
        self.page.wait_for_function(
            "n => document.querySelectorAll('#messages .message.from-bot').length > n",
            arg=before,
            timeout=TIMEOUT_MS,
        )
        return self.bot_messages().nth(before)

    def message_with(self, text: str) -> Locator:
        """The newest message showing `text` (waits for it)."""
        message = self.page.locator("#messages .message", has_text=text).last
        expect(message).to_be_visible(timeout=TIMEOUT_MS)
        return message

    def press(self, message: Locator, label: str) -> dict[str, Any]:
        """Tap an inline button; return what the page showed: {"alert"| "toast": text}."""
        with self.page.expect_response(lambda r: r.url.endswith("/press")) as answer:
            message.locator(".key", has_text=label).first.click()
        body = answer.value.json()
        if body.get("show_alert"):
            alert = self.page.locator("#alert")
            expect(alert).to_be_visible()
            shown = {"alert": self.page.locator("#alert-text").inner_text()}
            self.page.click("#alert-ok")
            return shown
        if body.get("text"):
            toast = self.page.locator("#toast")
            expect(toast).to_be_visible()
            return {"toast": toast.inner_text()}
        return {}

    def operator(self, action: str) -> str:
        """Run an operator panel action; return the line it printed."""
        with self.page.expect_response(lambda r: f"/api/operator/{action}" in r.url) as done:
            self.page.click(f'#operator-actions button[data-action="{action}"]')
        return done.value.json()["result"]

    def capture(self) -> None:
        """Screenshot the final state (once: a test may take it before tidying up)."""
        if self.captured or self.screenshot_path is None:
            return
        self.screenshot_path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.screenshot_path))
        self.captured = True
