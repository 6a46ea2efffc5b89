"""Downloading one source over HTTP(S): conditional GET, bounded redirects and size."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from bot.errors import (
    FeedNotFound,
    FeedTooLarge,
    FetchError,
    FetchTimeout,
    SourceHttpError,
    TooManyRedirects,
    UnsupportedUrl,
)

__all__ = ["FetchResult", "fetch_source"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a source answered; `content` is None when it was not modified (304)."""

    content: bytes | None
    etag: str | None
    last_modified: str | None
    final_url: str
    status: int


async def fetch_source(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    max_redirects: int = 3,
) -> FetchResult:
    """GET `url` (http/https only, on every hop) and return its body, at most `max_bytes` long."""
    headers = _conditional_headers(etag, last_modified)
    for _ in range(max_redirects + 1):
        request_url = _checked_url(url)
        try:
            async with client.stream(
                "GET", request_url, headers=headers, follow_redirects=False
            ) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    url = urljoin(str(response.url), location)
                    continue
                return await _read_result(response, etag, last_modified, max_bytes)
        except httpx.TimeoutException as error:
            raise FetchTimeout(f"{request_url.host} did not answer in time") from error
        except httpx.HTTPError as error:
            reason = _reason(error)
            raise FetchError(f"could not download from {request_url.host}: {reason}") from error
    raise TooManyRedirects(f"more than {max_redirects} redirects")


# The cause in words an operator acts on, from the exceptions under httpx's; never their
# text, which may hold the address (and its credentials or token).
_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (socket.gaierror, "the name does not resolve (DNS)"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "the connection was cut"),
    (ssl.SSLError, "TLS error (certificate or handshake)"),
    (OSError, "cannot connect"),
)


def _reason(error: httpx.HTTPError) -> str:
    causes = []
    found: BaseException | None = error
    while found is not None and len(causes) < 10:
        causes.append(found)
        found = found.__cause__ or found.__context__
    for kind, reason in _CAUSES:
        if any(isinstance(cause, kind) for cause in causes):
            return reason
    if isinstance(error, httpx.RemoteProtocolError):
        return "the server broke off the answer"
    return "cannot connect" if isinstance(error, httpx.ConnectError) else type(error).__name__


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _checked_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise UnsupportedUrl("not a valid address") from error
    if parsed.scheme not in _SCHEMES or not parsed.host:
        # Only the scheme: the rest of the address may carry credentials.
        raise UnsupportedUrl(f"refusing a {parsed.scheme or 'relative'} address; only http(s)")
    return parsed


async def _read_result(
    response: httpx.Response, etag: str | None, last_modified: str | None, max_bytes: int
) -> FetchResult:
    status = response.status_code
    host = response.url.host
    if status == 304:
        content = None
    elif 200 <= status < 300:
        content = await _read_capped(response, max_bytes)
    elif status in (404, 410):
        raise FeedNotFound(f"{host} has nothing at this address ({status})")
    else:
        raise SourceHttpError(f"{host} answered {status} {response.reason_phrase}".strip())
    if content is not None:
        # A fresh body makes the old validators stale, even when the server sends none.
        etag = last_modified = None
    return FetchResult(
        content=content,
        etag=response.headers.get("etag") or etag,
        last_modified=response.headers.get("last-modified") or last_modified,
        final_url=str(response.url),
        status=status,
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    too_large = FeedTooLarge(f"{response.url.host} sent more than {max_bytes:,} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    # Counts decoded bytes, so a small gzip bomb is stopped too.
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)
