"""Image reports: counting distinct reporters, hiding at the threshold, image identity."""

from bot.moderation.hiding import ImageHiding
from bot.moderation.service import ModerationService, ModerationSettings, ReportStatus

__all__ = ["ImageHiding", "ModerationService", "ModerationSettings", "ReportStatus"]
