"""Readiness: named async checks, each answering ok or not with a short reason.

The list is open: `/readyz` and `akhbar health` run whatever checks the wiring registered, so a
new concern (sources stuck beyond a threshold, say) is one more entry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from storage import health as db_health
from storage.connection import Connection

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's answer; `detail` says why in a few words (never a secret)."""

    ok: bool
    detail: str = ""


Check = Callable[[], Awaitable[CheckResult]]


class Pulse:
    """When something last happened (Telegram answered, the outbox made progress), monotonic."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._last: float | None = None

    def beat(self) -> None:
        """It happened now."""
        self._last = self._monotonic()

    def age(self) -> float | None:
        """Seconds since the last beat, or None if it never happened."""
        return None if self._last is None else self._monotonic() - self._last


async def run_checks(checks: Mapping[str, Check]) -> dict[str, CheckResult]:
    """Run every check concurrently, each within its own timeout; an error is a failed check."""
    names = list(checks)
    results = await asyncio.gather(*(_guarded(checks[name]) for name in names))
    return dict(zip(names, results, strict=True))


async def _guarded(check: Check) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await check()
    except TimeoutError:
        return CheckResult(False, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s")
    except Exception as error:  # a broken check is a failed check, not a 500
        return CheckResult(False, type(error).__name__)


def database_check(db: Connection) -> Check:
    """The database answers a query."""

    async def check() -> CheckResult:
        await db_health.ping(db)
        return CheckResult(True)

    return check


def outbox_check(
    *,
    is_running: Callable[[], bool],
    db: Connection,
    progress: Pulse,
    clock: Clock,
    stuck_after: float,
) -> Check:
    """The outbox worker runs, and due messages do not wait while it makes no progress.

    A big broadcast legitimately leaves rows waiting for a long time at 30 messages/s, so an
    old due row alone is not "stuck": nothing must also have been sent for `stuck_after`.
    """

    async def check() -> CheckResult:
        if not is_running():
            return CheckResult(False, "the outbox worker is not running")
        now = clock().timestamp()
        due_since = await db_health.oldest_due_since(db, now=now)
        waiting = 0.0 if due_since is None else now - due_since
        idle = progress.age()
        if waiting > stuck_after and (idle is None or idle > stuck_after):
            return CheckResult(
                False, f"the oldest due message has waited {waiting:.0f} s with no progress"
            )
        return CheckResult(True, f"oldest due message waits {waiting:.0f} s")

    return check


def telegram_check(pulse: Pulse, *, silence: float) -> Check:
    """Telegram answered a request within the last `silence` seconds."""

    async def check() -> CheckResult:
        age = pulse.age()
        if age is None:
            return CheckResult(False, "Telegram has not answered yet")
        if age > silence:
            return CheckResult(False, f"Telegram last answered {age:.0f} s ago")
        return CheckResult(True, f"Telegram answered {age:.0f} s ago")

    return check


MAX_NAMED = 5


def sources_check(stuck: Callable[[], Awaitable[Sequence[str]]]) -> Check:
    """Ready while no polled source has been failing beyond the alert threshold."""

    async def check() -> CheckResult:
        names = list(await stuck())
        if not names:
            return CheckResult(True)
        shown = ", ".join(names[:MAX_NAMED]) + ("…" if len(names) > MAX_NAMED else "")
        return CheckResult(False, f"{len(names)} source(s) failing for too long: {shown}")

    return check
