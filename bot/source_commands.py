"""`akhbar sources …`: the operators' chat commands for sources, from a shell."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from datetime import datetime

from bot.errors import AkhbarError, BadOpml, SourceExists, SourceNotFound
from bot.ingestion import health
from bot.models import SourceHealth
from bot.services import Services

EXIT_FAILED = 1


async def run(services: Services, args: argparse.Namespace) -> int:
    action = args.sources_command
    try:
        if action == "list":
            _print_list(await services.sources.health())
        elif action == "add":
            return await _add(services, args)
        elif action in ("remove", "pause", "resume"):
            await getattr(services.sources, action)(args.name)
            print(f"{args.name}: {action}d" if action != "pause" else f"{args.name}: paused")
        elif action == "import":
            return await _import(services, args)
        elif action == "export":
            await _export(services, args)
    except SourceNotFound as error:
        print(f"akhbar: no source is called {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _print_list(items: list[SourceHealth]) -> None:
    for item in items:
        s = item.source
        state = f"paused ({s.paused_reason})" if s.is_paused else "polled"
        print(f"{s.name}  {s.url}  [{state}]")
        error = f"{s.error_kind}: {s.last_error}" if s.error_kind else "—"
        print(
            f"    last success {_when(s.last_success_at)} · last error {error}"
            f" · {item.articles_per_day:.1f} articles/day · next poll {_when(s.next_poll_at)}"
        )
    print(f"{len(items)} sources")


async def _add(services: Services, args: argparse.Namespace) -> int:
    try:
        preview = await services.sources.preview(
            args.url, topics=tuple(args.topic), language=args.language
        )
        source = preview.source if args.name is None else replace(preview.source, name=args.name)
        await services.sources.add(source)
    except SourceExists:
        print("akhbar: this source is already there", file=sys.stderr)
        return EXIT_FAILED
    except AkhbarError as error:
        print(f"akhbar: cannot add it ({health.error_kind(error)}): {error}", file=sys.stderr)
        return EXIT_FAILED
    found = " (feed found in the page's links)" if preview.discovered else ""
    print(f"added {source.name}: {source.url}{found}, {preview.article_count} articles now")
    for title in preview.headlines:
        print(f"    {title}")
    return 0


async def _import(services: Services, args: argparse.Namespace) -> int:
    try:
        content = await asyncio.to_thread(args.path.read_bytes)
        report = await services.sources.import_opml(content, language=args.language)
    except OSError as error:
        print(f"akhbar: cannot read {args.path}: {error.strerror}", file=sys.stderr)
        return EXIT_FAILED
    except BadOpml as error:
        print(f"akhbar: {args.path}: {error}", file=sys.stderr)
        return EXIT_FAILED
    for name in report.added:
        print(f"added: {name}")
    for url in report.present:
        print(f"already present: {url}")
    for url, reason in report.refused:
        print(f"refused: {url} ({reason})")
    print(
        f"{len(report.added)} added, {len(report.present)} already present,"
        f" {len(report.refused)} refused"
    )
    return 0


async def _export(services: Services, args: argparse.Namespace) -> None:
    document = await services.sources.export_opml()
    if args.path is None:
        sys.stdout.write(document.decode("utf-8"))
    else:
        await asyncio.to_thread(args.path.write_bytes, document)
        print(f"wrote {args.path}", file=sys.stderr)
