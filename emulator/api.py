"""Dispatches Bot API method calls to their implementations, with faults and long polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from . import chats, inline, messaging
from .errors import NOT_FOUND, ApiError, bad_request
from .faults import FaultPlan, FloodLimiter, blocked_error
from .params import Params
from .signals import Signal
from .state import DEFAULT_ALLOWED_UPDATES, ChatRecord, EmulatorState

ChatMethod = Callable[[EmulatorState, ChatRecord, Params], Any]
BotMethod = Callable[[EmulatorState, Params], Any]

# Kinds decide what guards a chat method passes: "send" is blocked and flood-limited,
# "edit"/"action" only blocked, "read" neither.
_CHAT_METHODS: dict[str, tuple[ChatMethod, str]] = {
    "sendmessage": (messaging.send_message, "send"),
    "sendphoto": (messaging.send_photo, "send"),
    "editmessagetext": (messaging.edit_message_text, "edit"),
    "editmessagecaption": (messaging.edit_message_caption, "edit"),
    "editmessagereplymarkup": (messaging.edit_message_reply_markup, "edit"),
    "editmessagemedia": (messaging.edit_message_media, "edit"),
    "deletemessage": (messaging.delete_message, "read"),
    "deletemessages": (messaging.delete_messages, "read"),
    "sendchataction": (chats.send_chat_action, "action"),
    "getchat": (chats.get_chat, "read"),
    "getchatmember": (chats.get_chat_member, "read"),
    "getchatadministrators": (chats.get_chat_administrators, "read"),
}
_BOT_METHODS: dict[str, BotMethod] = {
    "getme": chats.get_me,
    "answercallbackquery": messaging.answer_callback_query,
    "answerinlinequery": inline.answer_inline_query,
    "setmycommands": chats.set_my_commands,
    "getmycommands": chats.get_my_commands,
    "deletemycommands": chats.delete_my_commands,
    "setmydescription": chats.set_my_description,
    "setmyshortdescription": chats.set_my_short_description,
    "getmydescription": chats.get_my_description,
    "getmyshortdescription": chats.get_my_short_description,
    "getfile": chats.get_file,
    "logout": lambda state, p: True,
    "close": lambda state, p: True,
}
_CONFLICT_WEBHOOK = ApiError(
    409,
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first",
)
_CONFLICT_POLL = ApiError(
    409,
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
)


class BotApi:
    """The Bot API as a Python object: `await call(method, params)` returns a result or raises."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.faults = FaultPlan()
        self.flood = FloodLimiter()
        self.enforce_flood_limits = False
        self.blocked_chats: set[int] = set()
        self.updates_arrived = Signal()
        self.messages_changed = Signal()
        self.polls_started = Signal()
        self.waiting_polls = 0
        self.is_closing = False
        self._poll_generation = 0

    async def call(self, method: str, p: Params) -> Any:
        """Run one Bot API method; raises ApiError exactly where Telegram would refuse."""
        name = method.lower()
        injected = self.faults.take(name, p.raw.get("chat_id"))
        if injected is not None:
            raise injected
        if name == "getupdates":
            return await self._get_updates(p)
        chat_method = _CHAT_METHODS.get(name)
        if chat_method is not None:
            implementation, kind = chat_method
            result = implementation(self.state, self._target_chat(p, kind), p)
            if kind != "read" or name.startswith("delete"):
                self.messages_changed.wake()
            return result
        if name in ("deletewebhook", "setwebhook", "getwebhookinfo"):
            return self._webhook(name, p)
        bot_method = _BOT_METHODS.get(name)
        if bot_method is None:
            raise NOT_FOUND
        result = bot_method(self.state, p)
        if name in ("answercallbackquery", "answerinlinequery"):
            self.messages_changed.wake()
        return result

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates and wake long polls."""
        update = self.state.updates.push(kind, payload)
        self.updates_arrived.wake()
        return update

    def close(self) -> None:
        """Make pending long polls return at once (used on shutdown)."""
        self.is_closing = True
        self.updates_arrived.wake()
        self.messages_changed.wake()

    def _target_chat(self, p: Params, kind: str) -> ChatRecord:
        chat = self.state.chat(p.chat_ref())
        if kind != "read" and chat.id in self.blocked_chats:
            raise blocked_error(chat.type)
        if kind == "send" and self.enforce_flood_limits:
            refusal = self.flood.admit(chat.id, chat.type in ("group", "supergroup"))
            if refusal is not None:
                raise refusal
        return chat

    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        state = self.state
        if state.webhook_url:
            raise _CONFLICT_WEBHOOK
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            state.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
        state.updates.confirm(p.get_int("offset"))
        limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self.updates_arrived.wake()  # an older poll still waiting is terminated, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(p.get_float("timeout"), 0.0)
        while True:
            updates = state.updates.pending(limit, state.allowed_updates)
            if updates or self.is_closing:
                return updates
            if not await self._wait_for_update(deadline - loop.time()):
                return []
            if generation != self._poll_generation:
                raise _CONFLICT_POLL

    async def _wait_for_update(self, seconds: float) -> bool:
        self.waiting_polls += 1
        self.polls_started.wake()
        try:
            return await self.updates_arrived.wait(seconds)
        finally:
            self.waiting_polls -= 1

    def _webhook(self, name: str, p: Params) -> Any:
        state = self.state
        if name == "getwebhookinfo":
            return _webhook_info(state)
        if name == "setwebhook":
            _set_webhook(state, p)
        else:
            state.webhook_url, state.webhook_secret = "", ""
        if p.get_bool("drop_pending_updates"):
            state.updates.clear()
        state.webhook_last_error = None
        self.updates_arrived.wake()  # the webhook pusher looks at the new address
        return True


_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _set_webhook(state: EmulatorState, p: Params) -> None:
    url = p.get_str("url") or ""
    secret = p.get_str("secret_token") or ""
    if url and not url.startswith(("https://", "http://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if len(secret) > 256 or not set(secret) <= _SECRET_CHARS:
        raise bad_request("secret token contains unallowed characters")
    max_connections = p.get_int("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = p.get_json("allowed_updates")
    if allowed is not None:
        state.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED_UPDATES
    state.webhook_url, state.webhook_secret = url, secret
    state.webhook_max_connections = max_connections


def _webhook_info(state: EmulatorState) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": state.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if state.webhook_url:
        info["max_connections"] = state.webhook_max_connections
        info["allowed_updates"] = sorted(state.allowed_updates)
    if state.webhook_last_error is not None:
        info["last_error_date"], info["last_error_message"] = state.webhook_last_error
    return info
