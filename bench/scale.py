"""Many subscribers: start-up, the 08:00 digest slot, and the broadcast through `akhbar run`.

    python -m bench.scale [--quick] [--sizes 1000,10000,100000] [--slot 100000]
                          [--out bench/scale_results.md]

The bot is the real CLI (`python -m bot --config … run`) with the shipped config.toml (its
[[sources]] left out: nothing here reaches the internet), against the Bot API emulator in this
process answering after 50 ms. Subscribers are made the way /start + /subscribe make them: one
chat first goes through those commands in the real bot, then its rows in `chats`,
`subscriptions` and `schedules` are copied for every other chat (checked column by column
against the real rows). The slot runs with the paid-broadcast limit on (1,000 msg/s), which the
emulator enforces (429 above 1,000 sends in any one second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.timing import as_the_bot, steady_emulator
from emulator import BotApiEmulator
from emulator.faults import FloodLimiter
from emulator.records import ApiCall

TOKEN = "123456:BENCH-token"
ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "config.toml"
ROUND_TRIP = 0.05
BASE = 10_000_000  # subscribers' chat ids start here
TEMPLATE_CHAT = 7
PAID_RATE = 1000  # Telegram's paid-broadcast limit, msg/s; the emulator answers 429 above it
PROBES = 100  # /start updates sent while the slot is composed and sent
PROBE_BASE = 9_000_000
ARTICLES = 600  # fresh synthetic articles from 20 sources, so digests are full (10 headlines)
# Common words of the articles: personalised subscribers each keep one and drop a word of their
# own, so their digests differ and no two share a selection key.
WORDS = ("في", "من", "على", "إلى", "أن", "عن", "مع", "بعد")


# The bot process


ONE_PROCESS = False  # --one-process: the worker in the bot's process, for comparison


def write_config(folder: Path, database: Path, *, paid: bool) -> Path:
    """The shipped config, its sources left out, on `database`; paid broadcasts when asked."""
    text = SHIPPED.read_text(encoding="utf-8").split("[[sources]]")[0]
    text = text.replace('path = "data/akhbar.sqlite3"', f'path = "{database}"')
    text = text.replace("poll_timeout_seconds = 30", "poll_timeout_seconds = 5")
    if paid:
        rate = f"overall_per_second = {float(PAID_RATE)}"
        text = re.sub(r"overall_per_second = [\d.]+", rate, text)
        text = text.replace("paid_broadcast = false", "paid_broadcast = true")
    if ONE_PROCESS:
        text = text.replace("own_process = true", "own_process = false")
    path = folder / "bench-scale.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Bot:
    """`akhbar run` in a child process."""

    def __init__(self, config: Path, emulator: BotApiEmulator) -> None:
        self._config = config
        self._emulator = emulator
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Bot:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self._emulator.base_url,
        }
        self.started = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self._config), "run",
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        as_the_bot(self.process.pid)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout=60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def memory_mb(self, field: str = "VmRSS") -> float:
        """The bot's memory: `akhbar run` and the sender it started ([delivery] own_process)."""
        pid = self.process.pid
        return sum(_status_mb(p, field) for p in (pid, *_children(pid)))


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def _status_mb(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:  # a child that just ended
        return 0.0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0  # a zombie has no memory left


async def answered(emulator: BotApiEmulator, chat_id: int, before: int, timeout: float) -> float:  # noqa: ASYNC109
    """Wait until the bot sent `chat_id` more than `before` messages; return when (monotonic)."""
    deadline = time.monotonic() + timeout
    while emulator.sent_count(chat_id) <= before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer to chat {chat_id} within {timeout}s")
        await asyncio.sleep(0.005)
    return time.monotonic()


async def ask(emulator: BotApiEmulator, chat_id: int, text: str, timeout: float = 600) -> float:  # noqa: ASYNC109
    """Send `text` from a private chat; return seconds until the bot answered."""
    before = emulator.sent_count(chat_id)
    sent = time.monotonic()
    await emulator.send_text(chat_id, text)
    return await answered(emulator, chat_id, before, timeout) - sent


# Subscribers


def template_database(folder: Path) -> tuple[Path, dict[str, dict]]:
    """A database where one chat went through /start and /subscribe in the real bot; its rows."""
    database = folder / "template.sqlite3"

    async def run() -> None:
        async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:  # noqa: SIM117
            async with Bot(write_config(folder, database, paid=False), emulator):
                await ask(emulator, TEMPLATE_CHAT, "/start", timeout=120)
                await ask(emulator, TEMPLATE_CHAT, "/subscribe")

    asyncio.run(run())
    asyncio.run(add_articles(database))
    return database, rows_of(database, TEMPLATE_CHAT)


async def add_articles(database: Path) -> None:
    """Fresh articles stored the way ingestion stores them (fetched now: first digests)."""
    import httpx

    from bench.stores import Stores, store_in_batches
    from bench.synthetic import generate
    from bot.config import IngestionConfig
    from bot.ingestion.service import IngestionService
    from bot.reading import search_text
    from bot.reading.news import NewsService
    from storage import database as storage

    db = await storage.connect(database, index_terms=search_text.index_text)
    try:
        async with httpx.AsyncClient() as client:
            ingestion = IngestionService(
                db, settings=IngestionConfig(), tz=ZoneInfo("Africa/Casablanca"),
                client=client, clock=lambda: datetime.now(UTC),
            )  # fmt: skip
            stores = Stores(db, ingestion, NewsService(db, page_size=8))
            await store_in_batches(stores, [a.draft for a in generate(ARTICLES, seed=11)])
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()


def rows_of(database: Path, chat_id: int) -> dict[str, dict]:
    db = sqlite3.connect(database)
    db.row_factory = sqlite3.Row
    try:
        query = "SELECT * FROM {} WHERE chat_id = ?"
        return {
            table: dict(db.execute(query.format(table), (chat_id,)).fetchone())
            for table in ("chats", "subscriptions", "schedules")
        }
    finally:
        db.close()


def populate(template: Path, target: Path, count: int, *, personalised: bool) -> None:
    """Copy the template database and give `count` more chats the template chat's rows."""
    target.write_bytes(template.read_bytes())
    db = sqlite3.connect(target)
    numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
    t = TEMPLATE_CHAT
    with db:
        db.execute(
            f"{numbers} INSERT INTO chats (chat_id, type, title, language, created_at,"
            " is_active, timezone) SELECT ? + i, type, title, language, created_at, is_active,"
            " timezone FROM n, chats WHERE chat_id = ?",
            (count, BASE, t),
        )
        include = (
            "json_array(json_extract(?, '$[' || (i % ?) || ']'))"
            if personalised
            else "include_words"
        )
        exclude = "json_array('كلمة' || i)" if personalised else "exclude_words"
        words = (json.dumps(WORDS, ensure_ascii=False), len(WORDS)) if personalised else ()
        db.execute(
            f"{numbers} INSERT INTO subscriptions (chat_id, topics, instant_topics,"
            f" include_words, exclude_words, created_at) SELECT ? + i, topics, instant_topics,"
            f" {include}, {exclude}, created_at FROM n, subscriptions WHERE chat_id = ?",
            (count, BASE, *words, t),
        )
        db.execute(
            f"{numbers} INSERT INTO schedules (chat_id, thread_id, times, days, cron, topics,"
            " item_count, created_by, created_at, paused_reason, last_slot, last_article_id,"
            " next_fire_at) SELECT ? + i, thread_id, times, days, cron, topics, item_count,"
            " ? + i, created_at, paused_reason, last_slot, last_article_id, next_fire_at"
            " FROM n, schedules WHERE chat_id = ?",
            (count, BASE, BASE, t),
        )
    db.close()
    check_copy(template, target, personalised=personalised)


def check_copy(template: Path, target: Path, *, personalised: bool) -> None:
    """The copied rows equal the rows the real path made, but for the chat's own ids."""
    real, copied = rows_of(template, TEMPLATE_CHAT), rows_of(target, BASE)
    own = {"chat_id", "id", "created_by"} | (
        {"include_words", "exclude_words"} if personalised else set()
    )
    for table, columns in real.items():
        for column, value in columns.items():
            if column not in own and copied[table][column] != value:
                raise AssertionError(f"{table}.{column}: {copied[table][column]!r} != {value!r}")
    assert copied["schedules"]["created_by"] == BASE


def move_slot(database: Path, slot: datetime, tz: ZoneInfo) -> None:
    """Every subscriber's digest time becomes `slot`, as /digest HH:MM would store it."""
    db = sqlite3.connect(database)
    with db:
        db.execute(
            "UPDATE schedules SET times = ?, next_fire_at = ?",
            (slot.astimezone(tz).strftime("%H:%M"), int(slot.timestamp())),
        )
    db.close()


# Measurements


@dataclass
class Startup:
    subscribers: int
    first_answer_s: float
    rss_mb: float


async def measure_startup(folder: Path, database: Path, count: int) -> Startup:
    async with BotApiEmulator(TOKEN, auto_create_chats=True, keep_messages=False) as emulator:  # noqa: SIM117
        async with Bot(write_config(folder, database, paid=True), emulator) as bot:
            await emulator.send_text(PROBE_BASE - 1, "/start")  # sent at launch
            await answered(emulator, PROBE_BASE - 1, 0, timeout=1800)
            first = time.monotonic() - bot.started
            rss = bot.memory_mb()
    return Startup(count, first, rss)


@dataclass
class Slot:
    subscribers: int
    personalised: bool
    compose_s: float
    first_message_s: float
    delivery_s: float
    delivered: int
    probe_p50_ms: float
    probe_p99_ms: float
    probe_max_ms: float
    rss_max_mb: float
    hwm_mb: float
    most_in_1s: int
    refused: int  # 429 answers

    @property
    def compose_rate(self) -> float:
        return self.subscribers / self.compose_s

    @property
    def delivery_rate(self) -> float:
        return (self.delivered - 1) / self.delivery_s


class _Expected:
    """Digests to wait for: every subscriber's until all are claimed, then the rows queued
    (an empty digest is skipped). Final once nothing is due: a claim queues its rows in the
    same transaction, so the database is not asked again (it cost the stand-in's process 5 %
    of its CPU, asked four times a second)."""

    def __init__(self, database: Path, slot: datetime, count: int) -> None:
        self._database, self._slot, self._count = database, slot, count
        self._final: int | None = None

    def __call__(self) -> int:
        if self._final is not None:
            return self._final
        db = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True)
        try:
            (due,) = db.execute(
                "SELECT count(*) FROM schedules WHERE next_fire_at <= ?",
                (int(self._slot.timestamp()),),
            ).fetchone()
            if due:
                return self._count
            (self._final,) = db.execute(
                "SELECT count(*) FROM outbox WHERE kind = 'digest' AND chat_id >= ?", (BASE,)
            ).fetchone()
            return self._final
        finally:
            db.close()


