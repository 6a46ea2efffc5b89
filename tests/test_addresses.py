"""Sources may not lead to the operator's own network unless the operator allows it."""

from __future__ import annotations

import httpx
import pytest

from bot.errors import FetchError, PrivateAddress
from bot.ingestion.addresses import AddressGuard
from bot.ingestion.fetching import fetch_source
from tests.support.feeds import item, rss


async def fake_dns(host: str, port: int) -> list[str]:
    known = {"intranet.example": ["10.1.2.3"], "news.example": ["93.184.215.14"]}
    if host not in known:
        raise OSError("unknown host")
    return known[host]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://10.0.0.1/",
        "http://192.168.1.1/rss",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://0.0.0.0/",
        "http://intranet.example/feed",
    ],
)
async def test_internal_addresses_are_refused_by_default(url):
    with pytest.raises(PrivateAddress):
        await AddressGuard(resolver=fake_dns).check(httpx.URL(url))


async def test_public_addresses_pass_and_unknown_hosts_fail_plainly():
    guard = AddressGuard(resolver=fake_dns)
    await guard.check(httpx.URL("https://news.example/feed"))
    await guard.check(httpx.URL("http://93.184.215.14/"))
    with pytest.raises(FetchError) as refused:
        await guard.check(httpx.URL("http://nowhere.example/"))
    assert not isinstance(refused.value, PrivateAddress)


async def test_the_operator_may_allow_a_network():
    guard = AddressGuard(["127.0.0.0/8", "10.1.0.0/16"], resolver=fake_dns)
    await guard.check(httpx.URL("http://127.0.0.1:9/feed"))
    await guard.check(httpx.URL("http://intranet.example/feed"))
    with pytest.raises(PrivateAddress):
        await guard.check(httpx.URL("http://192.168.1.1/"))


async def test_a_loopback_feed_is_not_fetched_by_default(feeds):
    feeds.publish("/feed.xml", rss(item("خبر", "https://news.test/a")))
    async with httpx.AsyncClient() as client:
        with pytest.raises(PrivateAddress):
            await fetch_source(
                client, feeds.url("/feed.xml"), etag=None, last_modified=None,
                max_bytes=100_000, guard=AddressGuard(),
            )  # fmt: skip
    assert feeds.hits["/feed.xml"] == 0


async def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed(feeds):
    feeds.redirect("/hop.xml", "http://10.0.0.7/admin", status=302)
    async with httpx.AsyncClient() as client:
        with pytest.raises(PrivateAddress):
            await fetch_source(
                client, feeds.url("/hop.xml"), etag=None, last_modified=None,
                max_bytes=100_000, guard=AddressGuard(["127.0.0.0/8"]),
            )  # fmt: skip
    assert feeds.hits["/hop.xml"] == 1
