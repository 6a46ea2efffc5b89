"""The `akhbar` command: run the bot, ingest sources, import files, show statistics."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from bot import event_loop, source_commands
from bot.config import (
    DATABASE_URL_ENV,
    TOKEN_ENV,
    TOKEN_FORM,
    Config,
    load_config,
    postgres_url_problem,
)
from bot.errors import AkhbarError, BackupError, ConfigError
from bot.ingestion.service import SourceReport
from bot.logs import configure_logging, redact_standard_streams, token_forms
from bot.ops import backup as backups
from bot.ops import probe, webhook_secret
from bot.services import open_services
from storage import stats as storage_stats
from storage.postgres import redacted

if TYPE_CHECKING:
    from bot.ptb.context import AkhbarApp
    from storage.copying import TableCopied

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
    commands.add_parser("run", help="run the bot (polling or webhook) and poll the sources")
    deliver = commands.add_parser(
        "deliver", help="send the queued messages only (`akhbar run` starts it itself)"
    )
    deliver.add_argument(
        "--worker-id", default="", help="the claim id of this sender (default: a new one)"
    )
    deliver.add_argument(
        "--child", action="store_true", help="started by akhbar run: orders on stdin, to its end"
    )
    sandbox = commands.add_parser(
        "sandbox", help="try the bot without Telegram: a local web chat with the real bot"
    )
    sandbox.add_argument("--port", type=int, default=8765, help="web chat port (0 = any free)")
    sandbox.add_argument("--open", action="store_true", help="open the page in a browser")
    sandbox.add_argument("--fresh", action="store_true", help="start from an empty database")
    sandbox.add_argument(
        "--listen",
        default="127.0.0.1",
        metavar="HOST",
        help="address to listen on (default: %(default)s; anything else is reachable"
        " from other machines)",
    )
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
    _ops_commands(commands)
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


def _ops_commands(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("health", help="ask the running bot whether it is ready (exit 0 or 1)")
    backup = commands.add_parser("backup", help="copy the live database and verify the copy")
    backup.add_argument(
        "path", type=Path, nargs="?", default=None, help="target file (default: [backup] directory)"
    )
    restore = commands.add_parser("restore", help="put a backup back (the bot must be stopped)")
    restore.add_argument("path", type=Path, help="a backup made by `akhbar backup`")
    db = commands.add_parser("db", help="the database: copy it from SQLite to PostgreSQL")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    copy = db_commands.add_parser(
        "copy", help="copy a SQLite database into an empty PostgreSQL database, and verify it"
    )
    copy.add_argument("--from", dest="source", type=Path, default=None, metavar="SQLITE_FILE",
                      help="the SQLite database (default: [storage] path)")  # fmt: skip
    copy.add_argument("--to", dest="target", default=None, metavar="POSTGRESQL_URL",
                      help="default: AKHBAR_DATABASE_URL or [storage] url (better than here,"
                      " where other users of the machine can read the password)")  # fmt: skip
    copy.add_argument("--force", action="store_true",
                      help="replace what the PostgreSQL database already holds")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"akhbar: {error}", file=sys.stderr)
        return EXIT_USAGE
    config = webhook_secret(config)
    secrets = (*_secrets(config), *_password_forms(getattr(args, "target", None) or ""))
    redact_standard_streams(*secrets)
    configure_logging(*secrets, level=config.logging.level, format=config.logging.format)
    try:
        if args.command == "run":
            return _run(config, args.config)
        if args.command == "sandbox":
            return _sandbox(config, args)
        if args.command == "import":
            _check_import_file(args.path)  # before anything is created for it
        if args.command in _NEEDS_DATABASE:
            _check_database(config, args.config)
        if args.command in _FILLING_COMMANDS:
            _make_default_data_folder(config, args.config)
        return event_loop.run(_COMMANDS[args.command](config, args))
    except AkhbarError as error:
        print(f"akhbar: {error}", file=sys.stderr)
        return 1


def _check_import_file(path: Path) -> None:
    if not path.exists():
        raise AkhbarError(f"{path}: no such file")
    if not path.is_file():
        raise AkhbarError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise AkhbarError(f"{path}: the file is empty: it holds no news")


def _check_database(config: Config, config_path: Path) -> None:
    """A database the bot has not made yet is said so, with what makes one; a folder that
    is not there and is not the default one is more likely a typo, reported as such later."""
    if config.storage.is_postgres:
        return  # connecting says when the database has no schema yet
    path = Path(config.storage.path)
    expected_folder = path.parent.is_dir() or path.parent == config_path.parent / "data"
    if config.storage.path != ":memory:" and expected_folder and not path.exists():
        raise AkhbarError(
            f"no database yet at {path}: start the bot (scripts/run-bot.sh)"
            " or import news (akhbar import FILE) first"
        )


def _quiet_source_warnings() -> None:
    """The commands that report each source themselves say its failure once, not again as a
    timestamped log line."""
    logging.getLogger("bot.ingestion").setLevel(logging.ERROR)


def _make_default_data_folder(config: Config, config_path: Path) -> None:
    """Create the `data` folder next to the config file when the database goes there.

    Only that folder: a missing folder anywhere else is more likely a typo, and is reported.
    """
    folder = Path(config.storage.path).parent
    if config.storage.is_postgres:
        return
    if folder == config_path.parent / "data" and not folder.exists():
        folder.mkdir()
        print(f"akhbar: created the folder {folder} for the database", file=sys.stderr)


def _run(config: Config, config_path: Path) -> int:
    if not config.token:
        print(
            f"akhbar: no bot token: set the environment variable {TOKEN_ENV}"
            " (export TELEGRAM_BOT_TOKEN=123456:ABC...) or [telegram] token in the config file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not TOKEN_FORM.fullmatch(config.token):
        print(f"akhbar: the bot token is malformed: {_CHECK_TOKEN}", file=sys.stderr)
        return EXIT_USAGE
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    from bot.app import build_application
    from bot.ptb.sender_process import deliver_command, sender_worker_id

    sender = deliver_command(config_path, sender_worker_id(config))
    # A database in memory is this process's alone: its sender could not see it.
    own_process = config.delivery.own_process and config.storage.path != ":memory:"
    app = build_application(config, sender=sender if own_process else None)
    api = config.telegram.api_base_url
    try:
        event_loop.run(_serve(app, config, config_path))
    except InvalidToken:
        print(f"akhbar: {api} rejected the bot token: {_CHECK_TOKEN}", file=sys.stderr)
        return EXIT_USAGE
    except TelegramError as error:
        # BadRequest is a NetworkError to python-telegram-bot, but the API did answer.
        unreachable = isinstance(error, NetworkError) and not isinstance(error, BadRequest)
        problem = "cannot reach the Telegram Bot API at" if unreachable else "start-up refused by"
        print(f"akhbar: {problem} {api}: {error}", file=sys.stderr)
        return 1
    return 0


def _sandbox(config: Config, args: argparse.Namespace) -> int:
    # `sandbox` and `emulator` are top-level packages of the repository, not in the wheel: an
    # editable install from a clone finds them next to `bot/`.
    clone = Path(__file__).resolve().parents[1]
    if (clone / "sandbox" / "__init__.py").is_file() and str(clone) not in sys.path:
        sys.path.append(str(clone))
    try:
        from sandbox import PortInUse, SandboxOptions, run_sandbox
    except ImportError:
        print(
            "akhbar: the sandbox needs a clone of the repository (the `sandbox` and `emulator`"
            " packages are not installed); run it from the clone's folder",
            file=sys.stderr,
        )
        return EXIT_USAGE
    options = SandboxOptions(
        port=args.port, host=args.listen, open_browser=args.open, fresh=args.fresh
    )
    try:
        event_loop.run(run_sandbox(config, options))
    except PortInUse as error:
        print(f"akhbar: {error}; choose another with --port N (0 = any free port)", file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _serve(app: AkhbarApp, config: Config, config_path: Path) -> None:
    """Initialise the bot (getMe) first, then take the database's lock and run until SIGTERM.

    Initialised here, a rejected token or an unreachable API raises alone, before any folder is
    made; serving finds the bot already initialised.
    """
    from bot.ptb.serving import serve

    await app.initialize()
    _make_default_data_folder(config, config_path)  # once Telegram has accepted the token
    # Held while the bot runs: `akhbar restore` refuses to replace the database under it.
    with _database_lock(config):
        await serve(app, config)


def _database_lock(config: Config) -> contextlib.AbstractContextManager[None]:
    # On PostgreSQL several processes share the database: the file lock is SQLite's alone.
    if config.storage.is_postgres or config.storage.path == ":memory:":
        return contextlib.nullcontext()
    return backups.hold_database(Path(config.storage.path))


def _secrets(config: Config) -> tuple[str, ...]:
    """Every secret the process knows, in every form it may be written in."""
    return (
        *token_forms(config.token),
        config.telegram.secret_token.get_secret_value(),
        config.http.metrics_token.get_secret_value(),
        *_password_forms(config.storage.location),
    )


def _password_forms(url: str) -> tuple[str, ...]:
    """A database URL's password as written in it, decoded, and encoded again."""
    if not url.startswith(("postgresql://", "postgres://")):
        return ()
    try:
        written = urlsplit(url).password
    except ValueError:  # not a URL urlsplit reads: what lies between "user:" and "@"
        found = re.match(r"[a-z]+://[^:/@]*:([^@]*)@", url)
        written = found.group(1) if found else None
    if not written:
        return ()
    return (written, unquote(written), quote(unquote(written), safe=""))


