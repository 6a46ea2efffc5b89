"""Readiness checks, log lines and the operations settings, without a network."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.config import load_config
from bot.delivery.outcomes import ApiUnavailable, TransientFailure
from bot.errors import ConfigError
from bot.logs import configure_logging, update_context
from bot.ops.health import CheckResult, Pulse, outbox_check, run_checks, telegram_check
from bot.ops.metrics import Metrics
from bot.reading import search_text
from storage import database


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_telegram_check_fails_before_any_answer_and_after_a_long_silence():
    clock = FakeMonotonic()
    pulse = Pulse(clock)
    check = telegram_check(pulse, silence=180)
    assert await check() == CheckResult(False, "Telegram has not answered yet")
    pulse.beat()
    clock.now += 179
    assert (await check()).ok
    clock.now += 2
    assert await check() == CheckResult(False, "Telegram last answered 181 s ago")


async def test_outbox_is_stuck_only_when_an_old_due_row_waits_and_nothing_moves(db):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await db.execute(
        "INSERT INTO outbox (key, chat_id, kind, parts, part_count, created_at)"
        " VALUES ('k', 1, 'digest', '[\"x\"]', 1, ?)",
        (now.timestamp() - 900,),
    )
    await db.commit()
    monotonic = FakeMonotonic()
    progress = Pulse(monotonic)
    running = True
    check = outbox_check(
        is_running=lambda: running, db=db, progress=progress, clock=lambda: now, stuck_after=600
    )
    assert await check() == CheckResult(
        False, "the oldest due message has waited 900 s with no progress"
    )
    progress.beat()  # a big broadcast is under way: old rows are expected
    assert (await check()).ok
    running = False
    assert await check() == CheckResult(False, "the outbox worker is not running")


def test_only_requests_that_reached_telegram_count_as_outbox_progress():
    metrics = Metrics()
    metrics.observe_send(ApiUnavailable("aiohttp.ClientConnectorError"), 0.001)
    assert metrics.outbox_progress.age() is None
    metrics.observe_send(TransientFailure("502 Bad Gateway"), 0.05)
    assert metrics.outbox_progress.age() is not None


async def test_a_check_that_raises_or_hangs_fails_without_failing_the_others():
    async def broken() -> CheckResult:
        raise RuntimeError("secret details stay out")

    async def fine() -> CheckResult:
        return CheckResult(True)

    results = await run_checks({"broken": broken, "fine": fine})
    assert results == {"broken": CheckResult(False, "RuntimeError"), "fine": CheckResult(True)}


def test_json_logs_carry_the_update_id_and_never_the_secrets():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("123:TOKEN", "hook-secret", stream=stream, format="json")
        log = logging.getLogger("akhbar.test")
        with update_context(77):
            try:
                raise ValueError("failed with 123:TOKEN and hook-secret")
            except ValueError:
                log.exception("handler failed")
        log.info("outside")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line)
    assert first["update_id"] == 77 and first["level"] == "ERROR"
    assert "ValueError" in first["message"] and "<token>" in first["message"]
    assert "update_id" not in second
    assert "TOKEN" not in stream.getvalue() and "hook-secret" not in stream.getvalue()


def test_commands_outside_the_known_list_count_as_other():
    metrics = Metrics(commands=("latest", "read"))
    for text in ("/latest 5", "/read_12", "/LATEST@akhbar_bot", "/drop table", "hello"):
        metrics.observe_update("message", text, 0.01)
    counts = {
        s.labels["command"]: s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "akhbar_updates_total"
    }
    assert counts == {"latest": 2.0, "read": 1.0, "other": 1.0, "": 1.0}


def test_webhook_settings_are_checked_and_secrets_come_from_the_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\nmode = "webhook"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="webhook_url is required"):
        load_config(path, environ={})
    path.write_text('[telegram]\nsecret_token = "has space"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[telegram\] secret_token") as refused:
        load_config(path, environ={})
    assert "has space" not in str(refused.value)
    path.write_text(
        '[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.org/telegram"\n',
        encoding="utf-8",
    )
    environ = {"TELEGRAM_WEBHOOK_SECRET": "from-env_1", "AKHBAR_METRICS_TOKEN": "scrape_2"}
    config = load_config(path, environ=environ)
    assert config.telegram.secret_token.get_secret_value() == "from-env_1"
    assert config.http.metrics_token.get_secret_value() == "scrape_2"
    assert "from-env_1" not in repr(config) and "scrape_2" not in repr(config)


def test_health_says_when_the_http_server_is_off(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text("[http]\nenabled = false\n", encoding="utf-8")
    assert main(["--config", str(path), "health"]) == 1
    assert "the HTTP server is off ([http] enabled = false)" in capsys.readouterr().err


def test_backup_without_a_path_goes_to_the_backup_directory_and_verifies(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('[storage]\npath = "akhbar.sqlite3"\n', encoding="utf-8")
    assert main(["--config", str(path), "backup"]) == 1  # nothing to back up yet
    assert "no such file" in capsys.readouterr().err

    async def create() -> None:
        db = await database.connect(tmp_path / "akhbar.sqlite3", index_terms=search_text.index_text)
        await db.close()

    asyncio.run(create())
    assert main(["--config", str(path), "backup"]) == 0
    (copy,) = (tmp_path / "backups").glob("akhbar-*.sqlite3")
    assert f"to {copy} (integrity check: ok)" in capsys.readouterr().out
