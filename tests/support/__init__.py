"""Fakes, fixtures' building blocks and helpers shared by the tests (never a test module)."""

from datetime import UTC, datetime

TOKEN = "123456:TEST-secret-token"
NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