class Digests:
    """The digests the emulator accepted for the subscribers (arrival times) and the sends
    it refused with 429, counted as they arrive."""

    def __init__(self, count: int) -> None:
        self._chats = range(BASE, BASE + count)
        self.accepted: list[float] = []
        self.refused = 0

    def __call__(self, call: ApiCall) -> None:
        if call.method != "sendMessage":
            return
        if call.status == 429:
            self.refused += 1
        elif call.is_ok and int(call.params["chat_id"]) in self._chats:
            self.accepted.append(call.at)

    def most_in_one_second(self) -> int:
        at = self.accepted
        return max((bisect_right(at, t + 1.0) - i for i, t in enumerate(at)), default=0)


async def measure_slot(folder: Path, template: Path, count: int, *, personalised: bool) -> Slot:
    database = folder / f"slot-{count}-{int(personalised)}.sqlite3"
    populate(template, database, count, personalised=personalised)
    tz = ZoneInfo("Africa/Casablanca")
    slot = (datetime.now(UTC) + timedelta(seconds=75)).replace(second=0, microsecond=0)
    move_slot(database, slot, tz)
    digests = Digests(count)
    async with BotApiEmulator(
        TOKEN, auto_create_chats=True, keep_messages=False, max_logged_requests=1_000
    ) as emulator:
        emulator.delay = ROUND_TRIP
        emulator.api.flood = FloodLimiter(overall_per_second=PAID_RATE)
        emulator.enforce_flood_limits = True
        emulator.on_call(digests)
        with steady_emulator():
            async with Bot(write_config(folder, database, paid=True), emulator) as bot:
                await ask(emulator, PROBE_BASE - 1, "/start", timeout=120)
                await asyncio.sleep(max((slot - datetime.now(UTC)).total_seconds(), 0))
                at_slot = time.monotonic()
                rss_max, probes = 0.0, []
                expected = _Expected(database, slot, count)
                while (done := len(digests.accepted)) < expected():
                    if len(probes) < PROBES:
                        probes.append(await ask(emulator, PROBE_BASE + len(probes), "/start", 60))
                    rss_max = max(rss_max, bot.memory_mb())
                    await asyncio.sleep(0.25)
                    if time.monotonic() - at_slot > 1800:
                        raise TimeoutError(f"{done:,} of {count:,} digests after 30 minutes")
                hwm = bot.memory_mb("VmHWM")
    accepted = digests.accepted
    first, delivery = accepted[0] - at_slot, accepted[-1] - accepted[0]
    compose = _compose_seconds(database, slot)
    probes_ms = sorted(p * 1000 for p in probes)
    return Slot(
        count, personalised, compose, first, delivery, len(accepted),
        statistics.median(probes_ms), probes_ms[int(len(probes_ms) * 0.99) - 1],
        probes_ms[-1], rss_max, hwm, digests.most_in_one_second(), digests.refused,
    )  # fmt: skip


