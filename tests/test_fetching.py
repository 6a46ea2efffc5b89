import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from bot.errors import (
    FeedNotFound,
    FeedTooLarge,
    FetchError,
    FetchTimeout,
    SourceHttpError,
    TooManyRedirects,
    UnsupportedUrl,
)
from bot.ingestion.fetching import fetch_source

FEED = '<rss version="2.0"><channel><title>أخبار</title></channel></rss>'.encode()
ETAG = '"v1"'
LAST_MODIFIED = "Sun, 23 Feb 2025 10:00:00 GMT"


async def feed(request: web.Request) -> web.Response:
    if request.headers.get("If-None-Match") == ETAG:
        return web.Response(status=304, headers={"ETag": ETAG})
    return web.Response(body=FEED, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})


async def hop(request: web.Request) -> web.Response:
    remaining = int(request.match_info["n"])
    target = "/feed" if remaining == 0 else f"/hop/{remaining - 1}"
    raise web.HTTPFound(target)


async def redirect_to(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def big_declared(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 5000)


async def big_chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for _ in range(10):
        await response.write(b"x" * 1000)
    await response.write_eof()
    return response


async def status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="nope")


@pytest.fixture
async def server() -> AsyncIterator[httpx.URL]:
    release_slow = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        # The only sleep: the server stalls until the test is over (or 5 s pass).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release_slow.wait(), timeout=5)
        return web.Response(body=FEED)

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/redirect", redirect_to)
    app.router.add_get("/big-declared", big_declared)
    app.router.add_get("/big-chunked", big_chunked)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield httpx.URL(f"http://{host}:{port}")
    release_slow.set()
    await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as client:
        yield client


async def fetch(client, url, *, etag=None, last_modified=None, max_bytes=10_000, **kwargs):
    return await fetch_source(
        client, str(url), etag=etag, last_modified=last_modified, max_bytes=max_bytes, **kwargs
    )


async def test_ok_returns_body_and_validators(server, client):
    result = await fetch(client, server.join("/feed"))
    assert result.content == FEED
    assert (result.status, result.etag, result.last_modified) == (200, ETAG, LAST_MODIFIED)
    assert result.final_url == str(server.join("/feed"))


async def test_conditional_get_gives_not_modified_without_content(server, client):
    result = await fetch(client, server.join("/feed"), etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.status == 304
    assert result.content is None
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


async def test_redirect_chain_within_limit_is_followed(server, client):
    result = await fetch(client, server.join("/hop/2"), max_redirects=3)
    assert result.content == FEED
    assert result.final_url == str(server.join("/feed"))


async def test_redirect_chain_over_limit_is_refused(server, client):
    with pytest.raises(TooManyRedirects, match="more than 2 redirects"):
        await fetch(client, server.join("/hop/2"), max_redirects=2)


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd"])
async def test_redirect_to_other_scheme_is_refused(server, client, target):
    with pytest.raises(UnsupportedUrl, match="only http"):
        await fetch(client, server.join("/redirect").copy_with(params={"to": target}))


async def test_non_http_address_is_refused_before_any_request(client):
    with pytest.raises(UnsupportedUrl):
        await fetch(client, "file:///etc/passwd")


@pytest.mark.parametrize("path", ["/big-declared", "/big-chunked"])
async def test_oversized_body_is_refused(server, client, path):
    with pytest.raises(FeedTooLarge, match="more than 4,096 bytes"):
        await fetch(client, server.join(path), max_bytes=4096)


async def test_missing_feed_is_reported_as_not_found(server, client):
    with pytest.raises(FeedNotFound, match="404"):
        await fetch(client, server.join("/status/404"))


async def test_server_error_is_reported_with_its_status(server, client):
    with pytest.raises(SourceHttpError, match="500"):
        await fetch(client, server.join("/status/500"))


async def test_slow_server_times_out_with_short_message(server, client):
    with pytest.raises(FetchTimeout, match="did not answer in time"):
        await fetch(client, server.join("/slow"))


async def test_error_messages_do_not_leak_the_query_string(server, client):
    with pytest.raises(FeedNotFound) as caught:
        await fetch(client, server.join("/status/404").copy_with(params={"token": "s3cret"}))
    assert "s3cret" not in str(caught.value)


async def test_unreachable_host_is_a_fetch_error(client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        FetchError, match=r"^could not download from 127\.0\.0\.1: connection refused$"
    ):
        await fetch(client, f"http://127.0.0.1:{port}/feed")
