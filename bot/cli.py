"""The `akhbar` command: run the bot, ingest sources, import files, show statistics."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import source_commands
from bot.config import TOKEN_ENV, Config, load_config
from bot.errors import ConfigError
from bot.ingestion.service import SourceReport
from bot.logs import configure_logging
from bot.services import open_services
from storage import stats as storage_stats

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="akhbar", description="Akhbar (أخبار): a Telegram bot that distributes the news."
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="configuration file (default: %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling) and poll the sources")
    commands.add_parser("ingest", help="fetch every configured source once and report")
    importer = commands.add_parser("import", help="import a news dump or a feed file")
    importer.add_argument("path", type=Path, help="a plain-text news dump or an RSS/Atom file")
    importer.add_argument("--source", default=None, help="source name (default: file name)")
    importer.add_argument("--language", choices=("ar", "fr", "en"), default="ar")
    importer.add_argument("--topic", action="append", default=[], help="topic (repeatable)")
    commands.add_parser("stats", help="show what the database holds")
    _add_sources_parser(commands)
    digest = commands.add_parser("digest", help="digests: compose and queue one now")
    digest_commands = digest.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    send = digest_commands.add_parser(
        "send",
        help="queue a digest now for every subscribed or scheduled chat (or one);"
        " the running bot delivers it",
    )
    send.add_argument("--chat", type=int, default=None, help="only this chat id")
    return parser


def _add_sources_parser(commands) -> None:
    parser = commands.add_parser("sources", help="manage the news sources (kept in the database)")
    actions = parser.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every source with its health")
    add = actions.add_parser("add", help="fetch a feed (or a site's page) once, then add it")
    add.add_argument("url")
    add.add_argument("--topic", action="append", default=[], help="topic (repeatable)")
    add.add_argument("--language", choices=("ar", "fr", "en"), default=None)
    add.add_argument("--name", default=None, help="source name (default: from the address)")
    for action in ("remove", "pause", "resume"):
        actions.add_parser(action, help=f"{action} a source").add_argument("name")
    importer = actions.add_parser("import", help="add the feeds of an OPML file")
    importer.add_argument("path", type=Path)
    importer.add_argument("--language", choices=("ar", "fr", "en"), default="ar")
    exporter = actions.add_parser("export", help="write every source as OPML (default: stdout)")
    exporter.add_argument("path", type=Path, nargs="?", default=None)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"akhbar: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(config.token)
    if args.command == "run":
        return _run(config)
    return asyncio.run(_COMMANDS[args.command](config, args))


def _run(config: Config) -> int:
    if not config.token:
        print(
            f"akhbar: no bot token: set the environment variable {TOKEN_ENV}"
            " (export TELEGRAM_BOT_TOKEN=123456:ABC...) or [telegram] token in the config file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from telegram import Update

    from bot.app import build_application

    app = build_application(config)
    app.run_polling(allowed_updates=Update.ALL_TYPES, timeout=config.telegram.poll_timeout_seconds)
    return 0


def _print_report(number: int, total: int, report: SourceReport) -> None:
    if report.failed:
        outcome = f"failed: {report.error}"
    elif report.not_modified:
        outcome = "not modified"
    else:
        outcome = f"{report.new} new, {report.duplicate} duplicate"
    print(f"[{number}/{total}] {report.name}: {outcome}", file=sys.stderr, flush=True)


def _print_summary(reports: Sequence[SourceReport]) -> None:
    width = max([len(r.name) for r in reports] + [6])
    print(f"{'source':<{width}}  {'new':>6}  {'duplicate':>9}  failed")
    for r in reports:
        print(f"{r.name:<{width}}  {r.new:>6}  {r.duplicate:>9}  {'yes' if r.failed else 'no'}")


async def _ingest(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        polled = [s for s in await services.sources.all() if not s.is_paused]
        total = len(polled)
        print(f"ingesting {total} sources…", file=sys.stderr, flush=True)
        reports = await services.ingestion.ingest_all(
            polled, on_report=lambda n, r: _print_report(n, total, r)
        )
    finally:
        await services.close()
    _print_summary(reports)
    return 1 if any(r.failed for r in reports) else 0


async def _import(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        report = await services.ingestion.import_file(
            args.path,
            source=args.source or args.path.stem,
            language=args.language,
            topics=tuple(args.topic),
        )
    finally:
        await services.close()
    _print_report(1, 1, report)
    _print_summary([report])
    return 1 if report.failed else 0


async def _stats(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        numbers = await storage_stats.collect(services.db)
        outbox = await services.outbox.stats()
    finally:
        await services.close()
    print(f"database: {config.storage.path}")
    for name, value in numbers.items():
        print(f"{name}: {value}")
    print(
        f"outbox: {outbox.queued} queued, {outbox.sending} sending, {outbox.sent} sent,"
        f" {outbox.failed} failed"
    )
    rate = "—" if outbox.last_rate is None else f"{outbox.last_rate:.1f} messages/s"
    print(f"last broadcast rate: {rate}")
    return 0


async def _digest(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        queued = await services.digests.send_now(args.chat)
    finally:
        await services.close()
    target = f"chat {args.chat}" if args.chat is not None else "all subscribed chats"
    print(f"{queued} digest(s) queued for {target}; the running bot delivers them")
    return 0


async def _sources(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        return await source_commands.run(services, args)
    finally:
        await services.close()


_COMMANDS = {
    "ingest": _ingest,
    "import": _import,
    "stats": _stats,
    "digest": _digest,
    "sources": _sources,
}

if __name__ == "__main__":
    sys.exit(main())
