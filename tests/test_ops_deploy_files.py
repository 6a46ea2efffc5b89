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
    assert "RUN scripts/setup-venv.sh" in dockerfile  # the install step CI exercises
    assert "\nUSER akhbar" in dockerfile
    assert 'VOLUME ["/data"]' in dockerfile
    healthcheck = dockerfile.split("\nHEALTHCHECK", 1)[1].split("\n# ", 1)[0]
    assert '"health"]' in healthcheck
    assert (ROOT / "deploy" / "config.docker.toml").exists()


def test_the_systemd_unit_runs_the_bot_and_stops_it_with_sigterm():
    unit = (ROOT / "deploy" / "akhbar.service").read_text(encoding="utf-8")
    assert "akhbar --config /etc/akhbar/config.toml run" in unit
    assert "KillSignal=SIGTERM" in unit and "User=akhbar" in unit
