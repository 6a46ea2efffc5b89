"""`akhbar sandbox` as a user starts it (a subprocess), and Chromium driven by Playwright."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("AKHBAR_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
START_TIMEOUT = 60.0
_ADDRESS_PREFIX = "Akhbar sandbox: open "


def output_dir() -> Path:
    """Where a test run leaves screenshots: $AKHBAR_TEST_OUTPUT, else test-output/."""
    return Path(os.environ.get("AKHBAR_TEST_OUTPUT") or REPO / "test-output")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def akhbar_command() -> list[str]:
    """The installed `akhbar` script next to this Python, else `python -m bot`."""
    script = Path(sys.executable).with_name("akhbar")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


@dataclass
class SandboxProcess:
    """A running `akhbar sandbox`; `output` collects what it printed."""

    process: subprocess.Popen[str]
    url: str
    config: Path
    output: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 20.0) -> int:
        """Ctrl-C, as a user stops it; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)


def start_sandbox(workdir: Path, *extra: str) -> SandboxProcess:
    """Start `akhbar --config <workdir>/config.toml sandbox --port 0 …` and wait for its address."""
    config = workdir / "config.toml"
    if not config.exists():
        shutil.copy(REPO / "config.toml", config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    process = subprocess.Popen(
        [*akhbar_command(), "--config", str(config), "sandbox", "--port", "0", *extra],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    output: list[str] = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no address within {START_TIMEOUT}s: {output[-20:]}") from None
        if line is None:
            raise AssertionError(f"the sandbox exited with {process.wait()}: {output[-20:]}")
        output.append(line)
        if line.startswith(_ADDRESS_PREFIX):
            url = line.removeprefix(_ADDRESS_PREFIX).split()[0]
            sandbox = SandboxProcess(process, url, config, output)
            threading.Thread(target=_collect, args=(lines, output), daemon=True).start()
            return sandbox


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _collect(lines: queue.Queue[str | None], output: list[str]) -> None:
    while (line := lines.get()) is not None:
        output.append(line)


@contextmanager
def chromium(user_data_dir: Path) -> Iterator[object]:
    """A headless Chromium (Debian's) with a fresh profile; yields a Playwright context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": 1200, "height": 820},
            locale="en-US",
        )
        try:
            yield context
        finally:
            context.close()
