"""Requests in flight follow the rate and the observed round trip, not a fixed number."""

from __future__ import annotations

import pytest

from bot.delivery.pacing import InFlightLimit


@pytest.mark.parametrize(
    ("rate", "round_trip", "ceiling", "at_least", "at_most"),
    [
        (1000, 0.05, 256, 50, 80),  # paid broadcasts at 50 ms: 32 would cap them at 640/s
        (1000, 0.10, 256, 100, 160),
        (30, 0.05, 256, 4, 4),  # the free rate needs few
        (1000, 0.5, 256, 256, 256),  # never above the configured ceiling
        (1000, 0.05, 2, 2, 2),
    ],
)
def test_the_limit_holds_the_rate_at_the_observed_round_trip_with_headroom(
    rate, round_trip, ceiling, at_least, at_most
):
    limit = InFlightLimit(rate, ceiling=ceiling)
    for _ in range(200):
        limit.observe(round_trip)
    assert at_least <= limit.value <= at_most
    assert limit.value >= min(ceiling, rate * round_trip)


def test_a_slow_answer_raises_the_limit_at_once_and_fast_ones_lower_it_gradually():
    limit = InFlightLimit(1000, ceiling=512, first_round_trip=0.05)
    before = limit.value
    limit.observe(0.2)
    raised = limit.value
    assert raised > before * 2
    limit.observe(0.05)
    assert before < limit.value < raised
