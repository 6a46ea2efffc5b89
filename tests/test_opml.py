"""OPML: read safely, categories become topics, import reports each feed, export round-trips."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.errors import BadOpml
from bot.ingestion.opml import read_opml, write_opml
from bot.models import Source
from tests.support.feeds import item, rss

OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0"><head><title>Presse</title></head><body>
  <outline text="Maroc">
    <outline text="Local" type="rss" xmlUrl="{local}"/>
    <outline text="Intranet" type="rss" xmlUrl="http://10.0.0.5/feed"/>
  </outline>
  <outline text="Monde" type="rss" xmlUrl="{other}" category="/monde"/>
  <outline text="Fichier" type="rss" xmlUrl="file:///etc/passwd"/>
  <outline text="Boucle" type="rss" xmlUrl="http://[::1]:9/rss"/>
</body></opml>"""


def test_categories_and_parent_outlines_become_topics():
    text = OPML.format(local="https://news.example/feed", other="https://w.example/rss")
    entries = read_opml(text.encode(), max_bytes=100_000)
    assert [(e.url, e.topics) for e in entries][:3] == [
        ("https://news.example/feed", ("maroc",)),
        ("http://10.0.0.5/feed", ("maroc",)),
        ("https://w.example/rss", ("monde",)),
    ]


@pytest.mark.parametrize(
    "document",
    [
        # Billion laughs.
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="http://x.example/"/></body></opml>',
        # External entity.
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="http://x.example/"/></body></opml>',
        "<opml><body><outline",  # not well-formed
        "<html><body>hello</body></html>",  # not OPML
    ],
)
def test_hostile_or_broken_documents_are_refused(document):
    with pytest.raises(BadOpml):
        read_opml(document.encode(), max_bytes=100_000)


def test_a_document_over_the_size_cap_is_refused_unread():
    with pytest.raises(BadOpml, match="larger than"):
        read_opml(b"<opml>" + b" " * 2000 + b"</opml>", max_bytes=1024)


def test_export_then_import_keeps_addresses_and_topics():
    sources = [
        Source("هسبريس", "https://www.hespress.com/feed", topics=("maroc", "سياسة")),
        Source("f24", "https://www.france24.com/ar/rss", language="fr"),
    ]
    entries = read_opml(write_opml(sources), max_bytes=100_000)
    assert [(e.url, e.title, e.topics) for e in entries] == [
        ("https://www.hespress.com/feed", "هسبريس", ("maroc", "سياسة")),
        ("https://www.france24.com/ar/rss", "f24", ()),
    ]


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_cli_import_reports_added_present_and_refused_then_lists_and_exports(
    tmp_path, db_path, feeds
):
    feeds.publish("/feed.xml", rss(item("خبر", "https://news.test/1")))
    config = tmp_path / "config.toml"
    where = "url" if isinstance(db_path, str) else "path"
    config.write_text(
        f'[storage]\n{where} = "{db_path}"\n'
        # Only the test server's address is allowed, not all of loopback.
        '[ingestion]\nallowed_networks = ["127.0.0.1/32"]\n',
        encoding="utf-8",
    )
    opml = tmp_path / "press.opml"
    text = OPML.format(local=feeds.url("/feed.xml"), other=feeds.url("/world.xml"))
    opml.write_text(text, encoding="utf-8")
    code, out, err = await run_cli("--config", str(config), "sources", "import", str(opml))
    assert code == 0, err
    assert "added: Local" in out and "added: Monde" in out
    assert "refused: http://10.0.0.5/feed (private-address)" in out
    assert "refused: file:///etc/passwd (bad-address)" in out
    assert "refused: http://[::1]:9/rss (private-address)" in out
    assert "2 added, 0 already present, 3 refused" in out
    assert feeds.hits["/feed.xml"] == 0  # importing adds; the polling loop fetches
    code, again, err = await run_cli("--config", str(config), "sources", "import", str(opml))
    assert f"already present: {feeds.url('/feed.xml')}" in again
    assert "0 added, 2 already present, 3 refused" in again
    code, listing, _ = await run_cli("--config", str(config), "sources", "list")
    assert "Local" in listing and "[polled]" in listing and "2 sources" in listing
    code, exported, _ = await run_cli("--config", str(config), "sources", "export")
    assert f'xmlUrl="{feeds.url("/feed.xml")}"' in exported and 'category="/maroc"' in exported
    code, out, err = await run_cli("--config", str(config), "sources", "pause", "Local")
    assert code == 0 and "Local: paused" in out
    code, out, err = await run_cli("--config", str(config), "sources", "remove", "Nope")
    assert code == 1 and "no source is called" in err
    feeds.publish("/extra.xml", rss(item("خبر إضافي", "https://news.test/extra")))
    code, out, err = await run_cli(
        "--config", str(config), "sources", "add", feeds.url("/extra.xml"), "--topic", "sport",
        "--name", "extra",
    )  # fmt: skip
    assert code == 0, err
    assert f"added extra: {feeds.url('/extra.xml')}, 1 articles now" in out and "خبر إضافي" in out
    code, out, err = await run_cli("--config", str(config), "sources", "add", "http://10.0.0.9/")
    assert code == 1 and "private-address" in err
