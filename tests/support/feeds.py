"""A loopback web server that serves feeds, with ETag support and per-path request counts;
paths can also answer an error status, redirect, or answer slowly."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter

from aiohttp import web


class FeedServer:
    """Serves registered bodies on 127.0.0.1; answers 304 when the client's ETag matches."""

    def __init__(self) -> None:
        self._bodies: dict[str, tuple[bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self._answers: dict[str, tuple[int, dict[str, str]]] = {}
        self.delays: dict[str, float] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    def answer(self, path: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer `status` (with `headers`) at `path` instead of its body, until `restore`."""
        self._answers[path] = (status, headers or {})

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self.answer(path, status, {"Location": to})

    def restore(self, path: str) -> None:
        self._answers.pop(path, None)

    def publish(self, path: str, body: bytes | str, content_type: str = "application/rss+xml"):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._bodies[path] = (data, content_type)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits[request.path] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if request.path in self.delays:
                await asyncio.sleep(self.delays[request.path])
            return self._respond(request)
        finally:
            self.in_flight -= 1

    def _respond(self, request: web.Request) -> web.Response:
        if request.path in self._answers:
            status, headers = self._answers[request.path]
            return web.Response(status=status, headers=headers)
        if request.path not in self._bodies:
            return web.Response(status=404, text="not found")
        body, content_type = self._bodies[request.path]
        etag = f'"{hashlib.sha1(body).hexdigest()}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified[request.path] += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type=content_type, headers={"ETag": etag})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def rss(*items: str, title: str = "أخبار") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"'
        ' xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{title}</title><link>https://news.test/</link>{''.join(items)}</channel></rss>"
    )


def item(title: str, link: str, *, body: str = "", date: str = "", image: str = "") -> str:
    parts = [f"<title>{title}</title>", f"<link>{link}</link>", f"<guid>{link}</guid>"]
    if body:
        parts.append(f"<description><![CDATA[{body}]]></description>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    if image:
        parts.append(f'<media:content url="{image}" medium="image" />')
    return f"<item>{''.join(parts)}</item>"
