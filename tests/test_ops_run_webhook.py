"""`akhbar run` in webhook mode as a real process, with JSON logs at DEBUG: updates are
answered, every line is JSON, handled updates are tagged, and no secret is ever written."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.conftest import TOKEN
from tests.support.ops import akhbar_process, free_port, http

USER = 7
PRIVATE_WORDS = "موعد الطبيب"


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
async def test_webhook_process_answers_and_logs_json_without_any_secret(tmp_path, emulator, level):
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "akhbar.sqlite3"\n'
        f'[telegram]\nmode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/telegram"\n'
        f"[http]\nport = {port}\n"
        '[logging]\nformat = "json"\n'
        f'level = "{level}"\n',
        encoding="utf-8",
    )
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    process = await akhbar_process("--config", str(config), "run", env=env)
    try:
        await emulator.send_text(USER, f"/search {PRIVATE_WORDS}")
        await emulator.next_message(USER, timeout=30)
        status, _ = await http("POST", f"http://127.0.0.1:{port}/telegram", json={"update_id": 1})
        assert status == 403
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]

    secret = emulator.state.webhook_secret
    assert len(secret) >= 32  # none configured: a random one for this run
    logged = stderr.decode()
    for forbidden in (secret, TOKEN, TOKEN.split(":")[1]):
        assert forbidden not in logged
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert any("webhook set" in line["message"] for line in lines)
    if level == "DEBUG":  # python-telegram-bot logs each request, secret_token included
        assert any("setWebhook" in line["message"] for line in lines)
        update_id = emulator.webhook_deliveries[0].update_id
        assert [line for line in lines if line.get("update_id") == update_id]
    else:  # what people write stays out of the log by default
        assert PRIVATE_WORDS not in logged
