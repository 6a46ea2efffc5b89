"""scripts/setup-venv.sh installs only when pyproject.toml changed since the last install.

What this proves: the real script, run on a copy of the project whose .venv/bin/python is a
stand-in that records its calls, calls pip when there is no record of an install, when
pyproject.toml (or the script) changed, or when forced, and otherwise calls nothing at all; a
failed install is retried next time. It does not run pip: that an unchanged .venv then starts
offline (PIP_NO_INDEX=1 scripts/run-bot.sh) was checked by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
STAND_IN = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.log"
exit "${FAKE_PIP_EXIT:-0}"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup-venv.sh", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN)
    python.chmod(0o755)
    return tmp_path


def set_up(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(project / "scripts" / "setup-venv.sh")],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PIP_NO_INDEX": "1", **env},
    )  # fmt: skip


def pip_calls(project: Path) -> list[str]:
    log = project / ".venv" / "bin" / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_an_unchanged_project_is_installed_once_then_left_alone(project):
    first = set_up(project)
    assert first.returncode == 0, first.stderr
    assert pip_calls(project) == ["-m pip install --quiet --disable-pip-version-check -e .[test]"]
    again = set_up(project)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len(pip_calls(project)) == 1


def test_a_production_install_leaves_the_test_tools_out_and_switching_installs_again(project):
    production = set_up(project, AKHBAR_EXTRAS="")
    assert production.returncode == 0, production.stderr
    assert pip_calls(project) == ["-m pip install --quiet --disable-pip-version-check -e ."]
    set_up(project)
    assert pip_calls(project)[1:] == [
        "-m pip install --quiet --disable-pip-version-check -e .[test]"
    ]


def test_a_changed_pyproject_or_a_forced_run_installs_again(project):
    set_up(project)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# a new dependency would go here\n")
    assert set_up(project).returncode == 0
    assert set_up(project).returncode == 0
    assert len(pip_calls(project)) == 2
    assert set_up(project, AKHBAR_REINSTALL="1").returncode == 0
    assert len(pip_calls(project)) == 3


def test_a_failed_install_is_reported_and_retried_next_time(project):
    failed = set_up(project, FAKE_PIP_EXIT="1")
    assert failed.returncode == 1
    assert "installing Akhbar into .venv failed" in failed.stderr
    assert set_up(project).returncode == 0
    assert set_up(project).returncode == 0
    assert len(pip_calls(project)) == 2  # the failure, then one good install
