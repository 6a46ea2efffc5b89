"""A PostgreSQL server that asks for a password (the shared test cluster trusts loopback), for
the tests of what Akhbar writes when the password is wrong."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

from tests.support.postgres import throwaway_cluster

USER = "akhbar"


def password_server(password: str) -> Iterator[str]:
    """The URL (with `password`) of a throwaway server with scram-sha-256 authentication, or
    `skip: reason` when PostgreSQL's server binaries are missing (a generator for a fixture)."""
    cluster = throwaway_cluster()
    if cluster is None:
        yield "skip: no PostgreSQL server binaries"
        return
    secret = cluster.folder / "password"
    secret.write_text(password, encoding="utf-8")
    data = cluster.folder / "data"
    run = ["runuser", "-u", cluster.owner, "--"] if cluster.owner else []
    if cluster.owner:
        shutil.chown(secret, cluster.owner)
    try:
        subprocess.run([*run, str(cluster.bin / "initdb"), "-D", str(data), "-U", USER,
                        "-A", "scram-sha-256", f"--pwfile={secret}", "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        options = (
            f"-p {cluster.port} -k {cluster.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        )
        subprocess.run([*run, str(cluster.bin / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                        "-l", str(cluster.folder / "server.log"), "start"],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
        yield f"postgresql://{USER}:{password}@127.0.0.1:{cluster.port}/postgres"
    finally:
        cluster.stop()
