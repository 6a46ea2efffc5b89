"""BotApiEmulator: a local Telegram Bot API for tests, benchmarks and the sandbox chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .api import BotApi
from .calls import CallLog
from .chats import MEMBER_STATUSES
from .faults import injected_error
from .inline import chosen_inline_result, inline_query
from .records import ApiCall, Button, CallbackAnswer, CommandScope, InlineAnswer, SentMessage
from .server import ApiServer
from .simulation import (
    callback_query,
    command_entities,
    migrate,
    my_chat_member,
    photo_content,
    sender_and_chat,
    text_content,
    user_message,
)
from .state import ChatRecord, EmulatorState, MemberRecord, MessageRecord, UserRecord
from .webhooks import WebhookDelivery, WebhookPusher

_SEND_METHODS = frozenset({"sendmessage", "sendphoto"})


class BotApiEmulator:
    """A Bot API server on 127.0.0.1 plus the controls and observations tests need."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        clock: Callable[[], float] | None = None,
        bot_username: str = "akhbar_test_bot",
        bot_name: str = "Akhbar",
        keep_messages: bool = True,
        auto_create_chats: bool = False,
        max_logged_requests: int | None = None,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        bot = UserRecord(id=bot_id, first_name=bot_name, username=bot_username, is_bot=True)
        self.state = EmulatorState(
            bot,
            clock=clock or time.time,
            keep_messages=keep_messages,
            auto_create_chats=auto_create_chats,
        )
        self.api = BotApi(self.state)
        self._log = CallLog(max_logged_requests)
        self._server = ApiServer(self.api, token, self._log)
        self._webhooks = WebhookPusher(self.api)
        self._cursors: dict[int, int] = {}

    # Lifecycle

    async def start(self) -> BotApiEmulator:
        """Start serving on an ephemeral port."""
        await self._server.start()
        self._webhooks.start()
        return self

    async def stop(self) -> None:
        """Stop serving; pending long polls return empty."""
        await self._webhooks.stop()
        await self._server.stop()

    async def go_offline(self) -> None:
        """Stop listening, keeping every chat and message: connections are refused, as when
        the Bot API is out of reach, until `come_back()`."""
        await self._server.stop()

    async def come_back(self) -> None:
        """Listen again on the same port after `go_offline()`."""
        await self._server.start(self.port)

    async def __aenter__(self) -> BotApiEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """Return the bound port (after start)."""
        if self._server.port is None:
            raise RuntimeError("the emulator is not started")
        return self._server.port

    @property
    def base_url(self) -> str:
        """Return the URL for ApplicationBuilder().base_url(); the token gets appended."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the URL for ApplicationBuilder().base_file_url()."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        """Return the bot's User object."""
        return dict(self.state.bot_json)

    # Chats and users

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "User",
        username: str | None = None,
        language_code: str | None = "ar",
    ) -> None:
        """Register (or update) a user."""
        self.state.add_user(
            user_id, first_name=first_name, username=username, language_code=language_code
        )

    def add_chat(
        self,
        chat_id: int,
        type: str = "group",
        *,
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
        first_name: str | None = None,
    ) -> None:
        """Register a chat; type "private" makes a user's private chat with the bot."""
        if type == "private":
            self.state.private_chat(self.state.add_user(chat_id, first_name=first_name))
            return
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        chat = ChatRecord(
            id=chat_id,
            type=type,
            title=title or f"Chat {chat_id}",
            username=username,
            is_forum=is_forum,
        )
        self.state.add_chat(chat)

    def set_member(
        self, chat_id: int, user_id: int, status: str = "member", **rights: bool
    ) -> None:
        """Set a user's (or the bot's) status and admin rights (can_delete_messages=...)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {sorted(MEMBER_STATUSES)}")
        self.state.add_user(user_id)
        self._chat(chat_id).members[user_id] = MemberRecord(status, dict(rights))

    def migrate_group(self, old_chat_id: int, new_chat_id: int, *, notify: bool = True) -> None:
        """Upgrade a group to a supergroup; sends to the old id then fail with ChatMigrated."""
        old = self._chat(old_chat_id)
        new = migrate(self.state, old, new_chat_id)
        if notify:
            admin = self.state.add_user(next(iter(old.members), 1))
            for chat, content in (
                (old, {"migrate_to_chat_id": new.id}),
                (new, {"migrate_from_chat_id": old.id}),
            ):
                self.api.push_update("message", user_message(self.state, admin, chat, **content))

    def create_topic(self, chat_id: int, name: str, *, user_id: int) -> int:
        """Open a topic in a forum group, as its creator; return its message_thread_id."""
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        user = self.state.add_user(user_id)
        topic = {"name": name, "icon_color": 0x6FB9F0}
        payload = user_message(self.state, user, chat, forum_topic_created=topic)
        payload.update(message_thread_id=payload["message_id"], is_topic_message=True)
        return payload["message_id"]

    def serve_url(self, url: str, data: bytes) -> None:
        """Photos sent by this URL get these bytes, as if Telegram had downloaded them."""
        self.state.files.serve_url(url, data)

    def on_call(self, listener: Callable[[ApiCall], None]) -> None:
        """Call `listener` with every Bot API request answered from now on."""
        self._log.listen(listener)

    def block(self, chat_id: int) -> None:
        """Answer 403 (blocked by the user / kicked from the chat) to sends into this chat."""
        self.api.blocked_chats.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo `block`."""
        self.api.blocked_chats.discard(chat_id)

    # Simulated users

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "ar",
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes `text` (commands get bot_command entities); returns the Message."""
        user, chat = sender_and_chat(
            self.state,
            chat_id,
            user_id,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        payload = user_message(
            self.state,
            user,
            chat,
            reply_to_message_id=reply_to_message_id,
            message_thread_id=message_thread_id,
            **text_content(text),
        )
        self.api.push_update(_message_kind(chat), payload)
        return payload

    async def edit_text(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A user edits a message they sent; queues an edited_message update."""
        record = self.state.chats[chat_id].messages[message_id]
        record.payload.update(
            text=text,
            entities=command_entities(text),
            edit_date=int(self.state.now()),
        )
        if not record.payload["entities"]:
            del record.payload["entities"]
        payload = dict(record.payload)
        self.api.push_update("edited_message", payload)
        return payload

    async def send_photo_from_user(
        self,
        chat_id: int,
        photo: bytes | str = b"\xff\xd8\xff\xe0 fake jpeg",
        *,
        caption: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "ar",
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a photo (bytes or URL); returns the Message."""
        user, chat = sender_and_chat(
            self.state, chat_id, user_id, language_code=language_code, first_name=first_name
        )
        content = photo_content(self.state, photo, caption)
        payload = user_message(self.state, user, chat, **content)
        self.api.push_update(_message_kind(chat), payload)
        return payload

    async def press_button(
        self, chat_id: int, message_id: int, callback_data: str, *, user_id: int | None = None
    ) -> str:
        """A user presses an inline button that must be on that message; returns the query id."""
        user, chat = sender_and_chat(self.state, chat_id, user_id)
        payload = callback_query(self.state, chat, message_id, callback_data, user)
        self.api.push_update("callback_query", payload)
        return payload["id"]

    def send_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        language_code: str | None = "ar",
    ) -> str:
        """A user types `@bot query` in a chat; queues inline_query and returns its id."""
        user = self.state.add_user(user_id, language_code=language_code)
        payload = inline_query(self.state, user, query, offset=offset, chat_type=chat_type)
        self.api.push_update("inline_query", payload)
        return payload["id"]

    def choose_inline_result(self, user_id: int, result_id: str, *, query: str = "") -> None:
        """A user sends one of the results the bot offered; queues chosen_inline_result."""
        user = self.state.add_user(user_id)
        payload = chosen_inline_result(self.state, user, result_id, query)
        self.api.push_update("chosen_inline_result", payload)

    def add_my_chat_member_update(
        self,
        chat_id: int,
        *,
        new_status: str = "member",
        old_status: str = "left",
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """The bot is added to / removed from a chat by a user; queues my_chat_member."""
        user, chat = sender_and_chat(self.state, chat_id, user_id)
        payload = my_chat_member(self.state, chat, user, old_status, new_status)
        if chat.type == "private":
            (self.block if new_status == "kicked" else self.unblock)(chat_id)
        self.api.push_update("my_chat_member", payload)
        return payload

    # Observations

    def sent(self, chat_id: int) -> list[SentMessage]:
        """Return the bot's messages to a chat in send order, edits applied."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            return []
        return [_snapshot(chat.id, record) for record in self.state.bot_messages(chat)]

    def sent_count(self, chat_id: int | None = None) -> int:
        """Return how many messages the bot sent to a chat (or to all); works without keeping."""
        if chat_id is not None:
            chat = self.state.chats.get(chat_id)
            return chat.bot_message_count if chat else 0
        return sum(chat.bot_message_count for chat in self.state.chats.values())

    def messages_after(self, message: SentMessage) -> list[SentMessage]:
        """Return the bot's messages to the same chat sent after `message`."""
        return [m for m in self.sent(message.chat_id) if m.message_id > message.message_id]

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """Return the next bot message to the chat this caller has not consumed yet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chat = self.state.chats.get(chat_id)
            cursor = self._cursors.get(chat_id, 0)
            if chat is not None and len(chat.bot_message_ids) > cursor:
                self._cursors[chat_id] = cursor + 1
                return _snapshot(chat_id, chat.messages[chat.bot_message_ids[cursor]])
            if not await self.api.messages_changed.wait(deadline - loop.time()):
                seen = [m.body[:80] for m in self.sent(chat_id)]
                raise AssertionError(
                    f"the bot sent no new message to chat {chat_id} within {timeout}s "
                    f"({cursor} consumed); all sent: {seen}"
                )

    async def wait_for(self, predicate: Callable[[ApiCall], bool], timeout: float = 5.0) -> ApiCall:  # noqa: ASYNC109
        """Return the first logged API call matching `predicate`, waiting if needed."""
        return await self._log.wait_for(predicate, timeout)

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Return the bot's answer to a button press, waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while query_id not in self.state.callback_answers:
            if not await self.api.messages_changed.wait(deadline - loop.time()):
                raise AssertionError(f"callback query {query_id} not answered within {timeout}s")
        return self.state.callback_answers[query_id]

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> InlineAnswer:  # noqa: ASYNC109
        """Return the bot's answer to an inline query, waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while query_id not in self.state.inline_answers:
            if not await self.api.messages_changed.wait(deadline - loop.time()):
                raise AssertionError(f"inline query {query_id} not answered within {timeout}s")
        return self.state.inline_answers[query_id]

    async def wait_until_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once a getUpdates long poll is waiting for updates."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.api.waiting_polls == 0:
            if not await self.api.polls_started.wait(deadline - loop.time()):
                raise AssertionError(f"no getUpdates long poll started within {timeout}s")

    @property
    def requests(self) -> list[ApiCall]:
        """Return every API call so far (the newest ones if the log is bounded)."""
        return list(self._log)

    def send_times(self, chat_id: int) -> list[float]:
        """Return monotonic times of successful sends to a chat (for pacing assertions)."""
        wanted = str(chat_id)
        return [
            call.at
            for call in self._log
            if call.is_ok
            and call.method.lower() in _SEND_METHODS
            and str(call.params.get("chat_id")) == wanted
        ]

    @property
    def webhook_url(self) -> str:
        """Return the URL setWebhook registered ("" when the bot polls)."""
        return self.state.webhook_url

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Return every POST of an update to the webhook, with the status the bot answered."""
        return list(self._webhooks.deliveries)

    @property
    def callback_answers(self) -> dict[str, CallbackAnswer]:
        """Return answerCallbackQuery answers by query id."""
        return self.state.callback_answers

    @property
    def commands(self) -> dict[CommandScope, tuple[tuple[str, str], ...]]:
        """Return what setMyCommands stored, by scope and language."""
        return self.state.commands

    def commands_for(
        self,
        language_code: str = "",
        *,
        scope: str = "default",
        chat_id: int | str | None = None,
        user_id: int | None = None,
    ) -> list[tuple[str, str]]:
        """Return the (command, description) pairs stored for one scope and language."""
        key = CommandScope(scope, chat_id, user_id, language_code)
        return list(self.state.commands.get(key, ()))

    @property
    def descriptions(self) -> dict[tuple[str, str], str]:
        """Return bot descriptions by (kind, language_code)."""
        return self.state.descriptions

    # Faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Fail the next `times` calls of `method` ("*" for any), optionally only for one chat."""
        error = injected_error(status, retry_after, description)
        self.api.faults.add(method, chat_id, error, times)

    @property
    def delay(self) -> float:
        """Return the seconds added before every answer."""
        return self._server.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._server.delay = seconds

    @property
    def enforce_flood_limits(self) -> bool:
        """Return whether sends over Telegram's rough limits get 429."""
        return self.api.enforce_flood_limits

    @enforce_flood_limits.setter
    def enforce_flood_limits(self, enabled: bool) -> None:
        self.api.enforce_flood_limits = enabled

    def _chat(self, chat_id: int) -> ChatRecord:
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"chat {chat_id} is unknown to the emulator: call add_chat first")
        return chat


def _message_kind(chat: ChatRecord) -> str:
    return "channel_post" if chat.type == "channel" else "message"


def _buttons(markup: dict[str, Any] | None) -> tuple[tuple[Button, ...], ...]:
    rows = (markup or {}).get("inline_keyboard", ())
    return tuple(
        tuple((b.get("text", ""), b.get("callback_data") or b.get("url") or "") for b in row)
        for row in rows
    )


def _snapshot(chat_id: int, record: MessageRecord) -> SentMessage:
    payload = record.payload
    reply = payload.get("reply_to_message")
    return SentMessage(
        chat_id=chat_id,
        message_id=payload["message_id"],
        date=payload["date"],
        text=payload.get("text"),
        caption=payload.get("caption"),
        raw_text=record.raw_text,
        parse_mode=record.parse_mode,
        photo=record.photo_source,
        photo_file_ids=tuple(size["file_id"] for size in payload.get("photo", ())),
        reply_markup=_buttons(payload.get("reply_markup")),
        entities=tuple(payload.get("entities") or payload.get("caption_entities") or ()),
        message_thread_id=payload.get("message_thread_id"),
        reply_to_message_id=reply["message_id"] if reply else None,
        is_edited=record.is_edited,
        is_deleted=record.is_deleted,
    )
