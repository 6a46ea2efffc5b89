"""The sandbox as a user runs it, its clock, `run_due_digests`, and the web chat's guards."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from datetime import timedelta

import aiohttp
import pytest

from bot.app import build_application, polling
from bot.ptb.jobs import run_due_digests
from emulator import BotApiEmulator
from emulator.webchat import WebChat
from sandbox.clock import MovableClock as SandboxClock
from tests.conftest import NOW
from tests.support.digest_world import MovableClock
from tests.support.sandbox import REPO, akhbar_command, start_sandbox

ADMIN = 42
GROUP = -1001234


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_sandbox_starts_stops_on_ctrl_c_and_keeps_its_database(tmp_path):
    first = start_sandbox(tmp_path, "--fresh")
    world = get_json(f"{first.url}api/world")
    assert first.url.startswith("http://127.0.0.1:")
    assert {p["role"] for p in world["people"]} >= {"subscriber", "group admin", "channel admin"}
    assert {c["type"] for c in world["chats"]} >= {"private", "supergroup", "channel"}
    assert first.stop() == 0
    assert "Akhbar sandbox: stopped" in first.output
    assert any("sample news loaded" in line for line in first.output)
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()

    again = start_sandbox(tmp_path)  # kept: nothing loaded twice
    assert again.stop() == 0
    assert not any("sample news loaded" in line for line in again.output)
    assert any("0 new, 2 duplicate" in line for line in again.output)


def test_a_taken_port_is_named_and_exits_2(tmp_path):
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [*akhbar_command(), "--config", str(tmp_path / "config.toml"), "sandbox"]
        result = subprocess.run(
            [*command, "--port", str(port)], capture_output=True, text=True, timeout=60, env=env
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port N" in result.stderr


def test_listening_beyond_loopback_is_asked_for_and_warned_about(tmp_path):
    sandbox = start_sandbox(tmp_path, "--listen", "0.0.0.0")
    assert sandbox.stop() == 0
    assert any(
        line.startswith("warning: the web chat listens on 0.0.0.0") for line in sandbox.output
    )


def test_the_sandbox_clock_only_moves_forward_and_remembers_its_offset(tmp_path):
    clock = SandboxClock(tmp_path / "clock")
    start = clock()
    clock.advance_to(start + timedelta(hours=10))
    clock.advance_to(start)  # never backwards
    assert clock() - start >= timedelta(hours=10)
    remembered = SandboxClock(tmp_path / "clock").offset
    assert abs(remembered - clock.offset) < timedelta(milliseconds=1)


async def test_run_due_digests_queues_each_due_slot_once(emulator, bot_config):
    clock = MovableClock(NOW)
    app = build_application(bot_config, clock=clock, poll_sources=False)
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")
    async with polling(app, poll_timeout=1):
        slot = (NOW + timedelta(minutes=90)).astimezone(bot_config.bot.tz)
        await emulator.send_text(GROUP, f"/schedule {slot:%H:%M}", user_id=ADMIN)
        await emulator.next_message(GROUP)
        assert await run_due_digests(app) == 0  # not yet
        clock.advance(minutes=90)
        assert await run_due_digests(app) == 1
        digest = await emulator.next_message(GROUP)
        assert f"t.me/{emulator.state.bot.username}?start=read_" in digest.raw_text
        assert await run_due_digests(app) == 0


@pytest.fixture
async def webchat():
    async with BotApiEmulator("5:T") as emulator:
        chat = WebChat(emulator)
        for person in (1, 2):
            emulator.add_user(person, first_name=f"P{person}")
            emulator.add_chat(person, "private", first_name=f"P{person}")
            chat.add_person(person, "reader")
        emulator.add_chat(-10, "channel", title="قناة")
        emulator.set_member(-10, 1)
        emulator.add_chat(-20, "supergroup", title="مجموعة")
        emulator.set_member(-20, 1)
        await chat.start()
        assert chat.url.startswith("http://127.0.0.1:")
        yield chat, emulator
        await chat.stop()


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("chats/2/messages", {"person": 1, "text": "hi"}, "someone else's private chat"),
        ("chats/-20/messages", {"person": 2, "text": "hi"}, "not a member"),
        ("chats/-10/messages", {"person": 1, "text": "hi"}, "administrators"),
        ("chats/1/messages", {"person": 1, "text": "x" * 4097}, "1 to 4096"),
        ("chats/1/messages", {"person": 9, "text": "hi"}, "unknown person"),
        ("chats/-20/messages", {"person": 1, "text": "hi", "thread_id": 3}, "no such topic"),
        ("people/1/language", {"language_code": "de"}, "ar, fr, en"),
        ("chats/1/press", {"person": 1, "message_id": 1, "data": "x"}, "no bot message"),
    ],
)
async def test_the_web_chat_refuses_what_a_telegram_client_would_not_do(
    webchat, path, body, reason
):
    chat, emulator = webchat
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{chat.url}api/{path}", json=body) as response,
    ):
        assert response.status == 400
        assert reason in await response.text()
    assert len(emulator.state.updates) == 0


async def test_a_photo_must_be_an_image(webchat):
    chat, emulator = webchat
    form = aiohttp.FormData({"person": "1"})
    form.add_field("file", b"#!/bin/sh\necho not an image", filename="x.jpg")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{chat.url}api/chats/1/photos", data=form) as response,
    ):
        assert response.status == 400
        assert "JPEG, PNG, GIF or WebP" in await response.text()
    assert len(emulator.state.updates) == 0


async def test_a_channel_post_forwarded_to_the_bot_carries_its_origin(webchat):
    chat, emulator = webchat
    emulator.set_member(-10, 1, "creator")
    async with aiohttp.ClientSession() as session:
        base = f"{chat.url}api/chats"
        async with session.post(f"{base}/-10/messages", json={"person": 1, "text": "خبر"}) as r:
            post_id = (await r.json())["message_id"]
        async with session.post(f"{base}/-10/forward", json={"person": 1, "message_id": post_id}):
            pass
    updates = emulator.state.updates.pending(10, emulator.state.allowed_updates)
    assert "channel_post" in updates[0]
    forwarded = updates[1]["message"]
    assert forwarded["chat"]["id"] == 1 and forwarded["text"] == "خبر"
    assert forwarded["forward_origin"]["chat"]["id"] == -10


def test_without_the_sandbox_package_the_command_says_so_and_exits_2(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    (tmp_path / "config.toml").write_text("")
    monkeypatch.setitem(sys.modules, "sandbox", None)  # as in an install without the clone
    assert main(["--config", str(tmp_path / "config.toml"), "sandbox"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "the sandbox needs a clone of the repository" in error
