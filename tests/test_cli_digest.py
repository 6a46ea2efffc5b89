"""`akhbar digest send` and `akhbar stats` as real processes over the bot's database."""

from __future__ import annotations

import asyncio
import re

from bot.config import load_config
from bot.services import open_services
from tests.support.cli import akhbar, run_akhbar, write_config
from tests.support.digest_world import outbox_rows


def database_env(db_path) -> dict[str, str]:
    """The environment that points the bot at the test's PostgreSQL database; on SQLite the
    config's own file next to it is used."""
    return {"AKHBAR_DATABASE_URL": db_path} if str(db_path).startswith("postgresql") else {}


async def test_digest_send_queues_a_digest_for_each_subscriber_once(tmp_path, feeds, db_path):
    config_path = write_config(tmp_path, feeds.url("/unused.xml"))
    env = database_env(db_path)
    services = await open_services(load_config(config_path, environ=env))
    try:
        await services.ingestion.load_sample_if_empty()
        for chat_id in (7, 8):
            await services.languages.texts_for(
                chat_id, chat_type="private", title=None, telegram_code="fr"
            )
            await services.subscriptions.subscribe(chat_id, [], language="fr")
    finally:
        await services.close()

    first = await akhbar("--config", str(config_path), "digest", "send", env=env)
    out, err = await asyncio.wait_for(first.communicate(), timeout=60)
    assert first.returncode == 0, err.decode()
    assert "2 digests queued for all subscribed chats" in out.decode()
    again = await akhbar("--config", str(config_path), "digest", "send", "--chat", "7", env=env)
    out, _ = await asyncio.wait_for(again.communicate(), timeout=60)
    assert "1 digest queued for chat 7;" in out.decode()

    services = await open_services(load_config(config_path, environ=env))
    try:
        rows = await outbox_rows(services)
    finally:
        await services.close()
    assert sorted(row.chat_id for row in rows) == [7, 7, 8]
    assert rows[0].parts[0].startswith("<b>📰 Résumé de l'actualité")
    first_ids, second_ids = (set(re.findall(r"read_(\d+)", r.text)) for r in rows if r.chat_id == 7)
    assert first_ids and second_ids and not first_ids & second_ids  # never the same article

    stats = await akhbar("--config", str(config_path), "stats", env=env)
    out, _ = await asyncio.wait_for(stats.communicate(), timeout=60)
    assert "subscribers: 2" in out.decode()
    assert "schedules running: 2" in out.decode()
    assert "outbox: 3 queued, 0 sending, 0 sent, 0 failed" in out.decode()


async def test_digest_send_to_an_unknown_chat_says_so_and_fails(tmp_path, feeds, db_path):
    config_path = write_config(tmp_path, feeds.url("/unused.xml"))
    env = database_env(db_path)
    services = await open_services(load_config(config_path, environ=env))
    try:
        await services.ingestion.load_sample_if_empty()
    finally:
        await services.close()
    finished = await run_akhbar(
        "--config", str(config_path), "digest", "send", "--chat", "999999", env=env
    )
    assert finished.returncode == 1
    assert finished.err.splitlines() == [
        "akhbar: chat 999999 is unknown: the bot has had no message from it"
    ]
    assert finished.out == ""
