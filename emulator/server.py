"""The HTTP face of the emulator: aiohttp routes /bot<token>/<method> and file downloads."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from .api import BotApi
from .calls import CallLog
from .errors import UNAUTHORIZED, ApiError
from .params import Params, UploadedFile
from .records import ApiCall

_MAX_BODY = 64 * 1024 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ApiServer:
    """Serves a BotApi over HTTP on 127.0.0.1; logs every call."""

    def __init__(self, api: BotApi, token: str, log: CallLog, *, host: str = "127.0.0.1") -> None:
        self.api = api
        self.token = token
        self.log = log
        self.host = host
        self.delay = 0.0
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> int:
        """Start listening and return the bound port."""
        self.api.is_closing = False
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        """Release pending long polls and stop serving."""
        self.api.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        # Telegram counts a request against its limits when it arrives: the call is made (and
        # logged) at once, and `delay` holds back only the answer, as a round trip would. Made
        # after a sleep instead, arrivals were judged by when dozens of timers fired together.
        arrived = time.monotonic()
        try:
            if request.match_info["token"] != self.token:
                raise UNAUTHORIZED
            body: dict[str, Any] = {
                "ok": True,
                "result": await self.api.call(method, Params(params)),
            }
            status, description = 200, None
        except ApiError as error:
            body, status, description = error.to_json(), error.status, error.description
        self.log.append(ApiCall(method, params, status, arrived, description))
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
        )

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        files = self.api.state.files
        file_id = files.file_id_for_path(request.match_info["path"])
        data = files.data(file_id) if file_id else None
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in _FORM_TYPES:
        form = await request.post()
        for name, value in form.items():
            params[name] = _form_value(value)
    return params


def _form_value(value: Any) -> Any:
    if isinstance(value, web.FileField):
        return UploadedFile(value.filename, value.content_type, value.file.read())
    return value
