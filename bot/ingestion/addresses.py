"""Which hosts a source may point at: public addresses only, unless the operator allows more.

A news bot fetches the addresses people give it (`/addsource`, OPML files, redirects), so
without this check it would fetch the operator's router, cloud metadata or admin pages.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import httpx

from bot.errors import FetchError, PrivateAddress

__all__ = ["AddressGuard", "Resolver"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Every address a host name resolves to, as text."""


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _is_internal(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


class AddressGuard:
    """Refuses URLs whose host is, or resolves to, an internal address not explicitly allowed."""

    def __init__(self, allowed_networks: Sequence[str] = (), resolver: Resolver | None = None):
        self._allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        self._resolve = resolver or system_resolver

    async def check(self, url: httpx.URL) -> None:
        """Raise PrivateAddress when `url` leads inside; FetchError when its host is unknown."""
        host = url.host
        for text in await self._addresses(host, url.port or (443 if url.scheme == "https" else 80)):
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if _is_internal(address) and not any(address in net for net in self._allowed):
                raise PrivateAddress(f"{host} leads to a private or local address")

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return ["127.0.0.1"]
        try:
            found = await self._resolve(host, port)
        except OSError as error:
            raise FetchError(f"{host} is not a known host name") from error
        if not found:
            raise FetchError(f"{host} is not a known host name")
        return found
