"""Telegram's HTML parse mode: turns marked-up text into plain text plus MessageEntity dicts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z][a-zA-Z0-9]*);")
_START_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTRIBUTE = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's reason."""


@dataclass(frozen=True, slots=True)
class ParsedText:
    """Plain text as Telegram stores it, with entities in UTF-16 offsets."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()

    @property
    def length(self) -> int:
        """Return the length Telegram's limits count: UTF-16 code units."""
        return utf16_len(self.text)


@dataclass(slots=True)
class _OpenTag:
    name: str
    offset: int
    entity: dict[str, Any] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Return the length of `text` in UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML into text and entities, or raise HtmlError."""
    if "<" not in source and "&" not in source:
        return ParsedText(source)
    parser = _Parser(source)
    return parser.run()


class _Parser:
    """One pass over the source; entities are emitted when their tag closes."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def run(self) -> ParsedText:
        source, pos = self.source, 0
        while True:
            match = _SPECIAL.search(source, pos)
            end = match.start() if match else len(source)
            self._emit(source[pos:end])
            if match is None:
                break
            if source[end] == "&":
                pos = self._entity(end)
            elif source.startswith("</", end):
                pos = self._end_tag(end)
            else:
                pos = self._start_tag(end)
        if self.stack:
            name = self.stack[-1].name
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), tuple(self.entities))

    def _emit(self, chunk: str) -> None:
        if chunk:
            self.out.append(chunk)
            self.offset += utf16_len(chunk)

    def _byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def _entity(self, index: int) -> int:
        match = _ENTITY.match(self.source, index)
        char = _decode_entity(match.group(1)) if match else None
        if match is None or char is None:
            raise HtmlError(f"Unsupported HTML entity at byte offset {self._byte_offset(index)}")
        self._emit(char)
        return match.end()

    def _start_tag(self, index: int) -> int:
        match = _START_TAG.match(self.source, index)
        at = self._byte_offset(index)
        if match is None:
            name = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)", self.source[index:])
            if name is None:
                raise HtmlError(f'Unsupported start tag "" at byte offset {at}')
            raise HtmlError(f"Unclosed start tag at byte offset {at}")
        name = match.group(1).lower()
        if name not in _SIMPLE_TYPES:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at}')
        attributes = _attributes(match.group(2))
        self.stack.append(_OpenTag(name, self.offset, _entity_for(name, attributes)))
        return match.end()

    def _end_tag(self, index: int) -> int:
        match = _END_TAG.match(self.source, index)
        at = self._byte_offset(index)
        if match is None:
            raise HtmlError(f"Unclosed end tag at byte offset {at}")
        name = match.group(1).lower()
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {at}")
        opened = self.stack.pop()
        if opened.name != name:
            raise HtmlError(
                f'Unmatched end tag at byte offset {at}, expected "</{opened.name}>", '
                f'found "</{name}>"'
            )
        self._close(opened)
        return match.end()

    def _close(self, opened: _OpenTag) -> None:
        parent = self.stack[-1] if self.stack else None
        language = opened.entity.pop("language", None)
        if opened.name == "code" and parent is not None and parent.name == "pre":
            if language:
                parent.entity["language"] = language
            return
        if opened.entity.get("type") is None:
            return
        length = self.offset - opened.offset
        if length > 0:
            self.entities.append({**opened.entity, "offset": opened.offset, "length": length})


def _decode_entity(body: str) -> str | None:
    if not body.startswith("#"):
        return _NAMED_ENTITIES.get(body)
    digits = body[1:]
    code = int(digits[1:], 16) if digits[:1] in "xX" and digits else int(digits)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _attributes(raw: str) -> dict[str, str]:
    attributes = {}
    for match in _ATTRIBUTE.finditer(raw):
        value = next((v for v in match.group(2, 3, 4) if v is not None), "")
        attributes[match.group(1).lower()] = _unescape_attribute(value)
    return attributes


def _unescape_attribute(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return _decode_entity(match.group(1)) or match.group(0)

    return _ENTITY.sub(replace, value)


def _entity_for(name: str, attributes: dict[str, str]) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _SIMPLE_TYPES[name]}
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise HtmlError('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        href = attributes.get("href")
        if not href:
            return {"type": None}
        entity["url"] = href
    elif name == "tg-emoji":
        emoji_id = attributes.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise HtmlError("Custom emoji identifier must be non-empty")
        entity["custom_emoji_id"] = emoji_id
    elif name == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and attributes.get("class", "").startswith("language-"):
        entity["language"] = attributes["class"].removeprefix("language-")
    return entity
