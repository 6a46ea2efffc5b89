"""Webhook mode over real HTTP: Telegram (the emulator) posts updates, the bot answers them."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import Config, HttpConfig, TelegramConfig
from bot.logs import configure_logging
from bot.ptb.serving import running
from tests.conftest import NOW, TOKEN
from tests.support.ops import free_port, http, message_update, sample

SECRET = "webhook-secret_0123456789"
USER = 7


@pytest.fixture
def webhook_config(bot_config: Config) -> Config:
    port = free_port()
    telegram = TelegramConfig(
        token=TOKEN,
        api_base_url=bot_config.telegram.api_base_url,
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token=SECRET,
    )
    return bot_config.model_copy(
        update={
            "telegram": telegram,
            "http": HttpConfig(port=port, max_update_bytes=64 * 1024),
        }
    )


@pytest.fixture
def production_logs():
    """The bot's own logging set-up at DEBUG, so every secret-bearing line would show."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    written = io.StringIO()
    configure_logging(TOKEN, SECRET, level=logging.DEBUG, stream=written)
    yield written
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.fixture
async def webhook_bot(webhook_config, emulator, production_logs):
    app = build_application(webhook_config, clock=lambda: NOW, poll_sources=False)
    async with running(app, webhook_config) as server:
        assert server is not None
        yield app, f"http://127.0.0.1:{server.port}"


async def test_setwebhook_registers_the_url_secret_and_update_types(webhook_bot, emulator):
    call = await emulator.wait_for(lambda c: c.method == "setWebhook" and c.status == 200)
    assert call.params["url"].endswith("/telegram")
    assert call.params["secret_token"] == SECRET
    assert call.params["max_connections"] in (40, "40")
    allowed = call.params["allowed_updates"]
    allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
    assert {"message", "callback_query", "my_chat_member", "chat_member"} <= set(allowed)
    assert emulator.webhook_url == call.params["url"]


async def test_updates_posted_by_telegram_are_answered(webhook_bot, emulator):
    await emulator.send_text(USER, "/latest 3")
    reply = await emulator.next_message(USER, timeout=10)
    assert reply.text.startswith("آخر الأخبار")
    assert [d.status for d in emulator.webhook_deliveries] == [200]
    assert not [c for c in emulator.requests if c.method == "getUpdates"]


async def test_one_chats_updates_are_answered_in_the_order_sent(webhook_bot, emulator):
    # /read 1 answers in two messages: were one chat's updates handled concurrently, the
    # /help reply would land between them.
    for text in ("/read 1", "/help", "/read 1", "/help"):
        await emulator.send_text(USER, text)
    replies = [(await emulator.next_message(USER, timeout=10)).text for _ in range(6)]
    kinds = ["help" if r.startswith("كيف تستعمل") else "title" if "داعش" in r[:20] else "rest"
             for r in replies]  # fmt: skip
    assert kinds == ["title", "rest", "help", "title", "rest", "help"]


async def test_posts_without_the_right_secret_are_refused_and_counted(webhook_bot, emulator):
    _, base = webhook_bot
    emulator.add_chat(USER, "private")
    update = message_update(10_001, USER, "/help")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
        status, _ = await http("POST", f"{base}/telegram", json=update, headers=headers)
        assert status == 403
    status, _ = await http(
        "POST", f"{base}/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )  # fmt: skip
    assert status == 200
    reply = await emulator.next_message(USER, timeout=10)
    assert reply.text.startswith("كيف تستعمل")
    assert len(emulator.sent(USER)) == 1  # the refused copies never reached a handler
    _, metrics = await http("GET", f"{base}/metrics")
    assert sample(metrics.decode(), "akhbar_webhook_refused_total", reason="secret") == 2


async def test_oversized_and_malformed_bodies_are_refused(webhook_bot):
    _, base = webhook_bot
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    big = json.dumps({"update_id": 1, "padding": "x" * 100_000}).encode()
    status, _ = await http("POST", f"{base}/telegram", data=big, headers=headers)
    assert status == 413
    status, _ = await http("POST", f"{base}/telegram", data=b"[1, 2", headers=headers)
    assert status == 400
    _, metrics = await http("GET", f"{base}/metrics")
    assert sample(metrics.decode(), "akhbar_webhook_refused_total", reason="too_large") == 1
    assert sample(metrics.decode(), "akhbar_webhook_refused_total", reason="not_json") == 1


async def test_secrets_appear_in_no_log_metric_health_answer_or_database(
    webhook_bot, webhook_config, emulator, production_logs
):
    _, base = webhook_bot
    await emulator.send_text(USER, "/help")
    await emulator.next_message(USER, timeout=10)
    emulator.fail_next("sendMessage", status=400, description="Bad Request: boom")
    await emulator.send_text(USER, "/help")
    await emulator.next_message(USER, timeout=10)  # the apology
    outputs = [production_logs.getvalue()]
    for path in ("/metrics", "/readyz", "/healthz"):
        outputs.append((await http("GET", base + path))[1].decode())
    database = Path(webhook_config.storage.path)
    outputs += [
        p.read_bytes().decode("latin-1")
        for p in database.parent.glob(database.name + "*")
        if p.is_file()
    ]
    assert "setWebhook" in outputs[0]  # the DEBUG log shows the call, with the secret redacted
    for secret in (SECRET, TOKEN, TOKEN.split(":")[1]):
        assert not [o for o in outputs if secret in o]


async def test_switching_back_to_polling_deletes_the_webhook(webhook_config, bot_config, emulator):
    app = build_application(webhook_config, clock=lambda: NOW, poll_sources=False)
    async with running(app, webhook_config):
        await emulator.wait_for(lambda c: c.method == "setWebhook" and c.status == 200)
    assert emulator.webhook_url  # left set on stop: Telegram keeps updates for the next start
    polling_config = bot_config.model_copy(update={"http": HttpConfig(port=free_port())})
    app = build_application(polling_config, clock=lambda: NOW, poll_sources=False)
    async with running(app, polling_config):
        await emulator.send_text(USER, "/help")
        reply = await emulator.next_message(USER, timeout=10)
    assert reply.text.startswith("كيف تستعمل")
    assert emulator.webhook_url == ""
    assert any(c.method == "deleteWebhook" and c.status == 200 for c in emulator.requests)