def _compose_seconds(database: Path, slot: datetime) -> float:
    """From the slot to the last digest row queued (rows carry the time they were queued)."""
    db = sqlite3.connect(database)
    try:
        (last,) = db.execute("SELECT max(created_at) FROM outbox WHERE kind = 'digest'").fetchone()
    finally:
        db.close()
    return last - slot.timestamp()


# Report


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]},"
        f" SQLite {sqlite3.sqlite_version}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def report(startups: list[Startup], slots: list[Slot]) -> str:
    lines = [
        f"Machine: {machine()}. Bot API stand-in answering after {ROUND_TRIP * 1000:.0f} ms."
        f" Shipped config, `[delivery] own_process = {str(not ONE_PROCESS).lower()}`"
        " (RSS: the bot and its sending process together).",
        "",
        "### Start-up to the first answered update (`akhbar run`, a /start sent at launch)",
        "",
        "| subscribers | first answer | target | RSS after |",
        "|---:|---:|---|---:|",
    ]
    for s in startups:
        target = "< 5 s" if s.subscribers == 100_000 else ""
        rss_target = " (target < 200 MB)" if s.subscribers == 1_000_000 else ""
        lines.append(
            f"| {s.subscribers:,} | {s.first_answer_s:.2f} s | {target} |"
            f" {s.rss_mb:.0f} MB{rss_target} |"
        )
    for s in slots:
        kind = "each with its own filters" if s.personalised else "default subscribers"
        compose_target = "≥ 2,000/s" if s.personalised else "≥ 20,000/s"
        lines += [
            "",
            f"### Digest slot: {s.subscribers:,} subscribers, {kind}, paid limit 1,000/s",
            "",
            "| measurement | measured | target |",
            "|---|---:|---|",
            f"| compose and queue (slot → last outbox row) | {s.compose_s:.1f} s,"
            f" **{s.compose_rate:,.0f} digests/s** | {compose_target} |",
            f"| slot → first digest at the emulator | {s.first_message_s:.2f} s | < 2 s |",
            f"| whole delivery (first → last digest) | {s.delivery_s:.1f} s,"
            f" **{s.delivery_rate:,.0f} msg/s** | within 5 % of 100 s (1,000/s) |",
            f"| most digests accepted in any one second / 429 answers | {s.most_in_1s:,} /"
            f" {s.refused:,} | ≤ 1,000 / 0 |",
            f"| /start answered during the slot ({PROBES} updates): p50 / p99 / max |"
            f" {s.probe_p50_ms:.0f} / {s.probe_p99_ms:.0f} / {s.probe_max_ms:.0f} ms |"
            " p99 < 1 s |",
            f"| bot RSS during the slot: max sampled / VmHWM | {s.rss_max_mb:.0f} /"
            f" {s.hwm_mb:.0f} MB | |",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 / 5,000 subscribers")
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--slot", type=int, default=100_000)
    parser.add_argument("--personalised-slot", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "scale_results.md")
    parser.add_argument(
        "--one-process", action="store_true", help="[delivery] own_process = false (comparison)"
    )
    args = parser.parse_args()
    global ONE_PROCESS
    ONE_PROCESS = args.one_process
    sizes = [1_000, 5_000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    slot_size = 5_000 if args.quick else args.slot
    personalised_size = slot_size if args.personalised_slot is None else args.personalised_slot
    startups, slots = [], []
    with tempfile.TemporaryDirectory(prefix="akhbar-scale-") as name:
        folder = Path(name)
        print("template subscriber through /start and /subscribe…", flush=True)
        template, _ = template_database(folder)
        for size in sizes:
            database = folder / f"startup-{size}.sqlite3"
            populate(template, database, size, personalised=False)
            startup = asyncio.run(measure_startup(folder, database, size))
            print(f"start-up at {size:,}: {startup}", flush=True)
            startups.append(startup)
            database.unlink()
        for size, personalised in ((slot_size, False), (personalised_size, True)):
            if size:
                result = asyncio.run(
                    measure_slot(folder, template, size, personalised=personalised)
                )
                print(f"slot: {result}", flush=True)
                slots.append(result)
    text = report(startups, slots)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
