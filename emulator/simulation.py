"""What simulated users do: messages, photos, button presses, membership changes."""

from __future__ import annotations

import re
from typing import Any

from .chats import MEMBER_STATUSES, member_json
from .html_parser import utf16_len
from .params import UploadedFile
from .state import (
    CallbackQueryRecord,
    ChatRecord,
    EmulatorState,
    MemberRecord,
    MessageRecord,
    UserRecord,
)

DEFAULT_GROUP_USER_ID = 1000
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,})?")


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return bot_command entities for every /command in `text`, as Telegram marks them."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


def sender_and_chat(
    state: EmulatorState, chat_id: int, user_id: int | None, **user_fields: Any
) -> tuple[UserRecord, ChatRecord]:
    """Return the acting user and the chat, creating a private chat on first contact."""
    chat = state.chats.get(chat_id)
    if chat is None and chat_id < 0:
        raise LookupError(f"chat {chat_id} is unknown to the emulator: call add_chat first")
    default_user = chat_id if chat is None or chat.type == "private" else DEFAULT_GROUP_USER_ID
    user = state.add_user(user_id if user_id is not None else default_user, **user_fields)
    if chat is None:
        chat = state.private_chat(user)
    chat.members.setdefault(user.id, MemberRecord("member"))
    return user, chat


def user_message(
    state: EmulatorState,
    user: UserRecord,
    chat: ChatRecord,
    *,
    reply_to_message_id: int | None = None,
    message_thread_id: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    """Store a message from `user` and return its payload (not yet queued as an update)."""
    reply = chat.messages.get(reply_to_message_id) if reply_to_message_id else None
    payload = state.new_message(
        chat,
        user.to_json(),
        message_thread_id=message_thread_id,
        is_topic_message=True if message_thread_id else None,
        reply_to_message=dict(reply.payload) if reply else None,
        **content,
    )
    state.store(chat, MessageRecord(payload, from_bot=False, raw_text=content.get("text")))
    return payload


def text_content(text: str) -> dict[str, Any]:
    """Return the message fields for a text a user typed."""
    return {"text": text, "entities": command_entities(text) or None}


def photo_content(state: EmulatorState, photo: bytes | str, caption: str | None) -> dict[str, Any]:
    """Return the message fields for a photo a user sent (bytes upload or URL/file_id)."""
    source = UploadedFile("photo.jpg", "image/jpeg", photo) if isinstance(photo, bytes) else photo
    _, sizes = state.files.photo(source)
    return {"photo": list(sizes), "caption": caption}


def callback_query(
    state: EmulatorState, chat: ChatRecord, message_id: int, data: str, user: UserRecord
) -> dict[str, Any]:
    """Return a callback_query payload for pressing a button that must exist on the message."""
    record = state.message(chat, message_id)
    if record is None or not record.from_bot:
        raise LookupError(f"no bot message {message_id} in chat {chat.id}")
    rows = (record.payload.get("reply_markup") or {}).get("inline_keyboard", [])
    offered = [button.get("callback_data") for row in rows for button in row]
    if data not in offered:
        raise LookupError(f"message {message_id} has no button {data!r}; buttons: {offered}")
    query_id = state.new_callback_id()
    state.callback_queries[query_id] = CallbackQueryRecord(chat.id, message_id, user.id, data)
    return {
        "id": query_id,
        "from": user.to_json(),
        "message": record.payload,
        "chat_instance": str(abs(chat.id) * 7919),
        "data": data,
    }


def my_chat_member(
    state: EmulatorState, chat: ChatRecord, user: UserRecord, old_status: str, new_status: str
) -> dict[str, Any]:
    """Change the bot's membership and return the my_chat_member payload."""
    if new_status not in MEMBER_STATUSES or old_status not in MEMBER_STATUSES:
        raise ValueError(f"status must be one of {sorted(MEMBER_STATUSES)}")
    bot = state.bot_json
    chat.members[state.bot.id] = MemberRecord(new_status)
    return {
        "chat": chat.json,
        "from": user.to_json(),
        "date": state.now(),
        "old_chat_member": member_json(bot, MemberRecord(old_status)),
        "new_chat_member": member_json(bot, MemberRecord(new_status)),
    }


def migrate(state: EmulatorState, old: ChatRecord, new_id: int) -> ChatRecord:
    """Upgrade a group to a supergroup with `new_id`, keeping title and members."""
    new = ChatRecord(id=new_id, type="supergroup", title=old.title, username=old.username)
    new.members.update(old.members)
    state.add_chat(new)
    old.migrated_to = new_id
    return new
