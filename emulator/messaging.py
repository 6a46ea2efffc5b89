"""Bot API methods that create, change or delete messages, and answer button presses."""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .params import Params
from .records import CallbackAnswer
from .state import ChatRecord, EmulatorState, MessageRecord
from .validation import (
    check_callback_answer,
    check_caption,
    check_message_text,
    check_reply_markup,
    normalise_parse_mode,
    parse_text,
)

DELETE_WINDOW_SECONDS = 48 * 3600
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def send_message(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """sendMessage: validate text and keyboard, store and return the Message."""
    parse_mode = normalise_parse_mode(p.get_str("parse_mode"))
    raw_text = p.get_str("text") or ""
    parsed = parse_text(raw_text, parse_mode, p.get_json("entities"))
    check_message_text(parsed)
    markup = check_reply_markup(p.get_json("reply_markup"))
    payload = state.new_message(
        chat,
        _sender(state, chat),
        message_thread_id=p.get_int("message_thread_id"),
        reply_to_message=_reply_target(state, chat, p),
        text=parsed.text,
        entities=list(parsed.entities) or None,
        reply_markup=_inline_only(markup),
    )
    record = MessageRecord(payload, from_bot=True, raw_text=raw_text, parse_mode=parse_mode)
    state.store(chat, record)
    return payload


def send_photo(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """sendPhoto: accept a URL, a known file_id or an upload; return the Message."""
    source = p.file("photo")
    if source is None:
        raise bad_request("there is no photo in the request")
    parse_mode = normalise_parse_mode(p.get_str("parse_mode"))
    caption = parse_text(p.get_str("caption") or "", parse_mode, p.get_json("caption_entities"))
    check_caption(caption)
    markup = check_reply_markup(p.get_json("reply_markup"))
    described, sizes = state.files.photo(source)
    payload = state.new_message(
        chat,
        _sender(state, chat),
        message_thread_id=p.get_int("message_thread_id"),
        reply_to_message=_reply_target(state, chat, p),
        photo=list(sizes),
        caption=caption.text or None,
        caption_entities=list(caption.entities) or None,
        reply_markup=_inline_only(markup),
    )
    record = MessageRecord(
        payload,
        from_bot=True,
        raw_text=p.get_str("caption"),
        parse_mode=parse_mode,
        photo_source=described,
    )
    state.store(chat, record)
    return payload


def edit_message_text(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """editMessageText: replace text (and keyboard, which is dropped when not given)."""
    record = _editable(state, chat, p)
    if "text" not in record.payload:
        raise bad_request("there is no text in the message to edit")
    parse_mode = normalise_parse_mode(p.get_str("parse_mode"))
    raw_text = p.get_str("text") or ""
    parsed = parse_text(raw_text, parse_mode, p.get_json("entities"))
    check_message_text(parsed)
    markup = _inline_only(check_reply_markup(p.get_json("reply_markup")))
    changes = {"text": parsed.text, "entities": list(parsed.entities) or None}
    _apply_edit(state, record, changes, markup)
    record.raw_text, record.parse_mode = raw_text, parse_mode
    return record.payload


def edit_message_caption(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """editMessageCaption: replace the caption of a media message."""
    record = _editable(state, chat, p)
    if "photo" not in record.payload:
        raise bad_request("there is no caption in the message to edit")
    parse_mode = normalise_parse_mode(p.get_str("parse_mode"))
    caption = parse_text(p.get_str("caption") or "", parse_mode, p.get_json("caption_entities"))
    check_caption(caption)
    markup = _inline_only(check_reply_markup(p.get_json("reply_markup")))
    changes = {"caption": caption.text or None, "caption_entities": list(caption.entities) or None}
    _apply_edit(state, record, changes, markup)
    record.raw_text, record.parse_mode = p.get_str("caption"), parse_mode
    return record.payload


def edit_message_reply_markup(state: EmulatorState, chat: ChatRecord, p: Params) -> Any:
    """editMessageReplyMarkup: replace (or remove) the inline keyboard."""
    record = _editable(state, chat, p)
    markup = _inline_only(check_reply_markup(p.get_json("reply_markup")))
    _apply_edit(state, record, {}, markup)
    return record.payload


def edit_message_media(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """editMessageMedia: replace the photo (InputMediaPhoto JSON in `media`)."""
    record = _editable(state, chat, p)
    media = p.get_json("media")
    if not isinstance(media, dict) or media.get("type") != "photo":
        raise bad_request("can't parse InputMedia: only photos are supported by the emulator")
    reference = str(media.get("media", ""))
    source = (
        p.file(reference.removeprefix("attach://"))
        if reference.startswith("attach://")
        else reference
    )
    if source is None:
        raise bad_request("can't find attached file")
    parse_mode = normalise_parse_mode(media.get("parse_mode"))
    caption = parse_text(media.get("caption") or "", parse_mode, media.get("caption_entities"))
    check_caption(caption)
    described, sizes = state.files.photo(source)
    markup = _inline_only(check_reply_markup(p.get_json("reply_markup")))
    changes = {
        "photo": list(sizes),
        "caption": caption.text or None,
        "caption_entities": list(caption.entities) or None,
    }
    changes.update({"text": None, "entities": None})
    _apply_edit(state, record, changes, markup)
    record.photo_source, record.raw_text, record.parse_mode = (
        described,
        media.get("caption"),
        parse_mode,
    )
    return record.payload


def delete_message(state: EmulatorState, chat: ChatRecord, p: Params) -> bool:
    """deleteMessage: flag the message deleted, refusing messages older than 48 hours."""
    message_id = p.required_int("message_id", "message identifier is not specified")
    _delete(state, chat, message_id)
    return True


def delete_messages(state: EmulatorState, chat: ChatRecord, p: Params) -> bool:
    """deleteMessages: delete each listed message that can be deleted."""
    for message_id in p.get_json("message_ids") or ():
        record = state.message(chat, int(message_id))
        if record is not None and _may_delete(state, chat, record):
            record.is_deleted = True
    return True


def answer_callback_query(state: EmulatorState, p: Params) -> bool:
    """answerCallbackQuery: remember the answer; a query can be answered once."""
    query_id = p.get_str("callback_query_id") or ""
    if query_id not in state.callback_queries or query_id in state.callback_answers:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get_str("text")
    check_callback_answer(text)
    state.callback_answers[query_id] = CallbackAnswer(
        query_id=query_id,
        text=text,
        show_alert=p.get_bool("show_alert"),
        url=p.get_str("url"),
        cache_time=p.get_int("cache_time", 0) or 0,
    )
    return True


def _sender(state: EmulatorState, chat: ChatRecord) -> dict[str, Any] | None:
    return None if chat.type == "channel" else state.bot_json


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _reply_target(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any] | None:
    parameters = p.get_json("reply_parameters") or {}
    message_id = parameters.get("message_id") or p.get_int("reply_to_message_id")
    if not message_id:
        return None
    target = state.message(chat, int(message_id))
    if target is not None:
        return {k: v for k, v in target.payload.items() if k != "reply_to_message"}
    allow = parameters.get("allow_sending_without_reply") or p.get_bool(
        "allow_sending_without_reply"
    )
    if allow or not state.keep_messages:
        return None
    raise bad_request("message to be replied not found")


def _editable(state: EmulatorState, chat: ChatRecord, p: Params) -> MessageRecord:
    if "inline_message_id" in p:
        raise bad_request("inline messages are not supported by the emulator")
    message_id = p.required_int("message_id", "message identifier is not specified")
    record = state.message(chat, message_id)
    if record is None:
        raise bad_request("message to edit not found")
    if not record.from_bot:
        raise bad_request("message can't be edited")
    return record


def _apply_edit(
    state: EmulatorState,
    record: MessageRecord,
    changes: dict[str, Any],
    markup: dict[str, Any] | None,
) -> None:
    payload = record.payload
    changes = {**changes, "reply_markup": markup}
    if all(payload.get(key) == value for key, value in changes.items()):
        raise bad_request(_NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    payload["edit_date"] = state.now()
    record.is_edited = True


def _delete(state: EmulatorState, chat: ChatRecord, message_id: int) -> None:
    record = state.message(chat, message_id)
    if record is None:
        raise bad_request("message to delete not found")
    if not _may_delete(state, chat, record):
        raise bad_request("message can't be deleted")
    record.is_deleted = True


def _may_delete(state: EmulatorState, chat: ChatRecord, record: MessageRecord) -> bool:
    bot_member = chat.members.get(state.bot.id)
    is_admin = bot_member is not None and bot_member.status == "administrator"
    can_delete_any = is_admin and bot_member.rights.get("can_delete_messages", False)
    if chat.type in ("supergroup", "channel") and can_delete_any:
        return True
    if not record.from_bot and chat.type != "private" and not can_delete_any:
        return False
    return state.now() - record.date <= DELETE_WINDOW_SECONDS
