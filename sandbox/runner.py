"""Starts the emulator, its web chat and the real bot on a sandbox database; stops them."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_application, polling
from bot.config import Config
from emulator import BotApiEmulator
from emulator.webchat import LOOPBACK, WebChat
from sandbox import world
from sandbox.clock import MovableClock
from sandbox.operator import OperatorPanel

log = logging.getLogger(__name__)

DATA = Path(__file__).with_name("data")
PHOTO_NEWS = DATA / "photo_news.xml"
PHOTO_URLS = {
    "https://example.com/akhbar-sandbox/stadium.jpg": DATA / "stadium.jpg",
    "https://example.com/akhbar-sandbox/ocean.jpg": DATA / "samples" / "ocean.jpg",
}
DATABASE_NAME = "sandbox.sqlite3"
POLL_TIMEOUT_SECONDS = 2  # short, so Ctrl-C does not wait for a long poll


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    port: int = 8765
    host: str = LOOPBACK
    open_browser: bool = False
    fresh: bool = False


class PortInUse(OSError):
    """The web chat's port is taken."""


def sandbox_config(config: Config, emulator: BotApiEmulator) -> Config:
    """The user's configuration pointed at the emulator, on the sandbox database, offline."""
    database = Path(config.storage.path).with_name(DATABASE_NAME)
    return config.model_copy(
        update={
            "telegram": config.telegram.model_copy(
                update={
                    "token": SecretStr(world.BOT_TOKEN),
                    "api_base_url": emulator.base_url,
                    "poll_timeout_seconds": POLL_TIMEOUT_SECONDS,
                }
            ),
            "storage": config.storage.model_copy(update={"path": str(database)}),
            "bot": config.bot.model_copy(update={"load_sample_news": True}),
            "sources": (),
        }
    )


def database_path(config: Config) -> Path:
    return Path(config.storage.path).with_name(DATABASE_NAME)


def forget_database(path: Path) -> None:
    """--fresh: remove the sandbox database, its WAL files and the clock offset."""
    for suffix in ("", "-wal", "-shm", ".clock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def samples() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((DATA / "samples").glob("*.jpg"))}


async def run_sandbox(config: Config, options: SandboxOptions) -> None:
    """Run until SIGINT/SIGTERM, then stop the bot, the web chat and the emulator in order."""
    path = database_path(config)
    if options.fresh:
        forget_database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clock = MovableClock(Path(f"{path}.clock"))
    emulator = BotApiEmulator(
        world.BOT_TOKEN,
        bot_username=world.BOT_USERNAME,
        bot_name=world.BOT_NAME,
        clock=clock.timestamp,
        max_logged_requests=1000,  # a sandbox may run for days; refusals are kept apart
    )
    webchat = WebChat(emulator, samples=samples(), host=options.host)
    world.seed(emulator, webchat)
    for url, image in PHOTO_URLS.items():
        emulator.serve_url(url, image.read_bytes())
    stop = asyncio.Event()
    _on_signals(stop)
    await emulator.start()
    try:
        try:
            address = await webchat.start(options.port)
        except OSError as error:
            raise PortInUse(
                f"cannot listen on {options.host}:{options.port}: {error.strerror}"
            ) from None
        try:
            await _serve(config, emulator, webchat, clock, address, options, stop)
        finally:
            await webchat.stop()
    finally:
        await emulator.stop()


async def _serve(config, emulator, webchat, clock, address, options, stop) -> None:
    app = build_application(sandbox_config(config, emulator), clock=clock, poll_sources=False)
    async with polling(app, poll_timeout=POLL_TIMEOUT_SECONDS):
        services = app.bot_data.services
        report = await services.ingestion.import_file(
            PHOTO_NEWS, source=world.PHOTO_SOURCE, language="ar"
        )
        log.info("sandbox photo news: %s new, %s duplicate", report.new, report.duplicate)
        OperatorPanel(app, clock).register(webchat)
        webchat.changed()
        print(f"Akhbar sandbox: open {address} (Telegram simulated locally; Ctrl-C stops it)")
        if options.host != LOOPBACK:
            print(f"warning: the web chat listens on {options.host}, beyond this machine")
        sys.stdout.flush()
        if options.open_browser:
            webbrowser.open(address)
        await stop.wait()
    print("Akhbar sandbox: stopped", flush=True)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
