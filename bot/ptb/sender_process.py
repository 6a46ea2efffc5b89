"""The outbox worker in a process of its own, started and watched by `akhbar run`.

Composing a 100,000-subscriber slot takes the bot's core for seconds, and sending at the paid
rate needs most of a core too: in one process each slows the other (and the answers to users).
With `[delivery] own_process` the worker runs in `akhbar deliver`, a child of `akhbar run`:

- the child's stdin carries the parent's words, one per line: `wake` (rows were queued) and
  `reachable <chat id>` (a chat let the bot back in); its end (the parent stopped, or died)
  stops the child after the requests in flight are answered and recorded;
- the child's stdout carries, twice a second, the answers it got (outcome, seconds, the pause
  a 429 asked for) as one JSON line, which the parent's metrics and readiness count;
- the child runs in a session of its own, so a Ctrl-C reaches only the parent, which stops it
  last, after the handlers; a child that ends with an error is started again (its worker id
  stays, so it takes back the rows its predecessor held at once).

The parent's replies keep taking their slots from the bot's shared schedule, on a connection
of their own (`bot.delivery.budget.ReplyBudgets`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from bot.config import Config
from bot.delivery.budget import ReplyBudgets
from bot.delivery.outcomes import SendOutcome
from bot.delivery.worker import OutboxWorker
from bot.event_loop import settle_garbage_collector
from bot.ops.metrics import answer_of
from bot.ptb.context import AkhbarApp
from bot.ptb.delivery import open_configured_delivery
from bot.ptb.rate_limits import SharedRateLimiter
from bot.services import open_services
from storage import database

log = logging.getLogger("bot.delivery.process")

WAKE = "wake"
REACHABLE = "reachable"
REPORT_SECONDS = 0.5
REPORT_MOST = 1_000  # answers per line: about 30 kB, well under the parent's line limit
_LINE_LIMIT = 1 << 20
STOP_SECONDS = 20.0  # the child's own grace for requests in flight is 10 s
_WATCH_SECONDS = 1.0
_RESTART_FIRST, _RESTART_MOST = 1.0, 60.0
_LONG_ENOUGH = 60.0  # a child that ran this long restarts after the shortest wait again

AnswerObserver = Callable[[str, float, float], None]


def deliver_command(config_path: Path, worker_id: str) -> list[str]:
    """The command that runs the worker alone on the same config."""
    return [
        sys.executable, "-m", "bot", "--config", str(config_path), "deliver", "--child",
        "--worker-id", worker_id,
    ]  # fmt: skip


def sender_worker_id(config: Config) -> str:
    """The child's claim id: the configured one, else host and the parent's process id, the
    same for every child this parent starts."""
    return config.delivery.worker_id or f"{socket.gethostname()}:{os.getpid()}:sender"


# The parent


class SenderProcess:
    """`akhbar deliver` as a child process: told of new rows, watched, started again."""

    def __init__(self, command: Sequence[str], *, observer: AnswerObserver | None) -> None:
        self._command = list(command)
        self._observer = observer
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.replies: SharedRateLimiter | None = None
        self._budgets: ReplyBudgets | None = None

    @property
    def is_running(self) -> bool:
        """Whether the child is alive."""
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the child and watch it."""
        self._process = await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name="delivery process")

    def wake(self) -> None:
        """New rows were committed: tell the worker."""
        self._say(WAKE)

    def chat_reachable(self, chat_id: int) -> None:
        """The chat let the bot back in: the worker sends to it again."""
        self._say(f"{REACHABLE} {int(chat_id)}")

    async def stop(self) -> None:
        """Close the child's stdin, wait for it to finish its requests in flight (killed after
        STOP_SECONDS), then close the replies' schedules."""
        self._stopping.set()
        try:
            if self.replies is not None:
                await self.replies.unbind()
            if self._watch is not None:
                await self._stopped_watch(self._watch)
        finally:
            if self._budgets is not None:
                await self._budgets.close()

    @staticmethod
    async def _stopped_watch(watch: asyncio.Task[None]) -> None:
        try:
            await watch
        except Exception:
            # Said, not raised: the rest of the bot still has to close.
            log.exception("watching the delivery process failed")

    async def bind_replies(self, limiter: SharedRateLimiter, budgets: ReplyBudgets) -> None:
        """The handlers' replies take their slots from `budgets` until stop()."""
        self._budgets = budgets
        await limiter.bind(budgets)
        self.replies = limiter

    def _say(self, line: str) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            return  # a restarted worker looks for due rows as it starts
        with contextlib.suppress(ConnectionError, RuntimeError):
            process.stdin.write(f"{line}\n".encode())

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=_LINE_LIMIT,
        )

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        wait = _RESTART_FIRST
        while True:
            process = self._process
            started = loop.time()
            if process is not None:
                if await self._watch_until_stopped(process):
                    return
                code = await process.wait()
                if code == 0:
                    # Asked to stop by a signal (systemd signals both processes): no restart.
                    log.warning("the delivery process stopped on a signal; not started again")
                    return
                wait = _RESTART_FIRST if loop.time() - started > _LONG_ENOUGH else wait
                log.error(
                    "the delivery process ended (exit %s); starting it again in %g s", code, wait
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stopping.wait()
                    return
            try:
                self._process = await self._spawn()
            except OSError as error:
                self._process = None
                log.error("could not start the delivery process: %s", error)
            wait = min(wait * 2, _RESTART_MOST)

    async def _watch_until_stopped(self, process: asyncio.subprocess.Process) -> bool:
        """Read the child's answers until it ends (False) or stop() is called (True: the
        child was asked to stop and has ended)."""
        reading = asyncio.create_task(self._read_answers(process))
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            await _ask_to_stop(process)
            await reading  # its last answers, up to the end of its output
            return True
        stopping.cancel()
        return False

    async def _read_answers(self, process: asyncio.subprocess.Process) -> None:
        """Until the child's output ends; a line that is not a report counts for nothing."""
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # a line over the limit (not ours): skip it
                continue
            if not line:
                return
            if self._observer is not None:
                for outcome, seconds, retry_after in _answers(line):
                    self._observer(outcome, seconds, retry_after)


async def _ask_to_stop(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        log.error("the delivery process did not stop within %g s: killed", STOP_SECONDS)
        process.kill()
        await process.wait()


def _answers(line: bytes) -> list[tuple[str, float, float]]:
    """The answers of one report line; anything else the child printed counts for nothing."""
    try:
        report = json.loads(line)
        return [(str(o), float(s), float(r)) for o, s, r in report["answers"]]
    except (ValueError, KeyError, TypeError):
        return []


async def start_sender_process(
    app: AkhbarApp, command: Sequence[str], *, observer: AnswerObserver | None
) -> SenderProcess:
    """Start the worker's process for a running application (from post_init, after services)
    and bind the handlers' replies to the shared schedule."""
    services = app.bot_data.services
    if services is None:
        raise RuntimeError("start_sender_process needs the services opened first")
    config = services.config
    sender = SenderProcess(command, observer=observer)
    await sender.start()
    try:
        limiter = app.bot.rate_limiter
        if isinstance(limiter, SharedRateLimiter):
            db = await database.connect_send_budget(config.storage.location)
            budgets = ReplyBudgets(db, rate=config.delivery.overall_per_second)
            await sender.bind_replies(limiter, budgets)
    except BaseException:
        await sender.stop()  # no child left behind a start-up that failed
        raise
    return sender


# The child


class AnswerReport:
    """Collects the worker's answers and writes them to stdout as one JSON line at a time."""

    def __init__(self, write: Callable[[bytes], object] | None) -> None:
        self._write = write  # None: nobody reads them (a sender started by hand)
        self._answers: list[tuple[str, float, float]] = []

    def observe(self, outcome: SendOutcome, seconds: float) -> None:
        """The worker's observer."""
        name, taken, retry_after = answer_of(outcome, seconds)
        self._answers.append((name, round(taken, 4), retry_after))
        if len(self._answers) >= REPORT_MOST:
            self.flush()

    def flush(self) -> None:
        """Write what was collected since the last flush."""
        answers, self._answers = self._answers, []
        if answers and self._write is not None:
            self._write(json.dumps({"answers": answers}).encode() + b"\n")

    async def run(self) -> None:
        """Flush every REPORT_SECONDS until cancelled."""
        while True:
            await asyncio.sleep(REPORT_SECONDS)
            self.flush()


async def run_sender(config: Config, *, worker_id: str, child: bool) -> bool:
    """`akhbar deliver`: the outbox worker alone, until SIGTERM or SIGINT, or (a `child` of
    `akhbar run`) the end of stdin. Return False if the worker stopped by itself (a failure
    its log names): the bot then starts another."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    report = AnswerReport(await _answers_pipe() if child else None)
    services = await open_services(config, create=False)
    try:
        handle = await open_configured_delivery(
            services, worker_id=worker_id, observer=report.observe
        )
        settle_garbage_collector()
        tasks = [asyncio.create_task(report.run(), name="answers")]
        if child:
            tasks.append(asyncio.create_task(_follow_parent(handle, stop), name="parent"))
        try:
            return await _until_stopped(handle.worker, stop)
        finally:
            await handle.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            report.flush()
    finally:
        await services.close()


async def _until_stopped(worker: OutboxWorker, stop: asyncio.Event) -> bool:
    while worker.is_running:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_WATCH_SECONDS):
                await stop.wait()
                return True
    log.error("the outbox worker stopped by itself (its error is logged above)")
    return False


async def _answers_pipe() -> Callable[[bytes], object]:
    # Written without blocking: a parent busy for a moment must not hold up the sends.
    loop = asyncio.get_running_loop()
    pipe, _ = await loop.connect_write_pipe(asyncio.Protocol, _stdout())
    return pipe.write


def _stdout() -> BinaryIO:
    # Opened on the descriptor itself: sys.stdout may be the redacting text wrapper.
    return os.fdopen(sys.stdout.fileno(), "wb", buffering=0, closefd=False)


class _Worker(Protocol):
    def wake(self) -> None: ...

    def chat_reachable(self, chat_id: int) -> None: ...


async def _follow_parent(worker: _Worker, stop: asyncio.Event) -> None:
    """Do what the parent says on stdin; its end means stop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        async for raw in reader:
            word, _, argument = raw.decode(errors="replace").strip().partition(" ")
            if word == WAKE:
                worker.wake()
            elif word == REACHABLE and argument.lstrip("-").isdigit():
                worker.chat_reachable(int(argument))
    finally:
        stop.set()
