"""Right-to-left layout of Arabic messages that hold Latin commands, names and numbers.

Telegram's clients pick each paragraph's direction from its first strong character, so an
Arabic line that begins with `/latest` is laid out left to right, and a `/` between Arabic and
Latin letters drifts to the wrong side of its command. Two invisible marks fix both while
leaving commands tappable (Telegram finds a `/command` after any character that is not a letter,
digit, `/`, `<` or `>`; the marks are format characters):

- LEFT-TO-RIGHT MARK (U+200E) before each embedded command, so its slash stays on its left;
- RIGHT-TO-LEFT MARK (U+200F) at the start of a line whose first strong character is not
  Arabic, so the line is a right-to-left paragraph.

Marks, not the isolates FSI/LRI…PDI: every Telegram client renders marks invisibly and
detects direction from them, while isolates are skipped by clients that scan for the first
strong character themselves. See docs/ARABIC.md.
"""

from __future__ import annotations

import re
import unicodedata

LRM = "\u200e"
RLM = "\u200f"
_COMMAND = re.compile(r"(?<![\w/<>\u200e])/(?=[A-Za-z])")


def right_to_left(text: str) -> str:
    """Arabic text with the marks that keep it right to left around Latin and commands."""
    text = _COMMAND.sub(LRM + "/", text)
    return "\n".join(_rtl_line(line) for line in text.split("\n"))


def command(text: str) -> str:
    """A `/command` embedded in right-to-left text: the mark keeps its slash on its left."""
    return LRM + text


def _rtl_line(line: str) -> str:
    direction = first_strong_direction(line)
    return line if direction in (None, "R") else RLM + line


def first_strong_direction(text: str) -> str | None:
    """ "R" or "L" for the first strong character of `text`, None when it has none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L":
            return "L"
    return None
