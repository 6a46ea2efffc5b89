"""A local Telegram Bot API emulator for end-to-end tests, benchmarks and the sandbox chat."""

from .emulator import BotApiEmulator
from .errors import ApiError
from .params import UploadedFile
from .records import ApiCall, Button, CallbackAnswer, CommandScope, InlineAnswer, SentMessage

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "Button",
    "CallbackAnswer",
    "CommandScope",
    "InlineAnswer",
    "SentMessage",
    "UploadedFile",
]
