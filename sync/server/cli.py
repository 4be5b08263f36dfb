"""``pos-member-server``: HQ's commands on the central server, and ``serve``.

    pos-member-server [--database URL] db upgrade
    pos-member-server kek new [--keyring]
    pos-member-server [--database URL] kek rotate [--keyring]
    pos-member-server [--database URL] create-store --number N --name NAME
    pos-member-server [--database URL] issue-code --store N
    pos-member-server [--database URL] revoke-device --device ID
    pos-member-server [--database URL] reinstate-device --device ID
    pos-member-server [--database URL] publish-rules FILE [--starts-at ISO-TIME]
    pos-member-server [--database URL] set-target --store N --month YYYY-MM --target COUNT
    pos-member-server [--database URL] list-stores
    pos-member-server [--database URL] list-devices [--store N]
    pos-member-server [--database URL] list-flags [--open] [--kind KIND] [--store N]
                                                  [--since YYYY-MM-DD]
    pos-member-server [--database URL] resolve-flag ID --note TEXT
    pos-member-server [--database URL] list-staff --store N
    pos-member-server [--database URL] add-staff --store N --code NNN --name NAME --role ROLE
                                             [--pin PIN]
    pos-member-server [--database URL] deactivate-staff --store N --code NNN
    pos-member-server [--database URL] reactivate-staff --store N --code NNN
    pos-member-server [--database URL] reset-staff-pin --store N --code NNN [--pin PIN]
    pos-member-server [--database URL] settle-overdraw MEMBER --note TEXT
    pos-member-server [--database URL] settle-coupons MEMBER --note TEXT
    pos-member-server [--database URL] issue-coupons TEMPLATE --reason TEXT [--store N]
                      [--tier CODE] [--limit N] [--batch ID]
    pos-member-server [--database URL] sms-limits [--phone-per-hour N] [--phone-per-day N]
                                                  [--device-per-hour N] [--store-per-hour N]
    pos-member-server [--database URL] serve [--host 127.0.0.1] [--port 8080]
                                             [--read-database-url URL]
    pos-member-server openapi

``--database`` defaults to $POS_MEMBER_SERVER_DB, else a SQLite file in the platform's data
folder. The key-encryption key (KEK) that wraps the chain's personal-data key comes from
$POS_MEMBER_SERVER_KEK, else the OS keyring (``sync.server.keys``; docs/deploy.md).
``serve --read-database-url`` (default $POS_MEMBER_SERVER_READ_URL) is a streaming replica of
the PostgreSQL database that pulls read from (docs/scale.md). Bad
arguments exit with status 2; a refusal prints its message and exits with 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import ArgumentError, DBAPIError

from pos_member.clock import SystemClock
from pos_member.errors import DomainError
from pos_member_app.cli import ArgParser, whole_number
from pos_member_app.console import os_error_line, utf8_when_redirected
from pos_member_app.logs import start_logging
from sync.protocol import MAX_INT  # PostgreSQL's integer
from sync.server.context import ServerContext
from sync.server.db import ServerDatabase, open_server_database, require_current_schema, upgrade

PROG = "pos-member-server"
ENV_DATABASE = "POS_MEMBER_SERVER_DB"
ENV_READ_URL = "POS_MEMBER_SERVER_READ_URL"


def _positive_int(text: str) -> int:
    return whole_number(text, least=1)


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return when if when.tzinfo is not None else when.astimezone()  # local time of HQ


def _store_number(text: str) -> int:
    """A store (or flag) number: a positive whole number the database's integers hold."""
    return whole_number(text, least=1, most=MAX_INT)


_flag_id = _store_number


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day YYYY-MM-DD: {text!r}") from None


def _port(text: str) -> int:
    return whole_number(text, least=1, most=65535, too_large="not a port")


def default_database_url() -> str:
    url = os.environ.get(ENV_DATABASE)
    if url:
        return url
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path(PROG, appauthor=False) / 'server.sqlite'}"


