"""The counter's rules, checked against a plain Python model on random sequences of actions.

The model: an image is hidden when a counted report brings the weighted reports of distinct,
non-ignored people in its current epoch to the chat's threshold, outside the cool-down; a
restore starts a new epoch. Each person counts once per epoch, and `just_hidden` fires at most
once per epoch. It runs on both backends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.moderation.service import ModerationService, ModerationSettings, ReportStatus
from bot.reading import search_text
from storage import database, postgres
from tests.support.clock import FakeClock

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
OPERATOR = 100
USERS = (1, 2, 3)
IMAGES = 2
PLAIN_CHAT, STRICT_CHAT = -1, -2
SETTINGS = ModerationSettings(
    threshold=3,
    admin_weight=2,
    cooldown=timedelta(hours=1),
    operator_ids=frozenset({OPERATOR}),
)
# A tight limit exercises the rate limit; a loose one lets reports reach the cool-down rules.
RATE_LIMITS = (2, 50)
THRESHOLDS = {PLAIN_CHAT: 3, STRICT_CHAT: 2}

reports = st.tuples(
    st.just("report"),
    st.sampled_from(USERS),
    st.integers(0, IMAGES - 1),
    st.sampled_from([PLAIN_CHAT, STRICT_CHAT]),
    st.booleans(),
)
# Reports are what the rules are about: half of all actions.
actions = st.one_of(
    reports,
    st.one_of(
        st.tuples(st.just("unhide"), st.integers(0, IMAGES - 1)),
        st.tuples(st.sampled_from(["ignore", "unignore"]), st.sampled_from(USERS)),
        st.tuples(st.just("advance"), st.sampled_from([1, 20, 45, 61])),
    ),
)


@dataclass
class ModelImage:
    hidden: bool = False
    epoch: int = 0
    cooldown_until: datetime | None = None
    weights: dict[int, int] = field(default_factory=dict)  # reporter -> weight, this epoch


@dataclass
class Model:
    rate_limit: int
    now: datetime = START
    images: list[ModelImage] = field(default_factory=lambda: [ModelImage() for _ in range(IMAGES)])
    ignored: set[int] = field(default_factory=set)
    stored_at: list[tuple[int, datetime]] = field(default_factory=list)  # (reporter, when)

    def weight(self, image: ModelImage) -> int:
        return sum(w for user, w in image.weights.items() if user not in self.ignored)

    def refusal(self, user: int, image: ModelImage) -> ReportStatus | None:
        recent = sum(1 for who, at in self.stored_at if who == user and at > self.now - _HOUR)
        if image.hidden:
            return ReportStatus.ALREADY_HIDDEN
        if user in self.ignored:
            return ReportStatus.IGNORED_REPORTER
        if user in image.weights:
            return ReportStatus.ALREADY_REPORTED
        if recent >= self.rate_limit:
            return ReportStatus.RATE_LIMITED
        return None

    def report(self, user: int, index: int, chat: int, is_admin: bool):
        image = self.images[index]
        refused = self.refusal(user, image)
        if refused is not None:
            return refused, self.weight(image), False
        image.weights[user] = SETTINGS.admin_weight if is_admin else 1
        self.stored_at.append((user, self.now))
        count = self.weight(image)
        cooling = image.cooldown_until is not None and self.now < image.cooldown_until
        image.hidden = count >= THRESHOLDS[chat] and not cooling
        return ReportStatus.COUNTED, count, image.hidden

    def unhide(self, index: int) -> bool:
        image = self.images[index]
        if not image.hidden:
            return False
        self.images[index] = ModelImage(
            epoch=image.epoch + 1, cooldown_until=self.now + SETTINGS.cooldown
        )
        return True


_HOUR = timedelta(hours=1)


async def _run(location, rate_limit: int, steps) -> None:
    db = await database.connect(location, index_terms=search_text.index_text)
    try:
        await _forget_everything(db)
        await _check(db, rate_limit, steps)
    finally:
        await db.close()


async def _forget_everything(db) -> None:
    """Start each example from an empty moderation state (the database outlives examples)."""
    # Keys, reports, article links and shown messages go with their images (ON DELETE CASCADE).
    for table in ("images", "ignored_reporters", "chat_thresholds", "audit_log"):
        await db.execute(f"DELETE FROM {table}")
    await db.commit()


async def _check(db, rate_limit: int, steps) -> None:
    clock, model = FakeClock(START), Model(rate_limit)
    settings = replace(SETTINGS, rate_limit_per_hour=rate_limit)
    service = ModerationService(db, settings=settings, clock=clock)
    await service.set_chat_threshold(STRICT_CHAT, THRESHOLDS[STRICT_CHAT], actor_id=OPERATOR)
    ids = [await service.register_telegram_photo([f"img{n}"], phash=None) for n in range(IMAGES)]
    fired: Counter[tuple[int, int]] = Counter()
    for step in steps:
        kind, *args = step
        if kind == "report":
            user, index, chat, is_admin = args
            epoch = model.images[index].epoch
            expected = model.report(user, index, chat, is_admin)
            outcome = await service.report(
                ids[index], reporter_id=user, chat_id=chat, is_admin=is_admin
            )
            assert (outcome.status, outcome.count, outcome.just_hidden) == expected, step
            fired[index, epoch] += outcome.just_hidden
        elif kind == "unhide":
            assert await service.unhide(ids[args[0]], actor_id=OPERATOR) == model.unhide(args[0])
        elif kind == "ignore":
            await service.ignore_reporter(args[0], actor_id=OPERATOR)
            model.ignored.add(args[0])
        elif kind == "unignore":
            await service.unignore_reporter(args[0], actor_id=OPERATOR)
            model.ignored.discard(args[0])
        else:
            clock.now = model.now = model.now + timedelta(minutes=args[0])
        for index, image_id in enumerate(ids):
            assert await service.is_hidden(image_id) == model.images[index].hidden, step
    assert all(times <= 1 for times in fired.values())
    await _check_one_report_per_person_and_epoch(db)


async def _check_one_report_per_person_and_epoch(db) -> None:
    rows = await db.execute_fetchall(
        "SELECT image_id, epoch, reporter_id FROM reports"
        " GROUP BY image_id, epoch, reporter_id HAVING count(*) > 1"
    )
    assert list(rows) == []


# Each example is a few hundred statements: a PostgreSQL round trip costs more than SQLite's,
# so fewer examples there keep CI fast; the rules are the same, SQLite explores them widely.
EXAMPLES = {"sqlite": 60, "postgresql": 25}


def test_the_counter_follows_its_rules(db_path):
    backend = "postgresql" if postgres.is_url(str(db_path)) else "sqlite"

    # One database for the test, emptied per example: @given inside, so hypothesis never
    # sees the function-scoped fixture.
    @settings(max_examples=EXAMPLES[backend], deadline=None)
    @given(st.sampled_from(RATE_LIMITS), st.lists(actions, min_size=30, max_size=60))
    def counter_follows_its_rules(rate_limit, steps):
        asyncio.run(_run(db_path, rate_limit, steps))

    counter_follows_its_rules()
