"""The web chat's HTTP face: the static page, JSON endpoints and a Server-Sent Events stream.

Endpoints are listed in emulator/webchat/README.md. The server listens on 127.0.0.1 unless
started with another host on purpose (the sandbox's --listen flag, which warns).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ..emulator import BotApiEmulator
from ..records import ApiCall
from ..signals import Signal
from ..state import UserRecord
from .actions import ActionRefused, PersonActions
from .views import (
    Refusal,
    chat_json,
    commands_for,
    message_json,
    person_json,
    visible_chats,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
LOOPBACK = "127.0.0.1"
KEEPALIVE_SECONDS = 15.0
MAX_UPLOAD = 11 * 1024 * 1024
MAX_REFUSALS = 200

OperatorStatus = Callable[[], Awaitable[Mapping[str, Any]]]
OperatorAction = Callable[[int | None], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class _Action:
    label: str
    needs_chat: bool
    run: OperatorAction


class WebChat:
    """A Telegram-like chat page over a running BotApiEmulator, for people the caller adds."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        *,
        samples: Mapping[str, bytes] | None = None,
        host: str = LOOPBACK,
    ) -> None:
        self.emulator = emulator
        self.actions = PersonActions(emulator.api)
        self.samples = dict(samples or {})
        self.host = host
        self.port: int | None = None
        self.version = 0
        self.refusals: list[Refusal] = []
        self._roles: dict[int, str] = {}
        self._operator_status: OperatorStatus | None = None
        self._operator_actions: dict[str, _Action] = {}
        self._changed = Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        emulator.on_call(self._on_call)

    # Set-up by the caller

    def add_person(self, user_id: int, role: str) -> None:
        """Offer this (already added) user as someone the page can act as."""
        self._roles[user_id] = role

    def set_operator_status(self, status: OperatorStatus) -> None:
        """Figures for the operator panel (outbox queue, rate, clock…), as label → value."""
        self._operator_status = status

    def add_operator_action(
        self, name: str, label: str, run: OperatorAction, *, needs_chat: bool = False
    ) -> None:
        """A button in the operator panel; `run` gets the open chat's id and returns a line."""
        self._operator_actions[name] = _Action(label, needs_chat, run)

    def changed(self) -> None:
        """Tell open pages to refresh."""
        self.version += 1
        self._changed.wake()

    # Lifecycle

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the web chat is not started")
        host = LOOPBACK if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/"

    async def start(self, port: int = 0) -> str:
        """Start serving; return the page's address."""
        app = web.Application(client_max_size=MAX_UPLOAD)
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port).start()
        self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        """End the event streams and stop serving."""
        self._closing = True
        self._changed.wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self._index)
        router.add_static("/static/", STATIC, append_version=False)
        router.add_get("/api/events", self._events)
        router.add_get("/api/world", self._world)
        router.add_get("/api/chats/{chat_id}/messages", self._messages)
        router.add_post("/api/chats/{chat_id}/messages", self._send)
        router.add_post("/api/chats/{chat_id}/photos", self._photo)
        router.add_post("/api/chats/{chat_id}/press", self._press)
        router.add_post("/api/chats/{chat_id}/forward", self._forward)
        router.add_post("/api/people/{person_id}/language", self._language)
        router.add_get("/api/files/{file_id}", self._file)
        router.add_get("/api/samples", self._sample_list)
        router.add_get("/api/samples/{name}", self._sample)
        router.add_get("/api/operator", self._operator)
        router.add_post("/api/operator/{action}", self._operator_action)

    # Change tracking

    def _on_call(self, call: ApiCall) -> None:
        method = call.method.lower()
        if method == "getupdates":
            return
        if not call.is_ok:
            self._record_refusal(call)
        self.changed()

    def _record_refusal(self, call: ApiCall) -> None:
        chat_id = _int(call.params.get("chat_id"))
        chat = self.emulator.state.chats.get(chat_id) if chat_id is not None else None
        text = call.params.get("text") or call.params.get("caption")
        self.refusals.append(
            Refusal(
                chat_id=chat_id,
                after_message_id=chat.last_message_id if chat else 0,
                thread_id=_int(call.params.get("message_thread_id")),
                method=call.method,
                description=call.description or f"HTTP {call.status}",
                text=str(text) if text is not None else None,
            )
        )
        del self.refusals[:-MAX_REFUSALS]

    # Handlers

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        sent = -1
        try:
            while not self._closing:
                if sent != self.version:
                    sent = self.version
                    await response.write(f"data: {json.dumps({'version': sent})}\n\n".encode())
                elif not await self._changed.wait(KEEPALIVE_SECONDS):
                    await response.write(b": keepalive\n\n")
                # Many calls arrive in bursts (a digest's parts, a hide's edits): one refresh.
                await asyncio.sleep(0.05)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    async def _world(self, request: web.Request) -> web.Response:
        state = self.emulator.state
        person = self._person(request.query.get("person"))
        people = [person_json(state.users[uid], role) for uid, role in self._roles.items()]
        chats = [chat_json(state, chat, person) for chat in visible_chats(state, person)]
        if not any(chat["id"] == person.id for chat in chats):
            chats.insert(0, _empty_private_chat(state.bot.first_name, person.id))
        return _json(
            {
                "version": self.version,
                "bot": {
                    "id": state.bot.id,
                    "name": state.bot.first_name,
                    "username": state.bot.username,
                },
                "person": person_json(person, self._roles.get(person.id, "")),
                "people": people,
                "chats": chats,
                "commands": commands_for(state, person.language_code or ""),
            }
        )

    async def _messages(self, request: web.Request) -> web.Response:
        person = self._person(request.query.get("person"))
        chat_id = _path_int(request, "chat_id")
        chat = self.emulator.state.chats.get(chat_id)
        if chat is None:
            return _json({"messages": [], "refusals": []})
        try:
            self.actions.visible(person, chat_id)
        except ActionRefused as error:
            raise web.HTTPForbidden(text=str(error)) from None
        messages = [
            message_json(chat, record, person.id)
            for record in chat.messages.values()
            if not record.is_deleted and "forum_topic_created" not in record.payload
        ]
        refusals = [r.to_json() for r in self.refusals if r.chat_id == chat_id]
        return _json({"messages": messages, "refusals": refusals})

    async def _send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        person = self._person(body.get("person"))
        chat_id = _path_int(request, "chat_id")
        payload = self._refusing(
            lambda: self.actions.send_text(
                person.id,
                chat_id,
                str(body.get("text", "")),
                thread_id=_int(body.get("thread_id")),
                reply_to=_int(body.get("reply_to")),
            )
        )
        self.changed()
        return _json({"message_id": payload["message_id"]})

    async def _photo(self, request: web.Request) -> web.Response:
        form = await request.post()
        person = self._person(form.get("person"))
        chat_id = _path_int(request, "chat_id")
        upload, sample = form.get("file"), form.get("sample")
        if isinstance(upload, web.FileField):
            data = upload.file.read()
        elif isinstance(sample, str) and sample in self.samples:
            data = self.samples[sample]
        else:
            raise web.HTTPBadRequest(text="send a file or the name of a sample image")
        caption = form.get("caption")
        payload = self._refusing(
            lambda: self.actions.send_photo(
                person.id,
                chat_id,
                data,
                caption=caption if isinstance(caption, str) else None,
                thread_id=_int(form.get("thread_id")),
            )
        )
        self.changed()
        return _json({"message_id": payload["message_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        person = self._person(body.get("person"))
        try:
            answer = await self.actions.press(
                person.id,
                _path_int(request, "chat_id"),
                _required_int(body, "message_id"),
                str(body.get("data", "")),
            )
        except ActionRefused as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        if answer is None:
            return _json({"answered": False})
        return _json(
            {
                "answered": True,
                "text": answer.text,
                "show_alert": answer.show_alert,
                "url": answer.url,
            }
        )

    async def _forward(self, request: web.Request) -> web.Response:
        body = await _body(request)
        person = self._person(body.get("person"))
        chat_id = _path_int(request, "chat_id")
        message_id = _required_int(body, "message_id")
        payload = self._refusing(
            lambda: self.actions.forward_to_bot(person.id, chat_id, message_id)
        )
        self.changed()
        return _json({"message_id": payload["message_id"], "chat_id": person.id})

    async def _language(self, request: web.Request) -> web.Response:
        body = await _body(request)
        person_id = _path_int(request, "person_id")
        self._refusing(lambda: self.actions.set_language(person_id, str(body.get("language_code"))))
        self.changed()
        return _json({"ok": True})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.emulator.state.files.data(request.match_info["file_id"])
        if not data:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=_image_type(data))

    async def _sample_list(self, request: web.Request) -> web.Response:
        return _json({"samples": sorted(self.samples)})

    async def _sample(self, request: web.Request) -> web.Response:
        data = self.samples.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=_image_type(data))

    async def _operator(self, request: web.Request) -> web.Response:
        status = dict(await self._operator_status()) if self._operator_status else {}
        actions = [
            {"name": name, "label": action.label, "needs_chat": action.needs_chat}
            for name, action in self._operator_actions.items()
        ]
        refusals = [r.to_json() for r in reversed(self.refusals)]
        return _json({"status": status, "actions": actions, "refusals": refusals})

    async def _operator_action(self, request: web.Request) -> web.Response:
        action = self._operator_actions.get(request.match_info["action"])
        if action is None:
            raise web.HTTPNotFound()
        body = await _body(request)
        chat_id = _int(body.get("chat_id"))
        if action.needs_chat and chat_id is None:
            raise web.HTTPBadRequest(text="open a chat first")
        result = await action.run(chat_id)
        self.changed()
        return _json({"result": result})

    # Helpers

    def _person(self, raw: Any) -> UserRecord:
        person_id = _int(raw) if raw is not None else next(iter(self._roles), None)
        if person_id is None or person_id not in self._roles:
            raise web.HTTPBadRequest(text="unknown person")
        return self.actions.person(person_id)

    @staticmethod
    def _refusing(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ActionRefused as error:
            raise web.HTTPBadRequest(text=str(error)) from None


def _empty_private_chat(bot_name: str, person_id: int) -> dict[str, Any]:
    return {
        "id": person_id,
        "type": "private",
        "title": bot_name,
        "is_forum": False,
        "topics": [],
        "status": "member",
        "can_write": True,
        "last": "",
        "last_date": 0,
        "last_message_id": 0,
    }


def _json(data: Any) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdecimal() and len(value) <= 20:
        return int(value)
    return None


def _path_int(request: web.Request, name: str) -> int:
    value = _int(request.match_info[name])
    if value is None:
        raise web.HTTPNotFound()
    return value


def _required_int(body: Mapping[str, Any], name: str) -> int:
    value = _int(body.get(name))
    if value is None:
        raise web.HTTPBadRequest(text=f"{name} must be a number")
    return value


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data.startswith(b"RIFF"):
        return "image/webp"
    return "image/jpeg"
