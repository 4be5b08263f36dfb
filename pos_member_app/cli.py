"""``pos-member``: the till's command line, and the composition root of the program.

    pos-member run [--data-dir DIR] [--config FILE] [--lang zh_CN|en]
    pos-member demo [--data-dir DIR] [--members N] [--lang zh_CN|en] [--no-gui]
    pos-member db upgrade [--data-dir DIR]
    pos-member db version [--data-dir DIR]
    pos-member enrol --server URL --code CODE [--device-name NAME] [--data-dir DIR]
                     [--admin-code NNN] [--admin-name NAME] [--admin-pin PIN | --no-admin]
    pos-member sync [--server URL] [--data-dir DIR]
    pos-member close-day [--server URL] [--data-dir DIR]

Bad arguments print a message and exit with status 2; a refusal by the core (bad config or
rules, no store set up, no credential store) prints its message and exits with status 1.
``close-day`` prints the day's report and exits 1 when anything stays unacknowledged, the
server cannot be reached or pulled events are held in quarantine; ``sync`` exits 1 when anything
stays unacknowledged or the server cannot be reached, and prints how many pulled events are held.
It lives outside the core (``pos_member``), which never imports the UI or the sync client;
it reaches them only lazily inside the commands that need them, so ``pos-member db`` and
``--help`` never import Qt or httpx. ``python -m pos_member_app`` runs the same command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pos_member.clock import SystemClock
from pos_member.config import APP_NAME, LANGUAGES, Config, is_path_text, load_config
from pos_member.errors import DomainError, StoreNotSetUp
from pos_member.hq_trust import hq_verify
from pos_member_app.console import os_error_line, utf8_when_redirected
from pos_member_app.logs import start_logging

if TYPE_CHECKING:
    from pos_member.bootstrap import App
    from pos_member.crypto import KeyStore

log = logging.getLogger(__name__)
TILL_PROGRAM = "pos-member-till"  # the windowed till program (build.spec, pyproject)


class ArgParser(argparse.ArgumentParser):
    """Bad arguments: the usage and one line naming the program, exit status 2 (also used by
    ``pos-member-server``)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog.split()[0]}: error: {message}\n")


