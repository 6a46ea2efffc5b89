"""The bot token is never written: not by `akhbar run` when Telegram refuses it or cannot be
reached (one line instead), not in tracebacks, not in the operator's error reports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.cli import Finished, run_akhbar, write_config
from tests.support.postgres_auth import password_server

SECRET = TOKEN.split(":")[1]


def assert_token_never_written(finished: Finished, *also: str) -> None:
    for output in (finished.out, finished.err, *also):
        assert SECRET.lower() not in output.lower()  # python-telegram-bot lowercases some


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_token_telegram_rejects_gives_one_line_and_exit_2(tmp_path, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    async with BotApiEmulator("654321:ANOTHER-bots-token") as other_bot:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": other_bot.base_url}
        finished = await run_akhbar("--config", str(config), "run", env=env)
        statuses = [call.status for call in other_bot.requests]
    assert statuses == [401]  # it asked Telegram, and Telegram said no
    assert finished.returncode == 2
    assert finished.err.splitlines() == [
        f"akhbar: {other_bot.base_url} rejected the bot token: check TELEGRAM_BOT_TOKEN"
        " (or [telegram] token): it must be the whole token @BotFather gave,"
        " in the form 123456789:AAE…"
    ]
    assert finished.out == ""
    assert_token_never_written(finished)


async def test_a_malformed_token_is_refused_before_any_request(tmp_path, emulator, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    malformed = f"{TOKEN}/../getMe secret"
    env = {"TELEGRAM_BOT_TOKEN": malformed, "TELEGRAM_API_BASE_URL": emulator.base_url}
    finished = await run_akhbar("--config", str(config), "run", env=env)
    assert finished.returncode == 2
    assert finished.err.startswith("akhbar: the bot token is malformed: check TELEGRAM_BOT_TOKEN")
    assert len(finished.err.splitlines()) == 1
    assert emulator.requests == []
    assert_token_never_written(finished)


async def test_an_unreachable_bot_api_gives_one_line_and_a_failure_exit(tmp_path, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    api = f"http://127.0.0.1:{closed_port()}/bot"
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api}
    finished = await run_akhbar("--config", str(config), "run", env=env)
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        f"akhbar: cannot reach the Telegram Bot API at {api}:"
        " httpx.ConnectError: All connection attempts failed"
    ]
    assert_token_never_written(finished)


async def test_a_start_up_error_quoting_the_token_is_printed_redacted(tmp_path, emulator, feeds):
    config = write_config(tmp_path, feeds.url("/feed.xml"))
    emulator.fail_next("setMyCommands", status=400, description=f"Bad Request: bot{TOKEN} said no")
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    finished = await run_akhbar("--config", str(config), "run", env=env)
    assert finished.returncode == 1
    assert finished.err.splitlines()[-1] == (
        f"akhbar: start-up refused by {emulator.base_url}: Bot<token> said no"
    )
    database = (tmp_path / "akhbar.sqlite3").read_bytes().decode("latin-1")
    assert_token_never_written(finished, database)


def test_an_uncaught_exception_and_stray_writes_are_redacted(tmp_path):
    program = (
        "import sys, warnings\n"
        "from bot.logs import redact_standard_streams, token_forms\n"
        f"redact_standard_streams(*token_forms({TOKEN!r}))\n"
        f"print('stdout', {TOKEN!r})\n"
        f"sys.stderr.write({TOKEN[:9]!r}); sys.stderr.write({TOKEN[9:]!r} + '\\n')\n"
        f"warnings.warn('warned ' + {TOKEN!r})\n"
        f"raise RuntimeError('crashed with ' + {TOKEN!r})\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert finished.returncode == 1
    assert "stdout <token>" in finished.stdout
    assert "RuntimeError: crashed with <token>" in finished.stderr
    assert "warned <token>" in finished.stderr
    assert_token_never_written(Finished(finished.returncode, finished.stdout, finished.stderr))


ADMIN_CHAT = -1001234


@pytest.fixture
def bot_config(bot_config):
    return bot_config.model_copy(
        update={"bot": bot_config.bot.model_copy(update={"admin_chat_id": ADMIN_CHAT})}
    )


async def test_the_operators_error_report_never_quotes_the_token(emulator, akhbar):
    emulator.add_chat(ADMIN_CHAT, "supergroup", title="ops")
    emulator.fail_next("sendMessage", status=400, description=f"Bad Request: bot{TOKEN} broke")
    await emulator.send_text(7, "/help")
    report = await emulator.next_message(ADMIN_CHAT)
    assert "Bot<token> broke" in report.text
    assert SECRET.lower() not in report.text.lower()


# The database password is a secret like the token.

DB_PASSWORD = "Db-Pa55word-9x"


async def test_an_unreachable_database_gives_one_line_without_its_password(tmp_path, emulator):
    config = tmp_path / "config.toml"
    config.write_text("[bot]\nload_sample_news = false\n", encoding="utf-8")
    url = f"postgresql://akhbar:{DB_PASSWORD}@127.0.0.1:{closed_port()}/akhbar"
    env = {
        "AKHBAR_DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
    }
    stats = await run_akhbar("--config", str(config), "stats", env=env)
    run = await run_akhbar("--config", str(config), "run", env=env)
    shown = url.replace(DB_PASSWORD, "***")
    assert stats.returncode == 1
    assert stats.err.splitlines() == [f"akhbar: {shown}: cannot be opened: {refused(stats)}"]
    assert run.returncode == 1
    assert run.err.splitlines()[-1] == f"akhbar: {shown}: cannot be opened: {refused(run)}"
    for finished in (stats, run):
        assert DB_PASSWORD not in finished.out + finished.err
        assert_token_never_written(finished)


def refused(finished: Finished) -> str:
    """asyncpg's reason, whatever its wording: what follows 'cannot be opened: '."""
    return finished.err.splitlines()[-1].split("cannot be opened: ", 1)[1]


