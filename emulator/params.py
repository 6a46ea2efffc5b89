"""Typed access to request parameters that arrive as JSON values or as form strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file sent in a multipart request."""

    filename: str
    content_type: str
    data: bytes


_TRUE = frozenset({"true", "1", "True"})


class Params:
    """Request parameters; form values are strings, so each getter converts."""

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """Return an integer parameter, or `default` when absent."""
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def required_int(self, name: str, missing: str) -> int:
        """Return an integer parameter or fail with Telegram's `missing` reason."""
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing)
        return value

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """Return a string parameter, or `default` when absent."""
        value = self.raw.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def get_float(self, name: str, default: float = 0.0) -> float:
        """Return a number parameter, or `default` when absent."""
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        """Return a boolean parameter (False when absent)."""
        value = self.raw.get(name)
        if isinstance(value, str):
            return value in _TRUE
        return bool(value)

    def get_json(self, name: str) -> Any:
        """Return a structured parameter, decoding it when it came as a form string."""
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_ref(self, name: str = "chat_id") -> int | str:
        """Return a chat id as int, or an "@username" string."""
        value = self.raw.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def file(self, name: str) -> UploadedFile | str | None:
        """Return an uploaded file or a file reference string (URL, file_id, attach://)."""
        value = self.raw.get(name)
        if value is None or isinstance(value, UploadedFile):
            return value
        return str(value)
