"""``pos-member-server import-members`` and ``export-members`` (issue 20): the commands'
arguments and their output. The work is in ``members_import`` and ``members_export``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sync.server.context import ServerContext

COMMANDS = ("import-members", "export-members", "import-template")


def _day(text: str) -> date:
    return date.fromisoformat(text)


def add_parsers(sub: Any, store_number: Any) -> None:
    p = sub.add_parser("import-members",
                       help="import members from the old system's .xlsx (the template: "
                            "docs/examples/members-import.xlsx)")
    p.add_argument("file", type=Path)
    p.add_argument("--store", type=store_number, required=True, metavar="N",
                   help="the store the new members belong to")
    p.add_argument("--report", type=Path, metavar="FILE.xlsx",
                   help="where to write the rejected rows (default: FILE-report.xlsx)")
    p = sub.add_parser("import-template", help="write the member import template (.xlsx)")
    p.add_argument("file", type=Path)
    p = sub.add_parser("export-members", help="export a filtered member list to .xlsx "
                                              "(phones and names masked unless --reveal)")
    p.add_argument("file", type=Path)
    p.add_argument("--store", type=store_number, metavar="N")
    p.add_argument("--tier", metavar="CODE")
    p.add_argument("--registered-from", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--registered-to", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--reveal", metavar="WHO",
                   help="full phones and names; WHO (the HQ user) is kept in the audit")


def run(ctx: ServerContext, args: argparse.Namespace) -> int:
    if args.command == "import-template":
        from sync.server.import_book import write_template

        write_template(args.file)
        print(f"template written to {args.file}")
        return 0
    if args.command == "export-members":
        from sync.server.members_export import ExportFilter, export_members

        n = export_members(ctx, path=args.file, reveal_by=args.reveal, filters=ExportFilter(
            store_number=args.store, tier=args.tier, registered_from=args.registered_from,
            registered_to=args.registered_to))
        print(f"{n} members exported to {args.file}"
              + (" (revealed: audited)" if args.reveal else " (masked)"))
        return 0
    return _import(ctx, args)


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``b`` names the file ``a`` is, however spelt (``./``, ``..``, a link, a hard
    link): the report written there would overwrite the file being imported."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def _import(ctx: ServerContext, args: argparse.Namespace) -> int:
    from sync.server.import_book import write_report
    from sync.server.import_rows import ImportFileRefused
    from sync.server.members_import import import_members

    def progress(done: int, total: int) -> None:
        print(f"batch {done}/{total} imported", file=sys.stderr, flush=True)

    if args.report is not None and _same_file(args.file, args.report):
        print(f"pos-member-server: --report {args.report} is the file being imported; "
              "give the report another name (nothing imported)", file=sys.stderr)
        return 2
    try:
        result = import_members(ctx, path=args.file, store_number=args.store,
                                progress=progress)
    except ImportFileRefused as e:
        print(f"pos-member-server: the file is refused, nothing imported: {e.zh} ({e.en})",
              file=sys.stderr)
        return 1
    if result.already_done:
        print(f"{args.file} was imported before ({result.new_members} new members): "
              "nothing changed")
        return 0
    report = args.report or args.file.with_name(args.file.stem + "-report.xlsx")
    if result.rejected:
        write_report(args.file, report, result.rejected)
    print(f"{result.rows} rows: {result.new_members} new members, {result.into_existing} "
          f"added to members the chain has, {result.merged_in_file} merged within the file, "
          f"{len(result.rejected) - result.merged_in_file} rejected"
          + (f" (report: {report})" if result.rejected else ""))
    return 0
