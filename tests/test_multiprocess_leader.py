"""Several processes on one PostgreSQL database: one leader at a time runs what must run once
(long polling, the digest loop, source polls), and another takes over within seconds when it
dies. Real `akhbar run` processes against the emulator; the leader is read from pg_locks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.config import load_config
from bot.models import ScheduleRule
from bot.ptb.leadership import Leadership
from bot.ptb.polling import SourcePolls
from bot.services import open_services
from emulator import BotApiEmulator
from storage import chats, schedules
from storage.database import transaction
from storage.leader_lock import CHANNEL
from storage.postgres import LEADER_LOCK, LOCK_CLASS
from tests.support import TOKEN
from tests.support.feeds import item, rss
from tests.support.fleet import POLL_TIMEOUT, Fleet, fleet_config, fresh_database
from tests.support.ops import eventually, free_port, http, message_update
from tests.support.waiting import eventually as until

TAKEOVER_SECONDS = 10  # "within seconds": retries every second, plus a new long poll
START_UPS = 3 * 4  # setMyCommands: each process registers its commands in four languages
SLOT_WAIT = 90  # seconds: the next minute's slot, and the takeover before it
CHAT = 7


@pytest.fixture
async def url(postgres):
    async with fresh_database(postgres) as url:
        yield url


class Recorded:
    """A duty that only records when it runs."""

    name = "recorded"

    def __init__(self) -> None:
        self.running = False
        self.stops = 0
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False
        self.stops += 1


async def elect(url: str) -> tuple[Leadership, Recorded]:
    duty = Recorded()
    leadership = Leadership(url, retry_seconds=0.05)
    await leadership.start()
    await leadership.add(duty)
    return leadership, duty


async def test_one_of_two_leads_and_the_other_takes_over_when_it_stops(url):
    first, first_duty = await elect(url)
    second, second_duty = await elect(url)
    try:
        assert (first.is_leader, second.is_leader) == (True, False)
        assert (first_duty.running, second_duty.running) == (True, False)
        await first.stop()
        assert not first_duty.running
        await until(lambda: second_duty.running, timeout=5)
        assert second.is_leader
    finally:
        await first.stop()
        await second.stop()


async def test_a_follower_wakes_the_leaders_duty_through_the_database(url):
    leader, leader_duty = await elect(url)
    follower, follower_duty = await elect(url)
    try:
        follower.wake(Recorded.name)  # e.g. a schedule set through a webhook on the follower
        await until(lambda: leader_duty.wakes == 1, timeout=5)
        assert follower_duty.wakes == 0
    finally:
        await follower.stop()
        await leader.stop()


async def test_a_leader_that_loses_its_connection_steps_down_and_one_process_leads(url):
    first, first_duty = await elect(url)
    second, second_duty = await elect(url)
    try:
        admin = await asyncpg.connect(url)
        try:
            cut = await admin.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = $1 AND objid = $2 AND granted",
                LOCK_CLASS, LEADER_LOCK,
            )  # fmt: skip
        finally:
            await admin.close()
        assert cut
        await until(lambda: first_duty.stops == 1, timeout=5)
        # Whoever wins the lock next runs the duty; never both at once.
        await until(lambda: first_duty.running or second_duty.running, timeout=5)
        assert [first.is_leader, second.is_leader].count(True) == 1
        assert first_duty.running != second_duty.running
    finally:
        await first.stop()
        await second.stop()


def conflicts(emulator: BotApiEmulator, *, after: float = 0.0, before: float = float("inf")):
    return [
        call
        for call in emulator.requests
        if call.method == "getUpdates" and call.status == 409 and after < call.at < before
    ]


def calls(emulator: BotApiEmulator, method: str) -> int:
    return sum(1 for c in emulator.requests if c.method == method and c.is_ok)


def started(emulator: BotApiEmulator) -> int:
    return calls(emulator, "setMyCommands")


async def answered(emulator: BotApiEmulator, chat_id: int, text: str) -> str:
    await emulator.send_text(chat_id, text)
    return (await emulator.next_message(chat_id, timeout=30)).body


async def test_one_process_polls_and_another_answers_within_seconds_of_a_kill(tmp_path, url):
    loop = asyncio.get_running_loop()
    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        fleet = Fleet(fleet_config(tmp_path, url), url, emulator.base_url)
        pids = await fleet.start(3)
        try:
            await eventually(lambda: started(emulator) >= START_UPS, 90, "three start-ups")
            await emulator.wait_until_polling(timeout=30)
            leader = await fleet.leader()
            assert leader in pids

            welcome = await answered(emulator, 7, "/start")
            await answered(emulator, 7, "/help")  # in order: a second /start answer came first
            assert [m.body for m in emulator.sent(7)].count(welcome) == 1

            await fleet.kill(leader)
            killed_at = loop.time()
            await emulator.send_text(8, "/start")
            await emulator.next_message(8, timeout=TAKEOVER_SECONDS)
            took = loop.time() - killed_at
            successor = await fleet.leader()
            await answered(emulator, 8, "/help")
            assert [m.body for m in emulator.sent(8)].count(welcome) == 1
            assert fleet.alive() == [pid for pid in pids if pid != leader]
        finally:
            codes = await fleet.stop()
    print(f"takeover: a new /start answered {took:.2f} s after the leader was killed")
    # Two pollers would end each other's long polls with 409 Conflict, as Telegram does. The
    # only one allowed is the dead leader's last poll, still open at the emulator after the kill.
    assert conflicts(emulator, before=killed_at) == []
    assert conflicts(emulator, after=killed_at + POLL_TIMEOUT + 1) == []
    assert successor in pids and successor != leader
    assert all(codes[pid] == 0 for pid in pids if pid != leader)


async def scheduled_every_minute(config_path: Path, chat_id: int) -> None:
    """A chat with a digest every minute (stored as is: /schedule refuses one that often),
    its slot of the current minute due now."""
    services = await open_services(load_config(config_path, environ={}))
    try:
        await services.ingestion.load_sample_if_empty()
        now = datetime.now(UTC)
        this_minute = now.replace(second=0, microsecond=0)
        async with transaction(services.db):
            await chats.remember(services.db, chat_id, type="private", title=None, at=now)
            await schedules.add(
                services.db, chat_id=chat_id, rule=ScheduleRule(cron="* * * * *"),
                item_count=3, thread_id=None, topics=(), created_by=None,
                at=this_minute - timedelta(seconds=1), next_fire_at=this_minute,
            )  # fmt: skip
    finally:
        await services.close()


async def outbox_of(url: str, chat_id: int) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT status FROM outbox WHERE chat_id = $1", chat_id)
    finally:
        await connection.close()
    return [row["status"] for row in rows]


def sends_to(emulator: BotApiEmulator, chat_id: int) -> list[float]:
    return [
        call.at
        for call in emulator.requests
        if call.method == "sendMessage" and call.is_ok and int(call.params["chat_id"]) == chat_id
    ]


@pytest.mark.timeout(240)  # real minutes: the slot after the kill is the next minute's
async def test_each_digest_slot_goes_out_once_and_the_next_after_the_leader_dies(tmp_path, url):
    # An empty digest is sent as a note: every slot sends something, whatever the news.
    config = fleet_config(tmp_path, url, '[digests]\nempty = "note"\n')
    await scheduled_every_minute(config, CHAT)
    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        fleet = Fleet(config, url, emulator.base_url)
        pids = await fleet.start(3)
        try:
            await emulator.next_message(CHAT, timeout=SLOT_WAIT)  # the slot due at start
            await eventually(lambda: started(emulator) >= START_UPS, 90, "three start-ups")
            leader = await fleet.leader()
            await fleet.kill(leader)
            killed_at = asyncio.get_running_loop().time()
            # The next minute's slot, served by whichever process leads now.
            await emulator.next_message(CHAT, timeout=SLOT_WAIT)
            successor = await fleet.leader()
            await eventually(lambda: len(fleet.alive()) == 2, 5, "two processes left")
            statuses = await outbox_of(url, CHAT)
        finally:
            codes = await fleet.stop()
    assert successor in pids and successor != leader
    assert statuses == ["sent", "sent"]  # one digest per slot, though every process saw it due
    first, second = sends_to(emulator, CHAT)
    assert first < killed_at < second
    assert all(codes[pid] == 0 for pid in pids if pid != leader)


async def test_in_webhook_mode_every_process_answers_the_updates_it_is_given(tmp_path, url):
    secret = "load-balanced-secret"
    ports = [free_port(), free_port()]
    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        fleet = Fleet(fleet_config(tmp_path, url), url, emulator.base_url)
        for number, port in enumerate(ports):
            config = tmp_path / f"webhook-{number}.toml"
            config.write_text(
                f'[storage]\nurl = "{url}"\n[telegram]\nmode = "webhook"\n'
                # The address Telegram is given: the load balancer in front of both.
                f'webhook_url = "http://127.0.0.1:{ports[0]}/telegram"\n'
                f'secret_token = "{secret}"\n[http]\nport = {port}\n',
                encoding="utf-8",
            )
            await fleet.start(1, config=config)
        try:
            await eventually(lambda: calls(emulator, "setWebhook") == 2, 90, "two start-ups")
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            for update_id, (chat_id, port) in enumerate(zip((7, 8), ports, strict=True), 1):
                update = message_update(update_id, chat_id, "/start")
                status, _ = await http(
                    "POST", f"http://127.0.0.1:{port}/telegram", json=update, headers=headers
                )
                assert status == 200
            await emulator.next_message(7, timeout=30)
            await emulator.next_message(8, timeout=30)
            assert len(fleet.alive()) == 2
        finally:
            codes = await fleet.stop()
    assert calls(emulator, "getUpdates") == 0
    assert set(codes.values()) == {0}


async def make_due(url: str, source: str) -> None:
    """Make `source` due now, and tell the leader so, as a process changing a source does."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "UPDATE sources SET next_poll_at = extract(epoch FROM now()) WHERE name = $1", source
        )
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, SourcePolls.name)
    finally:
        await connection.close()


async def test_a_source_is_fetched_by_one_process_and_again_after_the_leader_dies(
    tmp_path, url, feeds
):
    feeds.publish("/feed.xml", rss(item("خبر أول", "https://example.ma/1")))
    config = fleet_config(
        tmp_path,
        url,
        '[ingestion]\nallowed_networks = ["127.0.0.0/8"]\n'
        f'[[sources]]\nname = "local"\nurl = "{feeds.url("/feed.xml")}"\ntopics = ["maroc"]\n',
    )
    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        fleet = Fleet(config, url, emulator.base_url)
        pids = await fleet.start(3)
        try:
            await eventually(lambda: started(emulator) >= START_UPS, 90, "three start-ups")
            await eventually(lambda: feeds.hits["/feed.xml"] >= 1, 30, "the first poll")
            leader = await fleet.leader()
            await fleet.kill(leader)
            await make_due(url, "local")
            await eventually(lambda: feeds.hits["/feed.xml"] >= 2, TAKEOVER_SECONDS, "a poll")
            successor = await fleet.leader()
        finally:
            await fleet.stop()
    # Three processes, each due source fetched once: by the leader, then by its successor.
    assert feeds.hits["/feed.xml"] == 2
    assert successor in pids and successor != leader