def _print_report(number: int, total: int, report: SourceReport) -> None:
    if report.failed:
        outcome = f"failed: {report.error}"
    elif report.not_modified:
        outcome = "not modified"
    else:
        outcome = f"{report.new} new, {report.duplicate} duplicate"
        if report.shortened:
            outcome += f" ({report.shortened} shortened to the [ingestion] title/body limits)"
    print(f"[{number}/{total}] {report.name}: {outcome}", file=sys.stderr, flush=True)


def _print_summary(reports: Sequence[SourceReport]) -> None:
    width = max([len(r.name) for r in reports] + [6])
    print(f"{'source':<{width}}  {'new':>6}  {'duplicate':>9}  failed")
    for r in reports:
        print(f"{r.name:<{width}}  {r.new:>6}  {r.duplicate:>9}  {'yes' if r.failed else 'no'}")


async def _ingest(config: Config, args: argparse.Namespace) -> int:
    _quiet_source_warnings()
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
    _quiet_source_warnings()
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
    if not report.failed and report.new + report.duplicate == 0:
        print(f"akhbar: {args.path} held no news: nothing was imported", file=sys.stderr)
        return 1
    return 1 if report.failed else 0


async def _stats(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config, create=False)
    try:
        numbers = await storage_stats.collect(services.db)
        outbox = await services.outbox.stats()
    finally:
        await services.close()
    print(f"database: {redacted(config.storage.location)}")
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
    services = await open_services(config, create=False)
    try:
        queued = await services.digests.send_now(args.chat)
    finally:
        await services.close()
    target = f"chat {args.chat}" if args.chat is not None else "all subscribed chats"
    if queued == 0:
        print(f"no digest queued for {target}: nothing new to send")
    else:
        digests = "1 digest" if queued == 1 else f"{queued} digests"
        print(f"{digests} queued for {target}; the running bot delivers them")
    return 0