def whole_number(text: str, *, least: int = 0, most: int | None = None,
                 too_large: str = "too large") -> int:
    """A whole number argument from ``least`` to ``most`` (also used by ``pos-member-server``);
    else an ``argparse`` refusal naming the value (``too_large``: what one over ``most`` is)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(
            f"must not be negative: {value}" if least == 0 else
            f"must be at least {least}: {value}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"{too_large}: {value}")
    return value


MAX_DEMO_MEMBERS = 1_000_000  # the largest store the quality bars speak of


def _member_count(text: str) -> int:
    return whole_number(text, most=MAX_DEMO_MEMBERS, too_large=f"at most {MAX_DEMO_MEMBERS:,}")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds: {text}")
    return value


def _path(text: str) -> Path:
    """A folder or file named on the command line (``config.is_path_text``, as in
    ``config.toml``)."""
    if not is_path_text(text):
        raise argparse.ArgumentTypeError(f"not a path: {text!r}")
    return Path(text).expanduser()


def _config_file(text: str) -> Path:
    """``--config``: a file that is there. A default config file may be missing (defaults);
    one named by hand and missing is a typo, never silently the defaults."""
    path = _path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"no config file {text}" if not path.exists() else f"not a file: {text}")
    return path


def _server_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises for a port that is not a number or out of range
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a server address (check the brackets and the "
                                         f"port): {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) server address: {text!r}")
    return text.rstrip("/")


def _enrolment_code(text: str) -> str:
    code = text.strip()
    if not 6 <= len(code) <= 64:
        raise argparse.ArgumentTypeError("an enrolment code has 6 to 64 characters")
    return code


def _device_name(text: str) -> str:
    name = text.strip()
    if not 1 <= len(name) <= 100:
        raise argparse.ArgumentTypeError("a device name has 1 to 100 characters")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgParser(prog="pos-member", description="POS Member — the membership till.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgParser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=_config_file,
                       help="config file (default: platform config dir)")
        p.add_argument("--data-dir", type=_path, help="where the till database lives")

    def gui(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=LANGUAGES, help="UI language (default: system)")
        when = p.add_mutually_exclusive_group()  # README: [--exit-after S | --exit-when-ready]
        when.add_argument(
            "--exit-after", type=_seconds, metavar="SECONDS",
            help="quit by itself after this long (smoke tests, headless runs)",
        )
        when.add_argument(
            "--exit-when-ready", action="store_true",
            help="quit as soon as the till is ready for a login (exit 0), or could not open "
                 "(exit 1): smoke tests that wait for the till, not for the clock",
        )

    run = sub.add_parser("run", help="open the till")
    common(run)
    gui(run)

    demo = sub.add_parser("demo", help="create the demo store (once) and open the till on it")
    common(demo)
    gui(demo)
    demo.add_argument("--members", type=_member_count, default=2000,
                      help="members to create on first run (default 2000), besides the "
                           "guides' month of registrations")
    demo.add_argument("--no-gui", action="store_true", help="create the demo store only")

    def timeout(p: argparse.ArgumentParser) -> None:
        p.add_argument("--timeout", type=_seconds, default=15.0, metavar="SECONDS",
                       help="how long to wait for the server per request (default 15)")

    enrol = sub.add_parser("enrol", help="enrol this fresh till with the central server")
    common(enrol)
    timeout(enrol)
    enrol.add_argument("--server", type=_server_url, required=True, metavar="URL",
                       help="the central server, e.g. https://hq.example.com")
    enrol.add_argument("--code", type=_enrolment_code, required=True,
                       help="the one-time enrolment code from HQ")
    enrol.add_argument("--device-name", type=_device_name, default=None, metavar="NAME",
                       help="this till's name at HQ (default: the computer's name)")
    enrol.add_argument("--admin-code", default="001", metavar="NNN",
                       help="staff number of this till's first administrator (default 001; "
                            "use a number no colleague of the store has)")
    enrol.add_argument("--admin-name", default="Administrator", metavar="NAME",
                       help="name of the first administrator (default Administrator)")
    first = enrol.add_mutually_exclusive_group()
    first.add_argument("--admin-pin", metavar="PIN",
                       help="the first administrator's PIN or password (asked for when "
                            "omitted and a terminal is attached)")
    first.add_argument("--no-admin", action="store_true",
                       help="create no administrator: the store's staff arrive from its other "
                            "tills with the first sync")
    for name, text in (("sync", "push unsent events and pull changes once"),
                       ("close-day", "closing time: push and pull everything, print the day")):
        p = sub.add_parser(name, help=text)
        common(p)
        timeout(p)
        p.add_argument("--server", type=_server_url, metavar="URL",
                       help="the central server (default: the one enrolled with)")

    api = sub.add_parser("api", help="serve the POS link (local API, watched folder) with no "
                                     "till window, until Ctrl+C")
    common(api)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=ArgParser)
    for name, text in (("upgrade", "apply migrations"), ("version", "print the schema version")):
        common(db_sub.add_parser(name, help=text))
    p = db_sub.add_parser("backup", help="a consistent copy of the database now")
    common(p)
    p.add_argument("--to", type=_path, metavar="DIR",
                   help="folder for the copy (default: backup_dir of the config)")
    p = db_sub.add_parser("restore", help="put a copy back (the current database is kept "
                                          "beside it); close the till first")
    common(p)
    p.add_argument("file", type=_path, metavar="FILE", help="a copy made by db backup")
    return parser


def _config(args: argparse.Namespace, *, demo: bool = False) -> Config:
    cfg = load_config(args.config)
    data_dir = args.data_dir or (cfg.data_dir / "demo" if demo else cfg.data_dir)
    # The demo speaks Chinese unless told otherwise; a real till follows config, then the system.
    language = getattr(args, "lang", None) or cfg.language or ("zh_CN" if demo else None)
    return replace(cfg, data_dir=data_dir, language=language)


def _configure(app: App, cfg: Config) -> None:
    """What the app takes from ``config.toml`` beyond its database and rules."""
    app.opening_hours = cfg.opening_hours
    app.hq_ca = cfg.hq_ca
    app.scanner = cfg.scanner
    app.integration = cfg.integration
    if app.identity is not None:
        ident = app.identity
        log.info("till of store %s, device %s (%s)", ident.store_number, ident.device_number,
                 ident.device_id)


def main(argv: Sequence[str] | None = None, *,
         show_refusal: Callable[[DomainError], None] | None = None) -> int:
    """The console program. ``show_refusal``: also show a refusal in a window (the windowed
    till program, :func:`till_main`, has no console to print it on)."""
    utf8_when_redirected()
    args = build_parser().parse_args(argv)
    try:
        log_file: Path | None = start_logging(APP_NAME)
    except OSError as e:  # a log folder that cannot be written stops nothing
        print(f"pos-member: no log file ({_plain(e)})", file=sys.stderr)
        log_file = None
    log.info("command %s", args.command)
    try:
        return _dispatch(args)
    except DomainError as e:
        log.info("refused: %s", type(e).__name__)
        print(f"pos-member: {e.text()}", file=sys.stderr)
        if show_refusal is not None:
            show_refusal(e)
        return 1
    except Exception as e:  # the disk, a folder, a file that is no database, a bug
        log.error("command %s failed", args.command, exc_info=e)  # the traceback: the log
        line = _plain(e) + (f" (details in {log_file})" if log_file and not _is_os_level(e)
                            else "")
        print(f"pos-member: {line}", file=sys.stderr)
        if show_refusal is not None:  # the windowed program: no console to print on
            show_refusal(DomainError("{detail}", detail=line))
        return 1


def _is_os_level(error: Exception) -> bool:
    """A failure the line says all of (no "details in the log")."""
    import sqlite3

    from pos_member.db.engine import DatabaseTooNew

    error = _driver_error(error)
    return isinstance(error, OSError | sqlite3.Error | DatabaseTooNew)


def _driver_error(error: Exception) -> Exception:
    orig = getattr(error, "orig", None)  # SQLAlchemy's wrapper: the driver's own error
    return orig if isinstance(orig, Exception) else error


def _plain(error: Exception) -> str:
    """One line for a failure that is no refusal of the core's (docs/rules.md, "The command
    line"): a file or folder and the system's reason, or the database's reason. Neither holds
    a value of a member: paths, and SQLite's fixed texts ("attempt to write a readonly
    database")."""
    import sqlite3

    from pos_member.db.engine import DatabaseTooNew

    error = _driver_error(error)
    if isinstance(error, DatabaseTooNew):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return os_error_line(error)
    if isinstance(error, sqlite3.Error):
        return (f"the till's database cannot be used: {error} (is the data folder there, "
                "writable, and its database a till's?)")
    return f"unexpected failure ({type(error).__name__})"


