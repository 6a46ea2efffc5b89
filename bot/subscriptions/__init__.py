"""Subscriptions, schedule rules, digests and instant pushes."""

from bot.subscriptions.digests import Digest, DigestService
from bot.subscriptions.instant import InstantService
from bot.subscriptions.schedules import ScheduleService
from bot.subscriptions.service import SubscriptionService

__all__ = [
    "Digest",
    "DigestService",
    "InstantService",
    "ScheduleService",
    "SubscriptionService",
]
