"""The size limits every ingested article is held to, whatever it came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.models import ArticleDraft

__all__ = ["ELLIPSIS", "shorten", "within_limits"]

ELLIPSIS = "…"
# A cut at the last space keeps whole words, unless that space is this far back or more.
_MAX_WORD_BACKTRACK = 40


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start ending in an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ", len(head) - _MAX_WORD_BACKTRACK)
    return (head[:space] if space > 0 else head).rstrip() + ELLIPSIS


def within_limits(
    drafts: Sequence[ArticleDraft], *, max_title_chars: int, max_body_chars: int
) -> tuple[list[ArticleDraft], int]:
    """The drafts with titles and bodies shortened to the limits, and how many were shortened."""
    bounded, shortened = [], 0
    for draft in drafts:
        title = shorten(draft.title, max_title_chars)
        body = None if draft.body is None else shorten(draft.body, max_body_chars)
        if title is not draft.title or body is not draft.body:
            draft = replace(draft, title=title, body=body)
            shortened += 1
        bounded.append(draft)
    return bounded, shortened