def till_main(argv: Sequence[str] | None = None) -> int:
    """``pos-member-till``, the program a store double-clicks: with no arguments it opens the
    till (``run``); a refusal before the window opens (no store here, no credential store, a
    bad config file) is shown in a window as well as logged."""
    args = list(sys.argv[1:] if argv is None else argv) or ["run"]
    return main(args, show_refusal=_refusal_window)


def _refusal_window(error: DomainError) -> None:
    from ui.app import show_refusal

    try:
        language = load_config().language
    except DomainError:
        language = None
    show_refusal(error, language)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "enrol":
        return _enrol(args)
    if args.command in ("sync", "close-day"):
        return _sync(args)
    if args.command == "api":
        from pos_member.crypto import KeyringKeyStore
        from pos_member_app.headless import run_headless

        return run_headless(_open_till(_config(args)), KeyringKeyStore)
    if args.command == "db":
        from pos_member.db.engine import schema_version, upgrade

        cfg = _config(args)
        if args.db_command in ("backup", "restore"):
            return _backup_or_restore(args, cfg)
        if args.db_command == "upgrade":
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            upgrade(cfg.db_path)
        print(f"{cfg.db_path}: schema {schema_version(cfg.db_path) or 'none'}")
        return 0

    demo = args.command == "demo"
    cfg = _config(args, demo=demo)
    if demo:
        app = _open_demo(cfg, members=args.members)
        if args.no_gui:
            app.close()
            return 0
        store_name = app.identity.store_name if app.identity else ""
        open_app = lambda: app  # noqa: E731 - already open
    else:
        from pos_member.db.store_name import peek_store_name

        store_name = peek_store_name(cfg.db_path)
        if store_name is None:
            raise StoreNotSetUp()
        # opened by the UI, off its thread; the window's till keeps a daily backup
        open_app = lambda: _open_till(cfg, keep_backups=True)  # noqa: E731
    from ui.app import run_till

    return run_till(open_app, store_name=store_name, language=cfg.language,
                    exit_after=args.exit_after, exit_when_ready=args.exit_when_ready,
                    sms_gateway_url=cfg.sms_gateway_url)


