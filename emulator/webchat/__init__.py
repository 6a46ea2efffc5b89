"""The emulator's web chat: a Telegram-like page to talk to a bot through the emulator."""

from .actions import ActionRefused, PersonActions
from .server import LOOPBACK, WebChat

__all__ = ["LOOPBACK", "ActionRefused", "PersonActions", "WebChat"]
