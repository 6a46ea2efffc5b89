"""Chats, users, messages, files and pending updates: plain Python state, no I/O."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .params import UploadedFile
from .records import CallbackAnswer, CommandScope, InlineAnswer

DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
        "chat_join_request",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
    }
)
_PHOTO_SIZES = ((90, 67), (320, 240), (800, 600))


@dataclass(slots=True)
class UserRecord:
    """A Telegram user (or the bot itself)."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    last_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the Bot API User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(slots=True)
class MemberRecord:
    """A user's membership in a chat."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)


@dataclass(slots=True)
class MessageRecord:
    """A message in a chat; `payload` is its Bot API JSON, updated in place on edit."""

    payload: dict[str, Any]
    from_bot: bool
    raw_text: str | None = None
    parse_mode: str | None = None
    photo_source: str | None = None
    is_edited: bool = False
    is_deleted: bool = False

    @property
    def message_id(self) -> int:
        return self.payload["message_id"]

    @property
    def date(self) -> int:
        return self.payload["date"]


@dataclass(slots=True)
class ChatRecord:
    """A chat with its members, messages and per-chat message id counter."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    is_forum: bool = False
    migrated_to: int | None = None
    last_message_id: int = 0
    bot_message_count: int = 0
    members: dict[int, MemberRecord] = field(default_factory=dict)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    bot_message_ids: list[int] = field(default_factory=list)
    json: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.json = self._build_json()

    def _build_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.username is not None:
            data["username"] = self.username
        if self.first_name is not None:
            data["first_name"] = self.first_name
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(frozen=True, slots=True)
class CallbackQueryRecord:
    """A button press the bot has not necessarily answered yet."""

    chat_id: int
    message_id: int
    user_id: int
    data: str