def _open_till(cfg: Config, *, keep_backups: bool = False) -> App:
    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore
    from pos_member.db.store_name import peek_store_name

    if peek_store_name(cfg.db_path) is None:  # refused before a database is even created
        raise StoreNotSetUp()

    app = bootstrap(cfg.db_path, rules_file=cfg.rules_file, keystore=KeyringKeyStore(),
                    clock=SystemClock(cfg.time_zone))
    _warn_if_rules_refused(app)
    _configure(app, cfg)
    if app.identity is None:
        app.close()
        raise StoreNotSetUp()
    if keep_backups:
        from pos_member.db.backups import BackupKeeper

        app.backups = BackupKeeper(cfg.db_path, cfg.backups, app.uow.clock.today,
                                   keep_days=cfg.backup_keep_days)
    return app


def _closing_backup(app: App, cfg: Config) -> None:
    """The day's copy at closing time, whatever the sync did (docs/rules.md, "Backups")."""
    import sqlite3

    from pos_member.db.backups import daily_backup

    try:
        made = daily_backup(cfg.db_path, cfg.backups, today=app.uow.clock.today(),
                            keep_days=cfg.backup_keep_days)
    except (OSError, sqlite3.Error, DomainError) as e:
        print(f"pos-member: the day's backup failed: {e}", file=sys.stderr)
        return
    print(f"Backup: {made}")


def _backup_or_restore(args: argparse.Namespace, cfg: Config) -> int:
    from pos_member.db.backups import backup_database, backup_name, restore_database

    clock = SystemClock(cfg.time_zone)
    if args.db_command == "backup":
        now = clock.local(clock.now())
        made = backup_database(cfg.db_path, (args.to or cfg.backups) / backup_name(
            now.date(), at=now))
        print(f"Backup made: {made}")
        return 0
    aside = restore_database(args.file, cfg.db_path, now=clock.local(clock.now()))
    print(f"Restored {cfg.db_path} from {args.file}.")
    if aside.exists():
        print(f"The database it replaced is kept as {aside}.")
    print("On its next sync the till catches up with head office: what it lost comes back, "
          "and it takes a new identity if head office holds newer events of it.")
    return 0


def _enrol(args: argparse.Namespace) -> int:
    import socket

    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore
    from pos_member.db.store_name import peek_store_name
    from pos_member.services.enrolment import FirstAdmin
    from sync.client import SyncClient
    from sync.engine import enrol, first_admin

    cfg = _config(args)
    again = cfg.db_path.exists() and peek_store_name(cfg.db_path) is not None  # in place
    admin = None if args.no_admin or again else FirstAdmin(
        args.admin_code, args.admin_name, args.admin_pin or _ask_admin_pin())
    if admin is not None:
        admin.check()  # a weak PIN or bad number: refuse before spending the code
    keystore = KeyringKeyStore()
    keystore.get("device-token:probe")  # no credential store: refuse before spending the code
    made_dir, fresh = not cfg.data_dir.exists(), not cfg.db_path.exists()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    app = bootstrap(cfg.db_path, rules_file=cfg.rules_file, keystore=keystore,
                    clock=SystemClock(cfg.time_zone))
    _configure(app, cfg)
    if app.identity is not None:  # enrolled before (revoked, or its token lost): in place
        try:
            return _reenrol(app, args, keystore)
        finally:
            app.close()
    try:
        device_name = args.device_name or (socket.gethostname()[:100] or "till")
        with SyncClient(args.server, timeout=args.timeout,
                        verify=hq_verify(app.hq_ca)) as client:
            ident = enrol(app, client, keystore, code=args.code, device_name=device_name,
                          server_url=args.server)
            created = first_admin(app, client, ident, admin) if admin is not None else None
    except BaseException:
        app.close()
        if fresh and peek_store_name(cfg.db_path) is None:  # a refused enrolment: no trace
            _remove_database(cfg.db_path, folder_too=made_dir)
        raise
    app.close()
    print(f"Enrolled: store {ident.store_number} {ident.store_name}, "
          f"till {ident.device_number} ({device_name}), data in {cfg.data_dir}.")
    print(f"Device id {ident.device_id} (what head office names this till by, e.g. to "
          "revoke it: pos-member-server revoke-device --device ID).")
    if created is not None:
        print(f"Administrator {created.code} ({created.name}) can log in.")
    elif admin is not None:
        print("No administrator created: the store has one already; its staff log in here "
              "with their numbers and PINs.")
    else:
        print("No administrator created: staff arrive from the store's other tills "
              "with the first sync.")
    return 0


