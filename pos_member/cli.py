"""``pos-member``: the till's command line, and the composition root of the program.

    pos-member run [--data-dir DIR] [--config FILE] [--lang zh_CN|en]
    pos-member demo [--data-dir DIR] [--members N] [--lang zh_CN|en] [--no-gui]
    pos-member db upgrade [--data-dir DIR]
    pos-member db version [--data-dir DIR]

Bad arguments print a message and exit with status 2; a refusal by the core (bad config or
rules, no store set up, no credential store) prints its message and exits with status 1.
This module is the one place of the core that reaches the UI, and only lazily inside the
commands that open a window, so headless commands never import Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pos_member.config import LANGUAGES, Config, load_config
from pos_member.errors import DomainError, StoreNotSetUp

if TYPE_CHECKING:
    from pos_member.bootstrap import App


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"pos-member: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pos-member", description="POS Member — the membership till.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, help="config file (default: platform config dir)")
        p.add_argument("--data-dir", type=Path, help="where the till database lives")

    def gui(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=LANGUAGES, help="UI language (default: system)")
        p.add_argument(
            "--exit-after", type=_seconds, metavar="SECONDS",
            help="quit by itself after this long (smoke tests, headless runs)",
        )

    run = sub.add_parser("run", help="open the till")
    common(run)
    gui(run)

    demo = sub.add_parser("demo", help="create the demo store (once) and open the till on it")
    common(demo)
    gui(demo)
    demo.add_argument("--members", type=_positive_int, default=2000,
                      help="members to create on first run (default 2000)")
    demo.add_argument("--no-gui", action="store_true", help="create the demo store only")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    for name, text in (("upgrade", "apply migrations"), ("version", "print the schema version")):
        common(db_sub.add_parser(name, help=text))
    return parser


def _config(args: argparse.Namespace, *, demo: bool = False) -> Config:
    cfg = load_config(args.config)
    data_dir = args.data_dir or (cfg.data_dir / "demo" if demo else cfg.data_dir)
    # The demo speaks Chinese unless told otherwise; a real till follows config, then the system.
    language = getattr(args, "lang", None) or cfg.language or ("zh_CN" if demo else None)
    return Config(data_dir=data_dir, rules_file=cfg.rules_file, language=language)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except DomainError as e:
        print(f"pos-member: {e.text()}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "db":
        from pos_member.db.engine import schema_version, upgrade

        cfg = _config(args)
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
        from pos_member.db.peek import peek_store_name

        store_name = peek_store_name(cfg.db_path)
        if store_name is None:
            raise StoreNotSetUp()
        open_app = lambda: _open_till(cfg)  # noqa: E731 - opened by the UI, off its thread
    from ui.app import run_till

    return run_till(open_app, store_name=store_name, language=cfg.language,
                    exit_after=args.exit_after)


def _open_till(cfg: Config) -> App:
    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore

    app = bootstrap(cfg.db_path, rules_file=cfg.rules_file, keystore=KeyringKeyStore())
    _warn_if_rules_refused(app)
    if app.identity is None:
        app.close()
        raise StoreNotSetUp()
    return app


def _open_demo(cfg: Config, *, members: int) -> App:
    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore
    from pos_member.demo import DEMO_STAFF, create_demo_store

    keystore = KeyringKeyStore()
    app = bootstrap(cfg.db_path, rules_file=cfg.rules_file, keystore=keystore)
    _warn_if_rules_refused(app)
    if app.identity is None:
        # No keyring must refuse before the store is set up: a store whose data key could not
        # be stored cannot be opened, nor created again.
        keystore.get("data-key:probe")
    if create_demo_store(app, keystore, members=members):
        print(f"Demo store created in {cfg.data_dir} with {members} members.")
    print("Demo staff (staff number / PIN):")
    for st in DEMO_STAFF:
        print(f"  {st.code} / {st.pin}  {st.role.value:8} {st.name}")
    return app


def _warn_if_rules_refused(app: App) -> None:
    if app.rules_refused is not None:
        print(f"pos-member: {app.rules_refused.text()} (keeping the last good rules)",
              file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
