"""Three `akhbar run` processes started at once on an empty PostgreSQL database: one of them
creates the schema, the others wait for it, and none fails."""

from __future__ import annotations

import re

import asyncpg
import pytest

from emulator import BotApiEmulator
from storage.postgres import migrations
from tests.support import TOKEN
from tests.support.fleet import Fleet, fleet_config, fresh_database
from tests.support.ops import eventually

LANGUAGES_WITH_DEFAULT = 4  # setMyCommands for the default and for ar, fr, en


@pytest.fixture
async def url(postgres):
    async with fresh_database(postgres) as url:
        yield url


def commands_set(emulator: BotApiEmulator) -> int:
    return sum(1 for c in emulator.requests if c.method == "setMyCommands" and c.is_ok)


async def test_three_processes_starting_together_create_the_schema_once(tmp_path, url):
    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        fleet = Fleet(fleet_config(tmp_path, url), url, emulator.base_url)
        pids = await fleet.start(3)
        try:
            # Commands are registered once the schema, the seeds and the samples are there.
            started = 3 * LANGUAGES_WITH_DEFAULT
            await eventually(lambda: commands_set(emulator) >= started, 120, "three start-ups")
            await emulator.wait_until_polling(timeout=30)
            assert fleet.alive() == pids
        finally:
            codes = await fleet.stop()
    assert codes == dict.fromkeys(pids, 0), {pid: fleet.log(pid)[-2000:] for pid in pids}

    logs = "".join(fleet.log(pid) for pid in pids)
    applied = [int(n) for n in re.findall(r"applied PostgreSQL migration (\d+)", logs)]
    expected = [number for number, _ in migrations()]
    assert sorted(applied) == expected
    assert logs.count("sample news loaded") == 1
    connection = await asyncpg.connect(url)
    try:
        versions = await connection.fetch("SELECT version FROM schema_version ORDER BY version")
    finally:
        await connection.close()
    assert [row["version"] for row in versions] == expected