def build_parser() -> argparse.ArgumentParser:
    parser = ArgParser(prog=PROG, description="POS Member central server and HQ commands.")
    parser.add_argument("--database", metavar="URL",
                        help=f"sqlite:///FILE or postgresql+psycopg://... (default: ${ENV_DATABASE}"
                             " or a SQLite file in the platform data folder)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgParser)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=ArgParser)
    db_sub.add_parser("upgrade", help="apply migrations; create the chain's data key")

    kek = sub.add_parser("kek", help="the key-encryption key that wraps the chain's data key")
    kek_sub = kek.add_subparsers(dest="kek_command", required=True, parser_class=ArgParser)
    p = kek_sub.add_parser("new", help="make a KEK: print it (for $POS_MEMBER_SERVER_KEK)")
    p.add_argument("--keyring", action="store_true",
                   help="keep it in the OS keyring instead of printing it")
    p = kek_sub.add_parser("rotate", help="re-wrap the data key under a new KEK, printed")
    p.add_argument("--keyring", action="store_true",
                   help="keep the new KEK in the OS keyring instead of printing it")

    p = sub.add_parser("create-store", help="create a store")
    p.add_argument("--number", type=_positive_int, required=True)
    p.add_argument("--name", required=True)

    p = sub.add_parser("issue-code", help="issue a one-time enrolment code (valid 24 h)")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")

    p = sub.add_parser("revoke-device", help="revoke a device's token")
    p.add_argument("--device", required=True, metavar="ID")

    p = sub.add_parser("reinstate-device",
                       help="lift a device's revocation: its till sends what waits")
    p.add_argument("--device", required=True, metavar="ID")

    p = sub.add_parser("publish-rules", help="publish a rules file as a new version")
    p.add_argument("file", type=Path)
    p.add_argument("--starts-at", type=_when, metavar="ISO-TIME",
                   help="when tills put it in force, e.g. 2026-12-01T00:00+08:00 "
                        "(default: now; without an offset, this machine's local time)")

    p = sub.add_parser("set-target", help="set a store's new-member target for a month")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    p.add_argument("--target", required=True, metavar="COUNT", help="new members in the month")

    p = sub.add_parser("list-staff", help="a store's staff, with who is active")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")

    p = sub.add_parser("deactivate-staff",
                       help="deactivate a colleague: they can no longer log in at the store")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")
    p.add_argument("--code", required=True, metavar="NNN", help="their staff number")

    p = sub.add_parser("add-staff", help="add a colleague to a store (asked for a PIN on a "
                                          "terminal); the store's tills take them at next sync")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")
    p.add_argument("--code", required=True, metavar="NNN", help="their staff number")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, help="cashier, guide, manager or admin")
    p.add_argument("--pin", metavar="PIN",
                   help="their PIN or password (default: asked twice on the terminal)")

    p = sub.add_parser("reactivate-staff",
                       help="reactivate a colleague: they log in at the store again")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")
    p.add_argument("--code", required=True, metavar="NNN", help="their staff number")

    p = sub.add_parser("reset-staff-pin",
                       help="give a store's colleague a new PIN or password (asked on a "
                            "terminal), on every till of the store from its next sync")
    p.add_argument("--store", type=_store_number, required=True, metavar="N")
    p.add_argument("--code", required=True, metavar="NNN", help="their staff number")
    p.add_argument("--pin", metavar="PIN",
                   help="the new PIN or password (default: asked twice on the terminal)")

    sub.add_parser("list-stores", help="the chain's stores")
    p = sub.add_parser("list-devices", help="the tills: last push, acknowledged, held, revoked")
    p.add_argument("--store", type=_store_number, metavar="N", help="one store's only")

    p = sub.add_parser("list-flags", help="flags raised for HQ")
    p.add_argument("--open", action="store_true", help="unresolved flags only")
    p.add_argument("--kind", metavar="KIND", help="one kind only (fork, overdraw, …)")
    p.add_argument("--store", type=_store_number, metavar="N", help="one store's only")
    p.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="raised on or after (UTC)")

    p = sub.add_parser("resolve-flag", help="resolve a flag with a note (who and when are kept)")
    p.add_argument("flag", type=_flag_id, metavar="ID")
    p.add_argument("--note", required=True, help="what was done")

    p = sub.add_parser("settle-overdraw",
                       help="settle a member's stored-value overdraw and lift the block")
    p.add_argument("member", metavar="MEMBER", help="member number or member id")
    p.add_argument("--note", required=True, help="how it was settled (kept on the flag)")

    p = sub.add_parser("settle-coupons",
                       help="settle a member's coupon used twice and lift the coupon block")
    p.add_argument("member", metavar="MEMBER", help="member number or member id")
    p.add_argument("--note", required=True, help="how it was settled (kept on the flags)")

    p = sub.add_parser("issue-coupons",
                       help="issue a coupon of the rules to a filtered list of members")
    p.add_argument("template", metavar="TEMPLATE", help="a [[coupons.templates]] code")
    p.add_argument("--reason", required=True, help="why (kept in each coupon's event)")
    p.add_argument("--store", type=_store_number, metavar="N", help="one store's members")
    p.add_argument("--tier", metavar="CODE", help="one tier's members")
    p.add_argument("--limit", type=_store_number, metavar="N", help="at most N members")
    p.add_argument("--batch", metavar="ID", help="the batch's id: run again, issues no more")

    p = sub.add_parser("health-report",
                       help="the programme-health report of one store or the chain (issue 19)")
    p.add_argument("--from", dest="start", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--store", type=_store_number, metavar="N", help="one store (default: all)")
    p.add_argument("--xlsx", metavar="PATH", help="also write the report as an .xlsx")
    sub.add_parser("insight-refresh",
                   help="read the event log into the reporting copy and publish the "
                        "chain's RFM cuts to the tills (nightly)")

    p = sub.add_parser("sms-limits", help="show or set how many SMS payment codes HQ sends "
                                          "(per phone, till and store)")
    for name, text in (("phone-per-hour", "codes to one phone in any hour"),
                       ("phone-per-day", "codes to one phone in any 24 hours"),
                       ("device-per-hour", "codes asked by one till in any hour"),
                       ("store-per-hour", "codes asked by one store's tills in any hour")):
        p.add_argument(f"--{name}", type=_positive_int, metavar="N", help=text)

    p = sub.add_parser("serve", help="run the HTTP server (migrates first)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8080)
    p.add_argument("--sms-gateway-url", metavar="URL", default=None,
                   help="send stored-value SMS codes through this gateway (API key from the "
                        "OS keyring: service pos-member, name sms-gateway); default: log only")
    p.add_argument("--read-database-url", metavar="URL", default=None,
                   help="a streaming replica (hot standby) of the PostgreSQL database that "
                        f"pulls read from (default: ${ENV_READ_URL}, else the primary)")

    from sync.server import cli_members

    cli_members.add_parsers(sub, _store_number)  # import-members, export-members (issue 20)
    sub.add_parser("openapi", help="print the OpenAPI description (docs/openapi.json)")
    return parser


def openapi_json() -> str:
    """The checked-in docs/openapi.json, byte for byte."""
    from sync.server.app import create_app

    return json.dumps(create_app("sqlite://").openapi(), indent=2, ensure_ascii=False) + "\n"


SERVER_PACKAGES = ("fastapi", "uvicorn")  # always; psycopg for a PostgreSQL database
INSTALL_HINT = "pip install 'pos-member[server]'"


def missing_server_packages(url: str | None) -> list[str]:
    """The server's packages (the ``[server]`` extra) that are not installed."""
    names = [*SERVER_PACKAGES, *(["psycopg"] if url and url.startswith("postgresql") else [])]
    return [name for name in names if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    utf8_when_redirected()
    args = build_parser().parse_args(argv)
    if args.command == "serve":  # several on one host behind a balancer: a file each
        start_logging(PROG, instance=str(args.port))
    url = None if args.command == "openapi" else args.database or default_database_url()
    missing = missing_server_packages(url)
    if missing:  # a till's install: the server is an extra
        print(f"{PROG}: the central server's packages are not installed "
              f"(missing: {', '.join(missing)}). Install them with: {INSTALL_HINT}",
              file=sys.stderr)
        return 1
    try:
        return _dispatch(args)
    except DomainError as e:
        print(f"{PROG}: {e.text()}", file=sys.stderr)
        return 1
    except (ValueError, ArgumentError) as e:  # a malformed database URL
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except DBAPIError as e:  # cannot be reached; a SQLite URL naming a file that is no database
        print(f"{PROG}: cannot use the database: {e.orig}", file=sys.stderr)
        return 1
    except OSError as e:  # a report's or an import's path: a folder, none, read-only
        print(f"{PROG}: {os_error_line(e)}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from sync.server import services

    if args.command == "openapi":
        sys.stdout.write(openapi_json())
        return 0
    if args.command == "kek" and args.kek_command == "new":
        return _kek_new(keyring=args.keyring)
    url = args.database or default_database_url()
    db = open_server_database(url)
    ctx = ServerContext(db=db, clock=SystemClock())
    try:
        if args.command == "db":
            upgrade(db)
            print("database upgraded")
            return 0
        if args.command == "serve":
            return _serve(url, db, host=args.host, port=args.port,
                          sms_gateway_url=args.sms_gateway_url,
                          read_url=args.read_database_url or os.environ.get(ENV_READ_URL))
        require_current_schema(db)
        if args.command == "kek":
            return _kek_rotate(db, keyring=args.keyring)
        if args.command == "create-store":
            store = services.create_store(ctx, number=args.number, name=args.name)
            print(f"store {store.number} {store.name} created (id {store.id})")
        elif args.command == "issue-code":
            issued = services.issue_enrolment_code(ctx, store_number=args.store)
            print(issued.code)
            print(f"enrols one device in store {issued.store_number}; "
                  f"expires {issued.expires_at:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
        elif args.command == "revoke-device":
            services.revoke_device(ctx, device_id=args.device)
            print(f"device {args.device} revoked")
        elif args.command == "reinstate-device":
            from sync.server.identities import reinstate_device

            reinstate_device(ctx, device_id=args.device)
            print(f"device {args.device} reinstated")
        elif args.command == "publish-rules":
            version = services.publish_rules(ctx, path=args.file, starts_at=args.starts_at)
            start = f"from {args.starts_at:%Y-%m-%d %H:%M %z}" if args.starts_at else "now"
            print(f"rules version {version} published, in force {start}")
        elif args.command == "set-target":
            month, target = services.set_store_target(
                ctx, store_number=args.store, month=args.month, target=args.target)
            print(f"store {args.store}: target for {month} set to {target} new members; "
                  "its tills split it at their next sync")
        elif args.command in ("list-staff", "add-staff", "deactivate-staff",
                              "reactivate-staff", "reset-staff-pin"):
            _staff(ctx, args)
        elif args.command in ("list-stores", "list-devices", "list-flags", "resolve-flag"):
            _fleet(ctx, args)
        elif args.command == "settle-overdraw":
            from sync.server.balances import settle_overdraw

            done = settle_overdraw(ctx, member=args.member, note=args.note)
            print(f"member {args.member}: overdraw settled ({_yuan(done.settled_fen)} yuan), "
                  f"chain-wide balance {_yuan(done.balance_fen)} yuan, "
                  f"flags {', '.join(map(str, done.flag_ids))} resolved; tills unblock it "
                  "at their next sync")
        elif args.command == "settle-coupons":
            from sync.server.coupons import settle_coupons

            settled = settle_coupons(ctx, member=args.member, note=args.note)
            print(f"member {args.member}: {len(settled.flag_ids)} coupon(s) used twice "
                  "settled, the note kept on each flag:")
            for line in settled.bills:
                print(f"  {line}")
            print("the member's coupons are usable again at each till after its next sync")
        elif args.command == "issue-coupons":
            from sync.server.coupon_bulk import issue_coupons

            bulk = issue_coupons(ctx, template=args.template, reason=args.reason,
                                 store=args.store, tier=args.tier, limit=args.limit,
                                 batch=args.batch)
            print(f"batch {bulk.batch}: {bulk.issued} coupons issued to "
                  f"{bulk.members} members; their stores' tills get them at their next sync")
        elif args.command in ("health-report", "insight-refresh"):
            from sync.server import cli_insight

            cli_insight.run(ctx, args)
        elif args.command == "sms-limits":
            _sms_limits(ctx, args)
        else:
            from sync.server import cli_members

            return cli_members.run(ctx, args)
    finally:
        db.dispose()
    return 0


def _fleet(ctx: ServerContext, args: argparse.Namespace) -> None:
    """HQ's view of its stores, tills and flags (sync.server.fleet), a line each, tab-separated."""
    from pos_member.spreadsheet import tsv_field
    from sync.server import fleet, services

    if args.command == "list-stores":
        for store in services.list_stores(ctx):
            print(f"{store.number}\t{tsv_field(store.name)}\t{store.id}")
    elif args.command == "list-devices":
        devices = fleet.list_devices(ctx, store_number=args.store)  # refused: no header
        print("store\ttill\tname\tstate\tlast push (UTC)\tacknowledged\theld\tdevice id")
        for d in devices:
            last = f"{d.last_push_at:%Y-%m-%d %H:%M}" if d.last_push_at else "never"
            print(f"{d.store_number}\t{d.number}\t{tsv_field(d.name)}\t{d.state}\t{last}\t"
                  f"{d.acked_through}\t{d.held}\t{d.id}")
    elif args.command == "list-flags":
        for f in services.list_flags(ctx, open_only=args.open, kind=args.kind,
                                     store_number=args.store, since=args.since):
            state = "resolved" if f.resolved_at else "open"
            print(f"{f.id}\t{f.raised_at:%Y-%m-%d %H:%M}\t{f.kind}\t{state}\t"
                  f"{f.store_id or '-'}\t{json.dumps(f.detail, ensure_ascii=False)}")
    else:
        done = fleet.resolve_flag(ctx, flag_id=args.flag, note=args.note)
        print(f"flag {done.id} ({done.kind}) resolved")


def _ask_new_pin() -> str:
    """The new PIN, asked twice on the terminal (never echoed; never in the shell's history)."""
    import getpass

    if not sys.stdin.isatty():
        print(f"{PROG}: error: --pin is needed when no terminal is attached", file=sys.stderr)
        raise SystemExit(2)
    pin = getpass.getpass("New PIN or password: ")
    if getpass.getpass("Again: ") != pin:
        print(f"{PROG}: error: the two entries differ", file=sys.stderr)
        raise SystemExit(2)
    return pin


def _staff(ctx: ServerContext, args: argparse.Namespace) -> None:
    from pos_member.spreadsheet import tsv_field
    from sync.server.staff import (
        add_store_staff,
        deactivate_store_staff,
        list_store_staff,
        reactivate_store_staff,
        reset_store_staff_pin,
    )

    if args.command == "deactivate-staff":
        done = deactivate_store_staff(ctx, store_number=args.store, code=args.code)
        print(f"store {args.store}: staff {done.code} deactivated; the store's tills refuse "
              "them from their next sync")
        return
    if args.command == "add-staff":
        added = add_store_staff(ctx, store_number=args.store, code=args.code, name=args.name,
                                role=args.role, secret=args.pin or _ask_new_pin())
        print(f"store {args.store}: staff {added.code} ({added.role}) added; the store's tills "
              "let them log in from their next sync")
        return
    if args.command == "reactivate-staff":
        done = reactivate_store_staff(ctx, store_number=args.store, code=args.code)
        print(f"store {args.store}: staff {done.code} reactivated; the store's tills let them "
              "log in from their next sync")
        return
    if args.command == "reset-staff-pin":
        done = reset_store_staff_pin(ctx, store_number=args.store, code=args.code,
                                     secret=args.pin or _ask_new_pin())
        print(f"store {args.store}: staff {done.code} has a new PIN; the store's tills take it "
              "(and lift a lock) from their next sync")
        return
    for s in list_store_staff(ctx, store_number=args.store):
        state = "active" if s.active else "inactive"
        clash = "" if s.holds_number else "\tnumber clash: renumber at the till"
        print(f"{s.code}\t{tsv_field(s.name)}\t{s.role}\t{state}{clash}")


def _sms_limits(ctx: ServerContext, args: argparse.Namespace) -> None:
    from dataclasses import asdict

    from sync.server import sms_limits

    limits = sms_limits.configure(
        ctx, phone_per_hour=args.phone_per_hour, phone_per_day=args.phone_per_day,
        device_per_hour=args.device_per_hour, store_per_hour=args.store_per_hour)
    for name, value in asdict(limits).items():
        print(f"{name.replace('_', '-')}\t{value}")


def _kek_new(*, keyring: bool) -> int:
    from pos_member.crypto import KeyringKeyStore
    from sync.server.keys import ENV_KEK, KEYRING_NAME, new_kek

    kek = new_kek()
    if not keyring:
        print(kek)
        print(f"set {ENV_KEK} to this key wherever the server runs; keep a copy in a safe place:"
              " without it the database's personal data cannot be read", file=sys.stderr)
        return 0
    store = KeyringKeyStore()
    if store.get(KEYRING_NAME):
        print(f"{PROG}: the OS keyring holds a KEK already (pos-member/{KEYRING_NAME}): "
              "'kek rotate --keyring' replaces it", file=sys.stderr)
        return 1
    store.put(KEYRING_NAME, kek)
    print(f"KEK kept in the OS keyring (pos-member/{KEYRING_NAME}); keep a copy in a safe place")
    return 0


def _kek_rotate(db: ServerDatabase, *, keyring: bool) -> int:
    """Re-wraps the data key under a new KEK in one transaction. The new KEK is printed (or
    kept in the keyring) before the commit, so a KEK that opens the database is never lost;
    a failed commit puts the old one back in the keyring."""
    from pos_member.crypto import KeyringKeyStore
    from sync.server.keys import ENV_KEK, KEYRING_NAME, new_kek, parse_kek, rewrap

    old = db.keys.kek()
    text = new_kek()
    store = KeyringKeyStore()
    previous = store.get(KEYRING_NAME) if keyring else None
    try:
        with db.write() as conn:
            rewrap(conn, old=old, new=parse_kek(text, source="new"))
            if keyring:
                store.put(KEYRING_NAME, text)
            else:
                print(text, flush=True)
    except BaseException:
        if keyring and previous:
            store.put(KEYRING_NAME, previous)
        raise
    where = (f"kept in the OS keyring (pos-member/{KEYRING_NAME})" if keyring
             else f"printed above: set {ENV_KEK} to it")
    if keyring and os.environ.get(ENV_KEK):
        where += f" (unset {ENV_KEK}: it is read first)"
    print(f"data key re-wrapped under a new KEK, {where}; restart every server with it (running "
          "servers keep working until then); the old KEK opens nothing any more",
          file=sys.stderr)
    return 0


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound (``OSError`` when the port is taken). Made TCP by name
    (``IPPROTO_TCP``, not the default 0): asyncio sets ``TCP_NODELAY`` only on connections of
    such a socket, and without it every answer on a kept-alive connection after the first
    waited ~40 ms for the client's delayed ACK (a lookup 47 ms instead of ~2)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                             socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


def _serve(url: str, db: ServerDatabase, *, host: str, port: int,
           sms_gateway_url: str | None = None, read_url: str | None = None) -> int:
    import uvicorn

    from sync.server.app import create_app

    # The port first, before migrating: taken (another server, or this one started twice),
    # uvicorn logged several lines and exited 3; here one line names it.
    try:
        listener = listening_socket(host, port)
    except OSError as e:
        print(f"{PROG}: cannot listen on {host} port {port}: {e.strerror or e}",
              file=sys.stderr)
        return 1
    app = create_app(url, read_url=read_url or None)  # a bad read URL: refused before migrating
    upgrade(db)  # safe with several processes starting at once: it holds the write lock
    if sms_gateway_url:  # else sync.server.sms.LogSender: codes logged (masked), never sent
        from sync.sms_gateway import SmsGatewayChannel

        app.state.sms_sender = SmsGatewayChannel(sms_gateway_url)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port)).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