def _remove_database(path: Path, *, folder_too: bool) -> None:
    """The empty database a refused enrolment made (and its folder, when it made that too and
    nothing else is in it): the command changes nothing when it fails."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        (path.parent / name).unlink(missing_ok=True)
    if folder_too:
        import contextlib

        with contextlib.suppress(OSError):  # something else is in it: left as it is
            path.parent.rmdir()


def _reenrol(app: App, args: argparse.Namespace, keystore: KeyStore) -> int:
    """Enrols a till again in place with a fresh code: its data stay, its unsent events go
    under the new device (``sync.recovery.reenrol``), and are sent right away."""
    import socket

    from sync.client import SyncClient
    from sync.engine import sync_once
    from sync.recovery import reenrol

    device_name = args.device_name or (socket.gethostname()[:100] or "till")
    with SyncClient(args.server, timeout=args.timeout,
                    verify=hq_verify(app.hq_ca)) as client:
        notice = reenrol(app, client, keystore, code=args.code, device_name=device_name)
        print(notice.line())
        report = sync_once(app, client, keystore=keystore)
    print(f"Pushed {report.pushed} new ({report.duplicates} already stored); "
          f"{report.pending} unacknowledged.")
    return 0 if report.pending == 0 else 1


def _ask_admin_pin() -> str:
    """Asks twice on the terminal; without one, ``--admin-pin`` or ``--no-admin`` is needed."""
    import getpass

    if not sys.stdin.isatty():
        print("pos-member: error: enrol needs --admin-pin (or --no-admin) when no terminal "
              "is attached", file=sys.stderr)
        raise SystemExit(2)
    pin = getpass.getpass("PIN or password of the first administrator: ")
    if getpass.getpass("Again: ") != pin:
        print("pos-member: error: the two entries differ", file=sys.stderr)
        raise SystemExit(2)
    return pin


def _sync(args: argparse.Namespace) -> int:
    from pos_member.crypto import KeyringKeyStore
    from pos_member.errors import NotEnrolled
    from pos_member.services.enrolment import device_token
    from pos_member.services.outbox import SERVER_URL, get_sync_setting
    from sync.client import SyncClient
    from sync.engine import close_day, sync_once

    cfg = _config(args)
    app = _open_till(cfg)
    try:
        ident = app.identity
        if ident is None:
            raise StoreNotSetUp()
        server = args.server or get_sync_setting(app.uow, SERVER_URL)
        token = device_token(KeyringKeyStore(), ident.device_id)
        if server is None or token is None:
            raise NotEnrolled()
        keystore = KeyringKeyStore()
        with SyncClient(server, token, timeout=args.timeout,
                        verify=hq_verify(app.hq_ca)) as client:
            if args.command == "close-day":
                day = close_day(app, client, keystore=keystore)
                print("\n".join(day.lines()))
                _closing_backup(app, cfg)
                return 0 if day.ok else 1
            report = sync_once(app, client, keystore=keystore)
    finally:
        app.close()
    if report.reidentity is not None:
        print(report.reidentity.line())
    held = (f"; {report.quarantined} pulled event(s) held, not applied (see close-day)"
            if report.quarantined else "")
    print(f"Pushed {report.pushed} new ({report.duplicates} already stored), "
          f"pulled {report.pulled} ({report.applied} applied); "
          f"{report.pending} unacknowledged{held}.")
    return 0 if report.pending == 0 else 1


def _open_demo(cfg: Config, *, members: int) -> App:
    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore
    from pos_member.db.store_name import peek_store_name
    from pos_member_app.demo import DEMO_STAFF, create_demo_store

    keystore = KeyringKeyStore()
    if peek_store_name(cfg.db_path) is None:
        # No keyring must refuse before the store is set up (a store whose data key could not
        # be stored cannot be opened, nor created again), and before a database is created.
        keystore.get("data-key:probe")
    app = bootstrap(cfg.db_path, rules_file=cfg.rules_file, keystore=keystore,
                    clock=SystemClock(cfg.time_zone))
    _warn_if_rules_refused(app)
    _configure(app, cfg)
    if create_demo_store(app, keystore, members=members):
        print(f"Demo store created in {cfg.data_dir} with {members} members, and a month of "
              "registrations and sales by its guides.")
    print("Demo staff (staff number / PIN):")
    for st in DEMO_STAFF:
        print(f"  {st.code} / {st.pin}  {st.role.value:8} {st.name}")
    return app


def _warn_if_rules_refused(app: App) -> None:
    if app.rules_refused is not None:
        print(f"pos-member: {app.rules_refused.text()} (keeping the last good rules)",
              file=sys.stderr)


if __name__ == "__main__":  # also the bundle's two programs (build.spec)
    raise SystemExit(till_main() if Path(sys.argv[0]).stem == TILL_PROGRAM else main())
