"""The PostgreSQL server a benchmark uses: `--url` if given, else a throwaway cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.postgres import PostgresServer, postgres_server


@contextmanager
def bench_server(url: str | None = None) -> Iterator[PostgresServer]:
    """Yield the server; exit with the reason when there is none; stop a cluster started here."""
    if url:
        yield PostgresServer(url)
        return
    servers = postgres_server()
    server = next(servers)
    try:
        if isinstance(server, str):
            raise SystemExit(server)
        yield server
    finally:
        servers.close()  # stops the throwaway cluster