class UpdateQueue:
    """Pending updates in update_id order; confirming an offset drops older ones."""

    def __init__(self) -> None:
        self._updates: deque[tuple[int, str, dict[str, Any]]] = deque()
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._updates)

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Append an update of `kind` and return it."""
        update = {"update_id": self._next_id, kind: payload}
        self._updates.append((self._next_id, kind, update))
        self._next_id += 1
        return update

    def confirm(self, offset: int | None) -> None:
        """Forget updates before `offset`; a negative offset keeps only the last -offset."""
        if offset is None:
            return
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0][0] < offset:
            self._updates.popleft()

    def clear(self) -> None:
        """Drop every pending update (update ids keep increasing)."""
        self._updates.clear()

    def pending(self, limit: int, allowed: frozenset[str]) -> list[dict[str, Any]]:
        """Return up to `limit` pending updates whose type is allowed."""
        result = []
        for _, kind, update in self._updates:
            if kind in allowed:
                result.append(update)
                if len(result) >= limit:
                    break
        return result


class FileStore:
    """Photos by stable key (URL, upload hash or file_id) and their PhotoSize file ids."""

    def __init__(self) -> None:
        self._photos: dict[str, tuple[dict[str, Any], ...]] = {}
        self._key_by_file_id: dict[str, str] = {}
        self._data: dict[str, bytes] = {}
        self.url_data: dict[str, bytes] = {}

    def photo(self, source: UploadedFile | str) -> tuple[str, tuple[dict[str, Any], ...]]:
        """Return (description of the source, PhotoSize list) for a URL, file_id or upload."""
        if isinstance(source, UploadedFile):
            key = "upload:" + hashlib.sha1(source.data).hexdigest()
            return f"upload:{source.filename}", self._sizes(key, source.data)
        if source in self._key_by_file_id:
            return source, self._photos[self._key_by_file_id[source]]
        if source.lower().startswith(("http://", "https://")):
            return source, self._sizes(source, self.url_data.get(source))
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _sizes(self, key: str, data: bytes | None) -> tuple[dict[str, Any], ...]:
        sizes = self._photos.get(key)
        if sizes is None:
            digest = hashlib.sha1(key.encode()).hexdigest()
            sizes = tuple(
                {
                    "file_id": f"AgACAgIAAxkBAAI{digest[:24]}_{index}",
                    "file_unique_id": f"AQAD{digest[:10]}{index}",
                    "width": width,
                    "height": height,
                    "file_size": width * height // 10,
                }
                for index, (width, height) in enumerate(_PHOTO_SIZES)
            )
            self._photos[key] = sizes
            for size in sizes:
                self._key_by_file_id[size["file_id"]] = key
                self._data[size["file_id"]] = data or b""
        return sizes

    def serve_url(self, url: str, data: bytes) -> None:
        """Answer photo URLs with these bytes, as if Telegram had downloaded them."""
        self.url_data[url] = data

    def data(self, file_id: str) -> bytes | None:
        """Return the bytes behind a file_id (empty for URLs), or None if unknown."""
        return self._data.get(file_id)

    def file_info(self, file_id: str) -> dict[str, Any] | None:
        """Return the Bot API File object for a known file_id."""
        key = self._key_by_file_id.get(file_id)
        if key is None:
            return None
        size = next(s for s in self._photos[key] if s["file_id"] == file_id)
        return {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_size": len(self._data[file_id]),
            "file_path": f"photos/{size['file_unique_id']}.jpg",
        }

    def file_id_for_path(self, path: str) -> str | None:
        """Return the file_id whose file_path is `path`."""
        unique_id = path.removeprefix("photos/").removesuffix(".jpg")
        for key in self._photos.values():
            for size in key:
                if size["file_unique_id"] == unique_id:
                    return size["file_id"]
        return None


class EmulatorState:
    """Everything Telegram would remember about one bot."""

    def __init__(
        self,
        bot: UserRecord,
        *,
        clock: Callable[[], float],
        keep_messages: bool = True,
        auto_create_chats: bool = False,
    ) -> None:
        self.bot = bot
        self.bot_json = bot.to_json()
        self.clock = clock
        self.keep_messages = keep_messages
        self.auto_create_chats = auto_create_chats
        self.users: dict[int, UserRecord] = {bot.id: bot}
        self.chats: dict[int, ChatRecord] = {}
        self.usernames: dict[str, int] = {}
        self.updates = UpdateQueue()
        self.files = FileStore()
        self.allowed_updates = DEFAULT_ALLOWED_UPDATES
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_max_connections = 40
        self.webhook_last_error: tuple[int, str] | None = None  # (date, message)
        self.commands: dict[CommandScope, tuple[tuple[str, str], ...]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.inline_queries: dict[str, Any] = {}  # id -> inline.InlineQueryRecord
        self.inline_answers: dict[str, InlineAnswer] = {}
        self._next_callback_id = 1

    def now(self) -> int:
        """Return the emulator clock as integer epoch seconds."""
        return int(self.clock())

    def add_user(self, user_id: int, **fields: Any) -> UserRecord:
        """Create a user or update the given fields of a known one."""
        user = self.users.get(user_id)
        if user is None:
            user = UserRecord(id=user_id, first_name=fields.pop("first_name", None) or "User")
            self.users[user_id] = user
        for key, value in fields.items():
            if value is not None:
                setattr(user, key, value)
        return user

    def add_chat(self, chat: ChatRecord) -> ChatRecord:
        """Register a chat (replacing one with the same id); the bot joins it."""
        self.chats[chat.id] = chat
        if chat.username:
            self.usernames[chat.username.lower()] = chat.id
        bot_status = "administrator" if chat.type == "channel" else "member"
        rights = {"can_post_messages": True} if chat.type == "channel" else {}
        chat.members.setdefault(self.bot.id, MemberRecord(bot_status, rights))
        return chat

    def private_chat(self, user: UserRecord) -> ChatRecord:
        """Return the private chat with `user`, creating it on first contact."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.add_chat(
                ChatRecord(
                    id=user.id, type="private", first_name=user.first_name, username=user.username
                )
            )
            chat.members[user.id] = MemberRecord("member")
        return chat

    def chat(self, ref: int | str) -> ChatRecord:
        """Resolve a chat id or "@username" as Telegram does, refusing unknown/migrated chats."""
        chat_id = self.usernames.get(ref[1:].lower()) if isinstance(ref, str) else ref
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None and self.auto_create_chats and isinstance(ref, int) and ref > 0:
            chat = self.private_chat(self.add_user(ref))
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def new_message(
        self, chat: ChatRecord, sender: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        """Return a new message payload with the chat's next message_id and the current date."""
        chat.last_message_id += 1
        payload: dict[str, Any] = {"message_id": chat.last_message_id}
        if sender is not None:
            payload["from"] = sender
        if chat.type == "channel":
            payload["sender_chat"] = chat.json
        payload["chat"] = chat.json
        payload["date"] = self.now()
        payload.update({key: value for key, value in content.items() if value is not None})
        return payload

    def store(self, chat: ChatRecord, record: MessageRecord) -> None:
        """Remember a message (when keeping messages) and count the bot's ones."""
        if record.from_bot:
            chat.bot_message_count += 1
        if not self.keep_messages:
            return
        chat.messages[record.message_id] = record
        if record.from_bot:
            chat.bot_message_ids.append(record.message_id)

    def message(self, chat: ChatRecord, message_id: int) -> MessageRecord | None:
        """Return a live (not deleted) message of the chat."""
        record = chat.messages.get(message_id)
        if record is None or record.is_deleted:
            return None
        return record

    def bot_messages(self, chat: ChatRecord) -> Iterator[MessageRecord]:
        """Yield the bot's messages in the chat in send order."""
        for message_id in chat.bot_message_ids:
            yield chat.messages[message_id]

    def new_callback_id(self) -> str:
        """Return a fresh callback query id."""
        self._next_callback_id += 1
        return f"{self.bot.id}{self._next_callback_id:010d}"
