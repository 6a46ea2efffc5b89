"""Downloading one source over HTTP(S): conditional GET, bounded redirects and size."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from bot.errors import (
    FeedNotFound,
    FeedTooLarge,
    FetchError,
    FetchTimeout,
    SourceGone,
    SourceHttpError,
    TooManyRedirects,
    UnsupportedUrl,
)
from bot.ingestion.addresses import AddressGuard

__all__ = ["FetchResult", "fetch_source", "retry_after_seconds"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a source answered; `content` is None when it was not modified (304)."""

    content: bytes | None
    etag: str | None
    last_modified: str | None
    final_url: str
    status: int
    # The address to use from now on when every redirect on the way was permanent (301/308).
    moved_to: str | None = None


async def fetch_source(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    max_redirects: int = 3,
    guard: AddressGuard | None = None,
) -> FetchResult:
    """GET `url` (http/https only, on every hop) and return its body, at most `max_bytes` long.

    With a `guard`, every hop's host is checked before it is contacted.
    """
    headers = _conditional_headers(etag, last_modified)
    all_permanent = True
    for hops in range(max_redirects + 1):
        request_url = _checked_url(url)
        if guard is not None:
            await guard.check(request_url)
        try:
            async with client.stream(
                "GET", request_url, headers=headers, follow_redirects=False
            ) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    all_permanent = all_permanent and response.status_code in _PERMANENT
                    url = urljoin(str(response.url), location)
                    continue
                result = await _read_result(response, etag, last_modified, max_bytes)
                if hops and all_permanent:
                    result = replace(result, moved_to=str(request_url))
                return result
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
    elif status == 410:
        raise SourceGone(f"{host} says this address is gone for good (410)")
    elif status == 404:
        raise FeedNotFound(f"{host} has nothing at this address (404)")
    else:
        retry_after = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("retry-after"), _now())
        raise SourceHttpError(
            f"{host} answered {status} {response.reason_phrase}".strip(),
            status=status,
            retry_after=retry_after,
        )
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


def _now() -> datetime:
    return datetime.now(UTC)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date); None when unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)
