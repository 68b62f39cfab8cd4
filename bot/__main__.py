"""Command-line interface: ``python -m bot [--config FILE] COMMAND``, installed as ``sauciens``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
import traceback
from pathlib import Path

from bot.logs import event
from bot.settings import ConfigError, Settings, load_settings
from db.lock import DatabaseInUse, DatabaseLock
from db.migrate import SchemaTooNew

log = logging.getLogger("bot")


def parser(prog: str = "sauciens") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Sauciens: volunteer call-out bot")
    p.add_argument("--config", type=Path, default=None, help="TOML config file (default: config.toml)")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("migrate", help="bring the database to the latest version")
    bak = sub.add_parser("backup", help="write a consistent copy of the database (also while the bot runs)")
    bak.add_argument("file", type=Path)
    bak.add_argument("--force", action="store_true", help="replace FILE if it exists")
    res = sub.add_parser("restore", help="check a backup and put it in place of the database (bot stopped)")
    res.add_argument("file", type=Path)
    sub.add_parser("demo", help="a whole mobilisation, offline, in the local Telegram sandbox")
    vol = sub.add_parser("volunteers", help="import or export the volunteer list (CSV)")
    vsub = vol.add_subparsers(dest="action", required=True)
    imp = vsub.add_parser("import", help="import volunteers from a CSV file (all or nothing)")
    imp.add_argument("file", type=Path)
    vsub.add_parser("export", help="write all volunteers as CSV to standard output")
    al = sub.add_parser("alerts", help="list alerts or export their answers")
    asub = al.add_subparsers(dest="action", required=True)
    asub.add_parser("list", help="list alerts")
    exp = asub.add_parser("export", help="write an alert's recipients and answers as CSV")
    exp.add_argument("alert", help="an alert id, or 'latest'")
    aud = sub.add_parser("audit", help="print the audit trail as CSV, or check its chain ('audit verify')")
    aud.add_argument(
        "check", nargs="?", choices=["verify"], metavar="verify", help="check that no entry was changed or removed"
    )
    aud.add_argument("--since", metavar="DATE", help="from this day (YYYY-MM-DD) or ISO time on (Riga time)")
    aud.add_argument("--actor", metavar="ID", help="only this person's actions (a Telegram id)")
    aud.add_argument("--action", metavar="NAME", help="only this action, e.g. export")
    aud.add_argument("--org", metavar="CODE", help="only this organisation's entries")
    orgs = sub.add_parser("orgs", help="the coalition's organisations")
    osub = orgs.add_subparsers(dest="action", required=True)
    oadd = osub.add_parser("add", help="add an organisation")
    oadd.add_argument("code", help="a short code: 2-16 letters, digits, _ or -")
    oadd.add_argument("name", help="the name shown on its alerts")
    oadd.add_argument("--areas", nargs="+", default=[], help="municipalities (ATVK codes or names) it may alert")
    oadd.add_argument("--countries", nargs="+", default=[], help="countries abroad (ISO codes or names, * for all)")
    oren = osub.add_parser("rename", help="change the name an organisation's alerts show")
    oren.add_argument("code", help="the organisation's code")
    oren.add_argument("name", help="its new name")
    osub.add_parser("list", help="list the organisations (CSV)")
    co = sub.add_parser("coordinators", help="the organisations' coordinators and organisation admins")
    csub = co.add_subparsers(dest="action", required=True)
    cadd = csub.add_parser("add", help="make someone a coordinator (or organisation admin) of an organisation")
    cadd.add_argument("telegram_id", type=telegram_id, help="their numeric Telegram id")
    cadd.add_argument("--org", required=True, help="the organisation's code")
    cadd.add_argument("--role", choices=["coordinator", "orgadmin"], default="coordinator")
    cadd.add_argument("--areas", nargs="+", default=[], help="a narrower scope: municipalities (codes or names)")
    cadd.add_argument("--countries", nargs="+", default=[], help="a narrower scope abroad: countries, * for all")
    csub.add_parser("list", help="list the coordinators (CSV)")
    crev = csub.add_parser("revoke", help="take every right away from a coordinator, at once")
    crev.add_argument("telegram_id", type=telegram_id, help="their numeric Telegram id")
    return p


def telegram_id(text: str) -> int:
    """A Telegram user id: a positive whole number."""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Telegram id (a positive number)")
    return int(text)


def main(argv: list[str] | None = None, prog: str = "sauciens") -> int:
    """The ``sauciens`` console script (``python -m bot`` passes its own name for the usage line)."""
    args = parser(prog).parse_args(argv)
    command = args.command or "run"
    settings: Settings | None = None
    try:
        if command == "demo":
            from bot.sandbox.demo import run_demo

            return asyncio.run(run_demo())
        settings = load_settings(args.config or Path("config.toml"), required=args.config is not None)
        from bot.logs import setup_logging

        token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
        setup_logging(settings.logging.level, settings.logging.format, secrets=[token])
        if command == "run":
            settings.require_token()
            # One bot per database; restore refuses while it runs. (An in-memory database is nobody else's.)
            in_memory = str(settings.database.path) == ":memory:"
            with contextlib.nullcontext() if in_memory else DatabaseLock(settings.database.path):
                return asyncio.run(run(settings))
        from bot import cli

        if command == "migrate":
            return asyncio.run(cli.migrate_command(settings))
        if command == "backup":
            return asyncio.run(cli.backup_command(settings, args.file, force=args.force))
        if command == "restore":
            return asyncio.run(cli.restore_command(settings, args.file))
        if command == "volunteers":
            if args.action == "import":
                return asyncio.run(cli.import_volunteers(settings, args.file))
            return asyncio.run(cli.export_volunteers(settings, sys.stdout))
        if command == "alerts":
            if args.action == "list":
                return asyncio.run(cli.list_alerts(settings, sys.stdout))
            return asyncio.run(cli.export_alert(settings, args.alert, sys.stdout))
        if command == "audit":
            if args.check == "verify":
                if any(v is not None for v in (args.since, args.actor, args.action, args.org)):
                    print("sauciens: audit verify checks the whole trail and takes no filters", file=sys.stderr)
                    return 2
                return asyncio.run(cli.verify_audit(settings, sys.stdout))
            return asyncio.run(
                cli.audit_trail(
                    settings, sys.stdout, since=args.since, actor=args.actor, action=args.action, organisation=args.org
                )
            )
        if command == "orgs":
            if args.action == "add":
                return asyncio.run(cli.add_organisation(settings, args.code, args.name, args.areas, args.countries))
            if args.action == "rename":
                return asyncio.run(cli.rename_organisation(settings, args.code, args.name))
            return asyncio.run(cli.list_organisations(settings, sys.stdout))
        if command == "coordinators":
            if args.action == "add":
                return asyncio.run(
                    cli.add_coordinator(settings, args.telegram_id, args.org, args.role, args.areas, args.countries)
                )
            if args.action == "revoke":
                return asyncio.run(cli.revoke_coordinator(settings, args.telegram_id))
            return asyncio.run(cli.list_coordinators(settings, sys.stdout))
    except ConfigError as exc:
        print(f"sauciens: {exc}", file=sys.stderr)
        return 2
    except DatabaseInUse as exc:
        print(f"sauciens: {exc}; stop it first (only one bot may use a database)", file=sys.stderr)
        return 1
    except SchemaTooNew as exc:
        print(f"sauciens: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return report_failure(exc, settings)
    return 0


def report_failure(exc: BaseException, settings: Settings | None) -> int:
    """Say in one line why the bot could not work (a traceback only for the unexpected),
    never showing the token: Telegram libraries put it in URLs and some messages."""
    secret = settings.telegram.token.get_secret_value() if settings and settings.telegram.token else ""

    def redact(text: str) -> str:
        return text.replace(secret, "<token>") if secret else text

    api = redact(settings.telegram.api_base_url) if settings else "?"
    errors = sys.modules.get("telegram.error")
    if errors is not None and isinstance(exc, errors.InvalidToken):
        print(
            f"sauciens: telegram.token was rejected by the Bot API at {api}: check the token from @BotFather "
            "(config file or SAUCIENS_TELEGRAM__TOKEN)",
            file=sys.stderr,
        )
        return 2
    if (
        errors is not None
        and isinstance(exc, (errors.TimedOut, errors.NetworkError))
        and not isinstance(exc, errors.BadRequest)
    ):
        print(f"sauciens: cannot reach the Telegram Bot API at {api}: {redact(str(exc))}", file=sys.stderr)
        return 1
    if errors is not None and isinstance(exc, errors.TelegramError):
        print(f"sauciens: the Telegram Bot API refused a request: {redact(str(exc))}", file=sys.stderr)
        return 1
    print(redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    return 1


async def run(settings: Settings) -> int:
    from bot.app import Sauciens

    event(log, "database", path=str(settings.database.path))
    bot = Sauciens(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        # start() waits for Telegram if it is down; SIGTERM meanwhile stops the bot cleanly
        starting = asyncio.create_task(bot.start())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await bot.stop()
            return 0
        starting.result()
        # The process lives on what start-up built (libraries, catalogues, places): kept out
        # of the garbage collector's full passes, which building a preview for tens of
        # thousands of people would otherwise run over all of it (bench/README.md, roster).
        gc.collect()
        gc.freeze()
    except BaseException:
        # Close what was opened (the database's worker thread would keep the process alive).
        try:
            await bot.stop()
        except Exception:
            event(log, "cleanup_failed", level=logging.DEBUG, exc_info=True)
        raise
    try:
        await stop.wait()
    finally:
        await bot.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m bot"))