async def _sources(config: Config, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        return await source_commands.run(services, args)
    finally:
        await services.close()


_CHECK_TOKEN = (
    f"check {TOKEN_ENV} (or [telegram] token): it must be the whole token @BotFather gave,"
    " in the form 123456789:AAE…"
)
# The commands that may start a new database; the others need the bot's existing one.
_FILLING_COMMANDS = frozenset({"ingest", "import"})  # and run
_NEEDS_DATABASE = frozenset({"stats", "digest", "deliver"})


async def _deliver(config: Config, args: argparse.Namespace) -> int:
    from bot.delivery.worker import default_worker_id
    from bot.ptb.sender_process import run_sender

    # Never the bot's own id by default: a sender taking back the rows of one that is sending them.
    worker_id = args.worker_id or default_worker_id()
    return 0 if await run_sender(config, worker_id=worker_id, child=args.child) else 1


async def _health(config: Config, args: argparse.Namespace) -> int:
    url = probe.readyz_url(config)
    if url is None:
        print("akhbar: the HTTP server is off ([http] enabled = false)", file=sys.stderr)
        return 1
    answer = await probe.probe(url)
    for line in answer.lines:
        print(line)
    print("ready" if answer.ready else "not ready")
    return 0 if answer.ready else 1


async def _backup(config: Config, args: argparse.Namespace) -> int:
    if config.storage.is_postgres:
        print(f"akhbar: {backups.use_pg_dump(config.storage.location)}", file=sys.stderr)
        return 1
    database = Path(config.storage.path)
    target = args.path or Path(config.backup.directory) / backups.backup_name(datetime.now(UTC))
    try:
        await backups.back_up(database, target)
    except BackupError as error:
        print(f"akhbar: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backed up {database} to {target} (integrity check: ok)")
    return 0


async def _restore(config: Config, args: argparse.Namespace) -> int:
    if config.storage.is_postgres:
        print(f"akhbar: {backups.use_pg_dump(config.storage.location)}", file=sys.stderr)
        return 1
    database = Path(config.storage.path)
    try:
        await asyncio.to_thread(backups.restore, args.path, database)
    except AkhbarError as error:  # BackupError, DatabaseBusy
        print(f"akhbar: restore refused: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.path} to {database}")
    return 0


async def _db(config: Config, args: argparse.Namespace) -> int:
    source = args.source or Path(config.storage.path)
    target = args.target or (config.storage.url.get_secret_value() if config.storage.url else "")
    if not target:
        print(
            "akhbar: say where to copy to: --to postgresql://user@host/database, or set"
            f" {DATABASE_URL_ENV} (or [storage] url)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if problem := postgres_url_problem(target):
        raise AkhbarError(f"the PostgreSQL URL {problem}")
    # Here, not at the top: the copy's code (~1.2 MB) is for this command alone, never `run`.
    from bot.ops.db_copy import copy_to_postgres

    print(f"copying {source} to {redacted(target)}…", file=sys.stderr, flush=True)
    report = await copy_to_postgres(source, target, replace=args.force, on_table=_print_copied)
    rate = report.rows / report.seconds if report.seconds else 0
    print(
        f"copied {report.rows} rows in {len(report.tables)} tables in {report.seconds:.1f} s"
        f" ({rate:.0f} rows/s); counts and a sample of rows verified"
    )
    return 0


def _print_copied(table: TableCopied) -> None:
    print(f"{table.name}: {table.rows} rows ({table.seconds:.1f} s)", file=sys.stderr, flush=True)


_COMMANDS = {
    "ingest": _ingest,
    "import": _import,
    "stats": _stats,
    "digest": _digest,
    "sources": _sources,
    "health": _health,
    "deliver": _deliver,
    "backup": _backup,
    "restore": _restore,
    "db": _db,
}

if __name__ == "__main__":
    sys.exit(main())
