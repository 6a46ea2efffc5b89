"""What the web chat page shows: chats, messages and people as plain JSON for one person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import CommandScope
from ..state import ChatRecord, EmulatorState, MessageRecord, UserRecord

_PRESENT = ("creator", "administrator", "member")
_ADMINS = ("creator", "administrator")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request Telegram would have refused, placed after the message it followed."""

    chat_id: int | None
    after_message_id: int
    thread_id: int | None
    method: str
    description: str
    text: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "after": self.after_message_id,
            "thread_id": self.thread_id,
            "method": self.method,
            "description": self.description,
            "text": self.text,
        }


def person_json(user: UserRecord, role: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": " ".join(filter(None, (user.first_name, user.last_name))),
        "username": user.username,
        "language_code": user.language_code or "",
        "role": role,
    }


def visible_chats(state: EmulatorState, person: UserRecord) -> list[ChatRecord]:
    """The person's private chat with the bot, then the groups and channels they are in."""
    private = state.chats.get(person.id)
    shared = [
        chat
        for chat in state.chats.values()
        if chat.type != "private"
        and chat.migrated_to is None
        and (member := chat.members.get(person.id)) is not None
        and member.status in _PRESENT
    ]
    return ([private] if private else []) + shared


def chat_json(state: EmulatorState, chat: ChatRecord, person: UserRecord) -> dict[str, Any]:
    member = chat.members.get(person.id)
    status = member.status if member else "left"
    live = [r for r in chat.messages.values() if not r.is_deleted and _is_shown(r)]
    last = live[-1] if live else None
    return {
        "id": chat.id,
        "type": chat.type,
        "title": state.bot.first_name if chat.type == "private" else chat.title,
        "is_forum": chat.is_forum,
        "topics": topics(chat),
        "status": status,
        "can_write": chat.type != "channel" or status in _ADMINS,
        "last": _snippet(last) if last else "",
        "last_date": last.date if last else 0,
        "last_message_id": chat.last_message_id,
    }


def topics(chat: ChatRecord) -> list[dict[str, Any]]:
    """A forum's topics, from their forum_topic_created service messages."""
    return [
        {"id": record.message_id, "name": record.payload["forum_topic_created"]["name"]}
        for record in chat.messages.values()
        if "forum_topic_created" in record.payload
    ]


def commands_for(state: EmulatorState, language_code: str) -> list[list[str]]:
    """The command menu a client in this language shows (falls back to the default list)."""
    for code in (language_code, ""):
        stored = state.commands.get(CommandScope("default", None, None, code))
        if stored:
            return [[command, description] for command, description in stored]
    return []


def message_json(chat: ChatRecord, record: MessageRecord, person_id: int) -> dict[str, Any]:
    payload = record.payload
    sender = payload.get("from")
    photo = payload.get("photo")
    reply = payload.get("reply_to_message")
    origin = payload.get("forward_origin")
    return {
        "id": payload["message_id"],
        "date": payload["date"],
        "thread_id": payload.get("message_thread_id"),
        "from": _sender(payload),
        "outgoing": bool(sender) and sender.get("id") == person_id and not record.from_bot,
        "from_bot": record.from_bot,
        "text": payload.get("text"),
        "entities": payload.get("entities") or [],
        "caption": payload.get("caption"),
        "caption_entities": payload.get("caption_entities") or [],
        "photo": _photo(photo) if photo else None,
        "buttons": _buttons(payload.get("reply_markup")),
        "edited": record.is_edited or "edit_date" in payload,
        "version": payload.get("edit_date", 0),
        "reply_to": _reply(chat, reply) if reply else None,
        "forwarded_from": _origin_name(origin) if origin else None,
    }


def _is_shown(record: MessageRecord) -> bool:
    return "forum_topic_created" not in record.payload


def _sender(payload: dict[str, Any]) -> dict[str, Any] | None:
    if "sender_chat" in payload:
        chat = payload["sender_chat"]
        return {"id": chat["id"], "name": chat.get("title", ""), "is_bot": False}
    sender = payload.get("from")
    if sender is None:
        return None
    return {"id": sender["id"], "name": sender.get("first_name", ""), "is_bot": sender["is_bot"]}


def _photo(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    largest = max(sizes, key=lambda size: size.get("width", 0))
    return {"file_id": largest["file_id"], "width": largest["width"], "height": largest["height"]}


def _buttons(markup: dict[str, Any] | None) -> list[list[dict[str, str]]]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [[_button(button) for button in row] for row in rows]


def _button(button: dict[str, Any]) -> dict[str, str]:
    if "url" in button:
        return {"text": button["text"], "kind": "url", "value": button["url"]}
    if "callback_data" in button:
        return {"text": button["text"], "kind": "callback", "value": button["callback_data"]}
    return {"text": button["text"], "kind": "other", "value": ""}


def _reply(chat: ChatRecord, payload: dict[str, Any]) -> dict[str, Any]:
    sender = _sender(payload)
    target = chat.messages.get(payload["message_id"])
    text = payload.get("text") or payload.get("caption") or ("🖼" if "photo" in payload else "")
    return {
        "id": payload["message_id"],
        "name": sender["name"] if sender else "",
        "text": text,
        "deleted": target is not None and target.is_deleted,
    }


def _origin_name(origin: dict[str, Any]) -> str:
    if "chat" in origin:
        return origin["chat"].get("title", "")
    if "sender_user" in origin:
        return origin["sender_user"].get("first_name", "")
    return origin.get("sender_user_name", "")


def _snippet(record: MessageRecord) -> str:
    payload = record.payload
    text = payload.get("text") or payload.get("caption") or ""
    if "photo" in payload:
        text = f"🖼 {text}".strip()
    return text[:80]
