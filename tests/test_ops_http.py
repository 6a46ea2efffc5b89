"""Health, readiness and metrics over real HTTP, next to a polling bot."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from pathlib import Path

import pytest

from bot.app import build_application
from bot.config import Config, HttpConfig, SourceConfig
from bot.ptb.serving import running
from tests.support import NOW, TOKEN
from tests.support.clock import FakeClock
from tests.support.feeds import item, rss
from tests.support.ops import free_port, http, sample
from tests.support.waiting import eventually

USER = 7
METRICS_TOKEN = "scrape-me-0123456789"


@pytest.fixture
def served_config(bot_config: Config, feeds) -> Config:
    feeds.publish("/feed.xml", rss(item("خبر محلي جديد", "https://news.test/1", body="نص")))
    source = SourceConfig(name="local", url=feeds.url("/feed.xml"), topics=("maroc",))
    return bot_config.model_copy(
        update={"http": HttpConfig(port=free_port()), "sources": (source,)}
    )


@pytest.fixture
async def served(served_config, emulator):
    app = build_application(served_config, clock=lambda: NOW)
    async with running(app, served_config) as server:
        yield app, f"http://127.0.0.1:{server.port}"


async def first_poll_done(app, feeds) -> None:
    await eventually(lambda: feeds.hits["/feed.xml"] >= 1)
    await eventually(lambda: app.bot_data.source_polls.is_idle)


async def poll_now(app, name: str) -> None:
    services = app.bot_data.services
    await services.ingestion.poll(next(s for s in await services.sources.all() if s.name == name))


async def test_healthz_answers_and_readyz_reports_every_check(served):
    _, base = served
    status, body = await http("GET", f"{base}/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body = await http("GET", f"{base}/readyz")
    answer = json.loads(body)
    assert status == 200 and answer["ready"] is True
    assert {"database", "outbox", "telegram"} <= set(answer["checks"])
    assert all(check["ok"] for check in answer["checks"].values())


async def test_readyz_turns_unready_and_names_the_outbox_when_the_worker_stops(served):
    app, base = served
    await app.bot_data.delivery.worker.stop()
    status, body = await http("GET", f"{base}/readyz")
    answer = json.loads(body)
    assert status == 503 and answer["ready"] is False
    assert answer["checks"]["outbox"] == {
        "ok": False,
        "detail": "the outbox worker is not running",
    }
    assert answer["checks"]["database"]["ok"] is True


async def test_metrics_move_after_real_traffic(served, emulator, feeds):
    app, base = served
    _, before = await http("GET", f"{base}/metrics")
    assert sample(before.decode(), "akhbar_updates_total", type="message", command="latest") == 0

    await emulator.send_text(USER, "/latest 3")
    await emulator.next_message(USER, timeout=10)
    await emulator.send_text(USER, "/subscribe")
    await emulator.next_message(USER, timeout=10)
    services = app.bot_data.services
    assert await services.digests.send_now(USER) == 1
    app.bot_data.delivery.wake()
    await app.bot_data.delivery.drain()
    await first_poll_done(app, feeds)  # the polling loop fetched "local" at start
    await poll_now(app, "local")  # then 304 Not Modified

    _, after = await http("GET", f"{base}/metrics")
    text = after.decode()
    assert sample(text, "akhbar_updates_total", type="message", command="latest") == 1
    assert sample(text, "akhbar_updates_total", type="message", command="subscribe") == 1
    assert sample(text, "akhbar_update_handler_seconds_count", type="message") == 2
    assert sample(text, "akhbar_outbox_requests_total", outcome="delivered") >= 1
    assert sample(text, "akhbar_outbox_messages", status="sent") >= 1
    assert sample(text, "akhbar_outbox_send_seconds_count") >= 1
    assert sample(text, "akhbar_source_fetches_total", source="local", outcome="fetched") == 1
    assert sample(text, "akhbar_source_not_modified_total", source="local") == 1
    assert sample(text, "akhbar_source_new_articles_total", source="local") == 1
    assert sample(text, "akhbar_source_last_success_timestamp_seconds", source="local") > 0
    assert sample(text, "akhbar_database_bytes") > 0


async def test_a_failing_source_is_counted_by_kind(served, feeds):
    app, base = served
    await first_poll_done(app, feeds)
    feeds.publish("/feed.xml", b"this is not a feed")
    await poll_now(app, "local")
    _, text = await http("GET", f"{base}/metrics")
    kinds = {
        line.split('kind="')[1].split('"')[0]
        for line in text.decode().splitlines()
        if line.startswith("akhbar_source_failures_total{")
    }
    assert kinds == {"not_a_feed"}


async def test_handler_errors_are_counted(served, emulator):
    _, base = served
    emulator.fail_next("sendMessage", status=400, description="Bad Request: boom")
    await emulator.send_text(USER, "/help")
    await emulator.next_message(USER, timeout=10)  # the apology
    _, text = await http("GET", f"{base}/metrics")
    assert sample(text.decode(), "akhbar_update_errors_total", type="message") == 1


async def test_metrics_need_the_bearer_token_when_one_is_set(served_config, emulator):
    http_config = HttpConfig(port=free_port(), metrics_token=METRICS_TOKEN)
    config = served_config.model_copy(update={"http": http_config})
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with running(app, config) as server:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert (await http("GET", url))[0] == 401
        assert (await http("GET", url, headers={"Authorization": "Bearer nope"}))[0] == 401
        status, body = await http("GET", url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200 and METRICS_TOKEN not in body.decode()


async def _health(config_path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config_path), "health",
        env={"TELEGRAM_BOT_TOKEN": TOKEN, "PATH": ""},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode() + err.decode()


async def test_health_command_exits_0_when_ready_1_when_not_and_says_when_nothing_answers(
    served, served_config, tmp_path
):
    app, _ = served
    config_path = tmp_path / "health.toml"
    config_path.write_text(f"[http]\nport = {served_config.http.port}\n", encoding="utf-8")
    code, output = await _health(config_path)
    assert code == 0, output
    assert "ok database" in output and output.strip().endswith("ready")

    await app.bot_data.delivery.worker.stop()
    code, output = await _health(config_path)
    assert code == 1 and "FAIL outbox: the outbox worker is not running" in output

    config_path.write_text(f"[http]\nport = {free_port()}\n", encoding="utf-8")
    code, output = await _health(config_path)
    assert code == 1 and "nothing answers at http://127.0.0.1:" in output
    assert "is the bot running?" in output


async def test_every_metric_the_grafana_dashboard_plots_is_exposed(served):
    _, base = served
    _, body = await http("GET", f"{base}/metrics")
    exposed: set[str] = set()
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            exposed.add(name)
            if kind == "histogram":
                exposed |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    dashboard = (Path(__file__).parent.parent / "docs" / "grafana-dashboard.json").read_text()
    plotted = set(re.findall(r"akhbar_[a-z_]+", json.dumps(json.loads(dashboard)["panels"])))
    assert plotted and plotted <= exposed, plotted - exposed


async def test_a_taken_port_costs_polling_mode_its_health_server_but_not_its_users(
    served_config, emulator, caplog
):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        http_config = HttpConfig(port=squatter.getsockname()[1])
        config = served_config.model_copy(update={"http": http_config})
        app = build_application(config, clock=lambda: NOW, poll_sources=False)
        async with running(app, config) as server:
            assert server is None
            await emulator.send_text(USER, "/help")
            assert (await emulator.next_message(USER, timeout=10)).text.startswith("كيف تستعمل")
    assert "HTTP server (health, metrics) not started" in caplog.text


async def test_readyz_turns_unready_and_names_a_source_failing_beyond_the_threshold(
    served_config, emulator, feeds
):
    feeds.answer("/feed.xml", 500)
    clock = FakeClock(NOW)
    app = build_application(served_config, clock=clock)
    async with running(app, served_config) as server:
        base = f"http://127.0.0.1:{server.port}"
        await first_poll_done(app, feeds)  # failed once, at NOW
        status, body = await http("GET", f"{base}/readyz")
        assert status == 200, body  # failing, but not for long yet
        clock.advance(hours=served_config.ingestion.alert_after_hours + 1)
        status, body = await http("GET", f"{base}/readyz")
    answer = json.loads(body)
    assert status == 503 and answer["checks"]["sources"] == {
        "ok": False,
        "detail": "1 source(s) failing for too long: local",
    }
