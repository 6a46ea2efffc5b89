"""A PostgreSQL server for the tests: AKHBAR_TEST_POSTGRES_URL if set, else a throwaway
cluster started here (initdb and pg_ctl in a temporary folder, a free loopback port) when
PostgreSQL's server binaries are installed; otherwise the PostgreSQL tests are skipped, with
one line saying why. Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

URL_ENV = "AKHBAR_TEST_POSTGRES_URL"
SKIP_REASON = "PostgreSQL tests skipped: no {env} and no PostgreSQL server binaries ({where})"
_names = itertools.count(1)


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """Where to reach the server as a user allowed to create databases."""

    url: str

    def database_url(self, name: str) -> str:
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{name}"

    async def create_database(self) -> str:
        name = f"akhbar_test_{os.getpid()}_{next(_names)}"
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return name

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the packaged `postgres` user.
    return ["runuser", "-u", owner, "--", *command] if owner else command


@dataclass
class ThrowawayCluster:
    bin: Path
    folder: Path
    port: int
    owner: str | None

    def start(self) -> PostgresServer:
        data, user = self.folder / "data", "akhbar"
        self._run([str(self.bin / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=400 -c shared_buffers=64MB"
        )
        self._run([str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                   "-l", str(self.folder / "server.log"), "start"])  # fmt: skip
        return PostgresServer(f"postgresql://{user}@127.0.0.1:{self.port}/postgres")

    def stop(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                   "stop"], check=False)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, command: list[str], *, check: bool = True) -> None:
        subprocess.run(
            _as_owner(command, self.owner), check=check, capture_output=True, timeout=120
        )


def throwaway_cluster() -> ThrowawayCluster | None:
    binaries = server_binaries()
    if binaries is None:
        return None
    owner = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="akhbar-pg-"))
    if owner:
        shutil.chown(folder, owner)
    return ThrowawayCluster(binaries, folder, _free_port(), owner)


def postgres_server() -> Iterator[PostgresServer | str]:
    """The server to use, or the reason there is none (a generator for a session fixture)."""
    if os.environ.get(URL_ENV):
        yield PostgresServer(os.environ[URL_ENV])
        return
    cluster = throwaway_cluster()
    if cluster is None:
        yield SKIP_REASON.format(env=URL_ENV, where="/usr/lib/postgresql/*/bin")
        return
    try:
        server = cluster.start()
    except subprocess.CalledProcessError as error:
        yield f"PostgreSQL tests skipped: the throwaway cluster did not start: {error.stderr!r}"
        cluster.stop()
        return
    try:
        yield server
    finally:
        cluster.stop()
