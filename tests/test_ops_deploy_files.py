"""The deployment files agree with the code (the image itself is not built here: no Docker)."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).parent.parent


def test_the_container_config_is_valid_and_keeps_data_on_the_volume():
    config = load_config(ROOT / "deploy" / "config.docker.toml", environ={})
    assert config.storage.path.startswith("/data/")
    assert config.backup.directory.startswith("/data/")
    assert config.http.port == 8080


def test_the_dockerfile_installs_like_ci_runs_unprivileged_and_checks_health():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # The install step CI exercises, without the test tools.
    assert "RUN AKHBAR_EXTRAS= scripts/setup-venv.sh" in dockerfile
    assert "\nUSER akhbar" in dockerfile
    assert 'VOLUME ["/data"]' in dockerfile
    healthcheck = dockerfile.split("\nHEALTHCHECK", 1)[1].split("\n# ", 1)[0]
    assert '"health"]' in healthcheck
    assert (ROOT / "deploy" / "config.docker.toml").exists()


def test_the_systemd_unit_runs_the_bot_and_stops_it_with_sigterm():
    unit = (ROOT / "deploy" / "akhbar.service").read_text(encoding="utf-8")
    assert "akhbar --config /etc/akhbar/config.toml run" in unit
    assert "KillSignal=SIGTERM" in unit and "User=akhbar" in unit


def test_the_postgresql_config_uses_the_database_url_and_no_sqlite_backups():
    url = "postgresql://akhbar:secret@postgres:5432/akhbar"
    config = load_config(
        ROOT / "deploy" / "config.postgres.toml", environ={"AKHBAR_DATABASE_URL": url}
    )
    assert config.storage.is_postgres and config.storage.location == url
    assert not config.backup.enabled
    assert (config.http.listen, config.http.port) == ("0.0.0.0", 8080)


def _service(compose: str, name: str) -> str:
    """The text of one service in compose.yaml (up to the next service or top-level key)."""
    return compose.split(f"\n  {name}:\n", 1)[1].split("\n\n", 1)[0]


def test_compose_runs_three_processes_on_one_postgresql_and_copies_from_sqlite_once():
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    anchor = compose.split("x-akhbar: &akhbar\n", 1)[1].split("\n\n", 1)[0]
    assert "AKHBAR_DATABASE_URL: postgresql://akhbar:${POSTGRES_PASSWORD" in anchor
    assert "@postgres:5432/akhbar" in anchor
    assert "./deploy/config.postgres.toml:/etc/akhbar/config.toml:ro" in anchor
    assert "condition: service_healthy" in anchor
    postgres = _service(compose, "postgres")
    assert "POSTGRES_USER: akhbar" in postgres and "POSTGRES_DB: akhbar" in postgres
    assert "pg_isready" in postgres and "postgres-data:/var/lib/postgresql/data" in postgres
    ports = set()
    for name in ("akhbar-1", "akhbar-2", "akhbar-3"):
        service = _service(compose, name)
        assert "<<: *akhbar" in service
        ports.add(service.split('"127.0.0.1:', 1)[1].split(":", 1)[0])
    assert len(ports) == 3  # each process's health port on its own host port
    copy = _service(compose, "db-copy")
    assert 'command: ["db", "copy", "--from", "/data/akhbar.sqlite3"]' in copy
    assert "akhbar-data:/data" in copy and "profiles: [migrate]" in copy
    sqlite = _service(compose, "akhbar")
    assert "profiles: [sqlite]" in sqlite and "akhbar-data:/data" in sqlite
