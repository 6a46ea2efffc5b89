"""What a person does in the web chat, as Telegram would turn it into updates for the bot."""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import BotApi
from ..records import CallbackAnswer
from ..simulation import callback_query, photo_content, sender_and_chat, text_content, user_message
from ..state import ChatRecord, EmulatorState, UserRecord
from ..validation import MAX_CAPTION, MAX_TEXT

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for photos
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")
LANGUAGE_CODES = ("ar", "fr", "en")


class ActionRefused(ValueError):
    """The page asked for something a Telegram client would not let a person do."""


class PersonActions:
    """Sends, photos, button presses and forwards by one of the simulated people."""

    def __init__(self, api: BotApi) -> None:
        self.api = api
        self.state: EmulatorState = api.state

    def person(self, person_id: int) -> UserRecord:
        user = self.state.users.get(person_id)
        if user is None or user.is_bot:
            raise ActionRefused(f"unknown person {person_id}")
        return user

    def set_language(self, person_id: int, code: str) -> None:
        if code not in LANGUAGE_CODES:
            raise ActionRefused(f"language must be one of {', '.join(LANGUAGE_CODES)}")
        self.person(person_id).language_code = code

    def send_text(
        self,
        person_id: int,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise ActionRefused(f"a message holds 1 to {MAX_TEXT} characters")
        user, chat = self._writable(person_id, chat_id, thread_id)
        if reply_to is not None and self.state.message(chat, reply_to) is None:
            raise ActionRefused("the message to reply to is gone")
        payload = user_message(
            self.state,
            user,
            chat,
            reply_to_message_id=reply_to,
            **self._in_thread(chat, thread_id),
            **text_content(text),
        )
        return self._push(chat, payload)

    def send_photo(
        self,
        person_id: int,
        chat_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        if not data or len(data) > MAX_PHOTO_BYTES or not data.startswith(_IMAGE_MAGIC):
            raise ActionRefused("a photo is a JPEG, PNG, GIF or WebP image of at most 10 MB")
        caption = (caption or "").strip() or None
        if caption is not None and len(caption) > MAX_CAPTION:
            raise ActionRefused(f"a caption holds at most {MAX_CAPTION} characters")
        user, chat = self._writable(person_id, chat_id, thread_id)
        content = photo_content(self.state, data, caption)
        payload = user_message(
            self.state, user, chat, **self._in_thread(chat, thread_id), **content
        )
        return self._push(chat, payload)

    async def press(
        self,
        person_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> CallbackAnswer | None:
        """Press an inline button; return the bot's answer, or None if it gave none in time."""
        user = self.person(person_id)
        chat = self.visible(user, chat_id)
        try:
            payload = callback_query(self.state, chat, message_id, data, user)
        except LookupError as error:
            raise ActionRefused(str(error)) from None
        self.api.push_update("callback_query", payload)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while payload["id"] not in self.state.callback_answers:
            if not await self.api.messages_changed.wait(deadline - loop.time()):
                return None
        return self.state.callback_answers[payload["id"]]

    def forward_to_bot(self, person_id: int, chat_id: int, message_id: int) -> dict[str, Any]:
        """Forward a message the person can see to their private chat with the bot."""
        user = self.person(person_id)
        source = self.visible(user, chat_id)
        record = self.state.message(source, message_id)
        if record is None:
            raise ActionRefused("message to forward not found")
        original = record.payload
        content = {
            key: original[key]
            for key in ("text", "entities", "photo", "caption", "caption_entities")
            if key in original
        }
        _, private = sender_and_chat(self.state, user.id, user.id)
        payload = user_message(
            self.state, user, private, forward_origin=_origin(source, original), **content
        )
        return self._push(private, payload)

    def _writable(
        self, person_id: int, chat_id: int, thread_id: int | None
    ) -> tuple[UserRecord, ChatRecord]:
        user = self.person(person_id)
        if chat_id == user.id:
            return sender_and_chat(self.state, chat_id, user.id)
        chat = self.visible(user, chat_id)
        member = chat.members[user.id]
        if chat.type == "channel" and member.status not in ("creator", "administrator"):
            raise ActionRefused("only the channel's administrators can post")
        if thread_id is not None and not (chat.is_forum and thread_id in _topic_ids(chat)):
            raise ActionRefused("no such topic in this chat")
        return user, chat

    def visible(self, user: UserRecord, chat_id: int) -> ChatRecord:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise ActionRefused("chat not found")
        if chat.type == "private":
            if chat.id != user.id:
                raise ActionRefused("that is someone else's private chat")
            return chat
        member = chat.members.get(user.id)
        if member is None or member.status not in ("creator", "administrator", "member"):
            raise ActionRefused("the person is not a member of this chat")
        return chat

    @staticmethod
    def _in_thread(chat: ChatRecord, thread_id: int | None) -> dict[str, Any]:
        return {"message_thread_id": thread_id} if chat.is_forum and thread_id else {}

    def _push(self, chat: ChatRecord, payload: dict[str, Any]) -> dict[str, Any]:
        kind = "channel_post" if chat.type == "channel" else "message"
        self.api.push_update(kind, payload)
        return payload


def _topic_ids(chat: ChatRecord) -> set[int]:
    return {
        record.message_id
        for record in chat.messages.values()
        if "forum_topic_created" in record.payload
    }


def _origin(chat: ChatRecord, original: dict[str, Any]) -> dict[str, Any]:
    if chat.type == "channel":
        return {
            "type": "channel",
            "chat": chat.json,
            "message_id": original["message_id"],
            "date": original["date"],
        }
    sender = original.get("from") or {}
    return {"type": "user", "sender_user": sender, "date": original["date"]}
