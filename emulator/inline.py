"""Inline mode: queries users type after the bot's name, answerInlineQuery with Telegram's
limits, and the chosen-result feedback a bot gets when someone sends one of its results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .params import Params
from .records import InlineAnswer
from .state import EmulatorState, UserRecord
from .validation import (
    check_message_text,
    check_reply_markup,
    normalise_parse_mode,
    parse_text,
)

MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
MAX_OFFSET_BYTES = 64
MAX_QUERY_LENGTH = 256
_RESULT_TYPES = frozenset(
    {
        "article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document",
        "location", "venue", "contact", "game", "sticker",
    }
)  # fmt: skip
_URL_SCHEMES = ("http://", "https://")
_CHAT_TYPES = frozenset({"sender", "private", "group", "supergroup", "channel"})


@dataclass(frozen=True, slots=True)
class InlineQueryRecord:
    """An inline query a user typed: what the bot may answer once."""

    user_id: int
    query: str
    offset: str


def inline_query(
    state: EmulatorState, user: UserRecord, query: str, *, offset: str, chat_type: str
) -> dict[str, Any]:
    """Remember a query and return its inline_query payload (not yet queued)."""
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"Telegram cuts inline queries at {MAX_QUERY_LENGTH} characters")
    if chat_type not in _CHAT_TYPES:
        raise ValueError(f"chat_type must be one of {sorted(_CHAT_TYPES)}")
    query_id = state.new_callback_id()
    state.inline_queries[query_id] = InlineQueryRecord(user.id, query, offset)
    return {
        "id": query_id,
        "from": user.to_json(),
        "query": query,
        "offset": offset,
        "chat_type": chat_type,
    }


def chosen_inline_result(
    state: EmulatorState, user: UserRecord, result_id: str, query: str
) -> dict[str, Any]:
    """The chosen_inline_result payload for a result the bot offered this user."""
    offered = {
        rid
        for qid, answer in state.inline_answers.items()
        if state.inline_queries[qid].user_id == user.id
        for rid in answer.result_ids
    }
    if result_id not in offered:
        raise LookupError(f"result {result_id!r} was never offered to user {user.id}")
    return {"result_id": result_id, "from": user.to_json(), "query": query}


def answer_inline_query(state: EmulatorState, p: Params) -> bool:
    """answerInlineQuery: validate as Telegram does and remember the answer (once per query)."""
    query_id = p.get_str("inline_query_id") or ""
    if query_id not in state.inline_queries or query_id in state.inline_answers:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    results = p.get_json("results")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        _check_result(result, seen)
    next_offset = p.get_str("next_offset") or ""
    if len(next_offset.encode()) > MAX_OFFSET_BYTES:
        raise bad_request("NEXT_OFFSET_INVALID")
    cache_time = p.get_int("cache_time", 300)
    if cache_time is None or cache_time < 0:
        raise bad_request("CACHE_TIME_INVALID")
    state.inline_answers[query_id] = InlineAnswer(
        query_id=query_id,
        results=tuple(results),
        next_offset=next_offset,
        cache_time=cache_time,
        is_personal=p.get_bool("is_personal"),
    )
    return True


def _check_result(result: Any, seen: set[str]) -> None:
    if not isinstance(result, dict) or result.get("type") not in _RESULT_TYPES:
        raise bad_request("RESULT_TYPE_INVALID")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    check_reply_markup(result.get("reply_markup"))
    thumbnail = result.get("thumbnail_url")
    if thumbnail is not None and not str(thumbnail).lower().startswith(_URL_SCHEMES):
        raise bad_request("THUMBNAIL_URL_INVALID")
    if result["type"] == "article":
        if not isinstance(result.get("title"), str) or not result["title"].strip():
            raise bad_request("ARTICLE_TITLE_EMPTY")
        _check_content(result.get("input_message_content"))


def _check_content(content: Any) -> None:
    if not isinstance(content, dict) or not isinstance(content.get("message_text"), str):
        raise bad_request("MESSAGE_EMPTY")
    parse_mode = normalise_parse_mode(content.get("parse_mode"))
    parsed = parse_text(content["message_text"], parse_mode, content.get("entities"))
    check_message_text(parsed)
