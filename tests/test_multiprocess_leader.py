"""Several processes on one PostgreSQL database: one leader at a time runs what must run once
(long polling, the digest loop, source polls), and another takes over within seconds when it
dies. Real `akhbar run` processes against the emulator; the leader is read from pg_locks."""

from __future__ import annotations

import asyncpg
import pytest

from bot.ptb.leadership import Leadership
from storage.postgres import LEADER_LOCK, LOCK_CLASS
from tests.support.fleet import fresh_database
from tests.support.waiting import eventually as until


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