def test_a_traceback_or_log_line_quoting_the_database_url_is_redacted(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    url = f"postgresql://akhbar:{DB_PASSWORD}@db.internal/akhbar"
    program = (
        "import logging, sys\n"
        "from bot import cli\n"
        "async def fail(config, args):\n"
        "    logging.getLogger('bot.test').error('lost %s', config.storage.location)\n"
        "    raise RuntimeError('crashed on ' + config.storage.location)\n"
        "cli._COMMANDS['stats'] = fail\n"
        f"sys.exit(cli.main(['--config', {str(config)!r}, 'stats']))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent,
        env={**os.environ, "AKHBAR_DATABASE_URL": url},
    )  # fmt: skip
    assert finished.returncode == 1
    assert "RuntimeError: crashed on postgresql://akhbar:<token>@db.internal/akhbar" in (
        finished.stderr
    )
    assert "lost postgresql://akhbar:<token>@db.internal/akhbar" in finished.stderr
    assert DB_PASSWORD not in finished.stdout + finished.stderr


@pytest.fixture(scope="module")
def password_url():
    """A PostgreSQL server asking for DB_PASSWORD (scram-sha-256), started for this module."""
    for url in password_server(DB_PASSWORD):
        if url.startswith("skip:"):
            pytest.skip(url)
        yield url


async def test_a_wrong_database_password_gives_one_line_without_either_password(
    tmp_path, password_url
):
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "akhbar.sqlite3"\n', encoding="utf-8")
    wrong = password_url.replace(DB_PASSWORD, "Not-The-Pa55word")
    stats = await run_akhbar("--config", str(config), "stats", env={"AKHBAR_DATABASE_URL": wrong})
    sample = str(Path(__file__).parent.parent / "bot" / "data" / "sample_news.txt")
    imported = await run_akhbar("--config", str(config), "import", sample)
    copy = await run_akhbar("--config", str(config), "db", "copy", "--to", wrong)
    copied = await run_akhbar("--config", str(config), "db", "copy", "--to", password_url)
    shown = password_url.replace(DB_PASSWORD, "***")
    refusal = f'akhbar: {shown}: cannot be opened: password authentication failed for user "akhbar"'
    assert (stats.returncode, stats.err.splitlines()) == (1, [refusal])
    assert (copy.returncode, copy.err.splitlines()[-1]) == (1, refusal)
    assert imported.returncode == 0 and copied.returncode == 0, copied.err
    for finished in (stats, copy, copied):
        written = finished.out + finished.err
        assert DB_PASSWORD not in written and "Not-The-Pa55word" not in written


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://akhbar:{DB_PASSWORD}@db.internal:port/akhbar",
        f"postgresql://akhbar:{DB_PASSWORD}@[::1/akhbar",
    ],
)
async def test_a_malformed_database_url_is_refused_without_quoting_it(tmp_path, url):
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    from_env = await run_akhbar("--config", str(config), "stats", env={"AKHBAR_DATABASE_URL": url})
    copy = await run_akhbar("--config", str(config), "db", "copy", "--to", url)
    assert from_env.returncode == 2
    assert from_env.err.splitlines() == [
        f"akhbar: {config}: [storage] url: is not a URL of the form"
        " postgresql://user:password@host:port/database"
    ]
    assert copy.returncode == 1
    assert copy.err.splitlines() == [
        "akhbar: the PostgreSQL URL is not a URL of the form"
        " postgresql://user:password@host:port/database"
    ]
    for finished in (from_env, copy):
        assert DB_PASSWORD not in finished.out + finished.err
