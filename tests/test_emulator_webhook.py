"""The emulator's webhook side: setWebhook, getWebhookInfo, deleteWebhook and delivery."""

from __future__ import annotations

import json

from aiohttp import web

from emulator import BotApiEmulator
from tests.conftest import TOKEN
from tests.support.ops import eventually, free_port, http


async def call(emulator: BotApiEmulator, method: str, **params) -> dict:
    status, body = await http("POST", f"{emulator.base_url}{TOKEN}/{method}", json=params)
    return {"status": status, **json.loads(body)}


async def test_updates_go_to_the_webhook_with_the_secret_and_failures_are_reported(emulator):
    received: list[tuple[str | None, int]] = []
    answer = {"status": 500}

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update["update_id"])
        )
        return web.Response(status=answer["status"])

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        bad = await call(
            emulator, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="no spaces"
        )
        assert bad["status"] == 400
        ok = await call(
            emulator, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret"
        )
        assert ok["result"] is True
        assert (await call(emulator, "getUpdates"))["status"] == 409  # as on Telegram

        await emulator.send_text(5, "أهلا")
        await eventually(lambda: emulator.webhook_deliveries, 5, "a delivery")
        info = (await call(emulator, "getWebhookInfo"))["result"]
        assert info["pending_update_count"] == 1
        assert "500" in info["last_error_message"]

        answer["status"] = 200  # the bot recovers: the same update is delivered again
        await eventually(lambda: emulator.webhook_deliveries[-1].status == 200, 5, "a retry")
        assert {secret for secret, _ in received} == {"s3cret"}
        assert len({update_id for _, update_id in received}) == 1
        assert (await call(emulator, "getWebhookInfo"))["result"]["pending_update_count"] == 0

        assert (await call(emulator, "deleteWebhook"))["result"] is True
        assert emulator.webhook_url == ""
        assert (await call(emulator, "getUpdates"))["result"] == []
    finally:
        await runner.cleanup()
