"""The advisory locks that make one Akhbar process the leader, on PostgreSQL.

They are session locks on a connection of their own, never one of the query pool: a pooled
connection goes back to the pool, and a session lock would go with it. PostgreSQL lets them go
when the session ends, so a process that dies (kill -9, a lost machine) hands the leadership
over as soon as the server sees its connection close.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.errors import DatabaseUnavailable
from storage.postgres import LEADER_LOCK, LOCK_CLASS, START_LOCK, driver, driver_errors, redacted

if TYPE_CHECKING:
    import asyncpg

# Who holds the lock shows in pg_stat_activity.application_name (operators, tests).
APPLICATION_NAME = "akhbar pid {pid}"
# Followers tell the leader that due work changed (a schedule, a source) on this channel.
CHANNEL = "akhbar_leader"
# A leader cut off by the network (not dead: its socket is never closed) must still lose the
# lock: the server probes the idle connection and ends the session within about 15 s.
_KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "3",
    "tcp_keepalives_count": "3",
}


class LeaderLock:
    """A dedicated connection to `url` and the leader lock it may hold."""

    def __init__(
        self,
        url: str,
        *,
        on_notice: Callable[[str], None] = lambda payload: None,
        timeout: float = 5.0,
    ) -> None:
        self._url = url
        self._on_notice = on_notice
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None
        # One operation at a time on the connection: a notice sent while the leader checks its
        # lock would otherwise meet asyncpg's "another operation is in progress".
        self._using = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LeaderLock({redacted(self._url)!r})"

    async def _open(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await driver().connect(
                self._url,
                timeout=self._timeout,
                server_settings={
                    "application_name": APPLICATION_NAME.format(pid=os.getpid()),
                    **_KEEPALIVES,
                },
            )
        return self._connection

    async def try_acquire(self) -> bool:
        """Take the leader lock if nobody holds it; False when someone does or the database
        cannot be reached (the connection is then dropped, to be opened again next time)."""
        async with self._using:
            return await self._try_acquire()

    async def _try_acquire(self) -> bool:
        try:
            connection = await self._open()
            acquired = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, LEADER_LOCK,
                timeout=self._timeout,
            )  # fmt: skip
            if acquired:
                await connection.add_listener(CHANNEL, self._heard)
            return acquired
        except driver_errors():
            await self.close()
            return False

    def _heard(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self._on_notice(payload)

    async def notify(self, payload: str) -> None:
        """Tell the leader, whoever it is, `payload` (lost if nobody leads right now)."""
        async with self._using:
            await self._notify(payload)

    async def _notify(self, payload: str) -> None:
        try:
            connection = await self._open()
            await connection.execute(
                "SELECT pg_notify($1, $2)", CHANNEL, payload, timeout=self._timeout
            )
        except driver_errors():
            await self.close()

    async def is_held(self) -> bool:
        """Whether this connection still holds the lock (False once it is lost)."""
        async with self._using:
            return await self._is_held()

    async def _is_held(self) -> bool:
        if self._connection is None or self._connection.is_closed():
            return False
        try:
            return await self._connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid()"
                " AND locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted)",
                LOCK_CLASS, LEADER_LOCK,
                timeout=self._timeout,
            )  # fmt: skip
        except driver_errors():
            await self.close()
            return False

    async def release(self) -> None:
        """Let the lock go (closing the connection does too, and is what a failure does)."""
        await self.close()

    @asynccontextmanager
    async def starting(self) -> AsyncIterator[None]:
        """Hold the start-up lock: processes starting together set up (seed, load samples)
        one after the other, so each sees what the one before wrote."""
        try:
            connection = await self._open()
        except (*driver_errors(), ValueError) as error:
            raise DatabaseUnavailable(f"{redacted(self._url)}: cannot be opened: {error}") from None
        await connection.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, START_LOCK)
        try:
            yield
        finally:
            if not connection.is_closed():
                await connection.execute(
                    "SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, START_LOCK
                )

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), self._timeout)
            except driver_errors():
                connection.terminate()
