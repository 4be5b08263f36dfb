"""``pos-member-server health-report`` and ``insight-refresh`` (issue 19): HQ's programme-health
report of one store or the whole chain, printed tab-separated (one line per store and tier,
each store's total, the chain's) and, with ``--xlsx``, written as the till's workbook.
``insight-refresh`` reads the log's new events into the reporting copy (so that the report
itself has little left to read) and publishes the chain's RFM cuts to the tills: run nightly."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from pos_member.services.insight_report import COLUMNS, names_of, row_values
from pos_member.spreadsheet import tsv_field
from sync.server import insight
from sync.server.context import ServerContext


def _cell(value: object) -> str:
    return "—" if value is None else str(value)


def run(ctx: ServerContext, args: argparse.Namespace) -> None:
    if args.command == "insight-refresh":
        read = insight.refresh(ctx)
        with ctx.db.read() as conn:
            rows = insight.counts(conn)
        print(f"{read} events read; reporting copy: "
              + ", ".join(f"{k} {v}" for k, v in rows.items()))
        cuts = insight.publish_rfm_bounds(ctx)
        print("RFM cuts: no member has bought yet" if cuts is None else
              f"RFM cuts over {cuts.buyers} members published for the tills: "
              f"R {cuts.r}, F {cuts.f}, M {cuts.m}")
        return
    if args.xlsx and Path(args.xlsx).is_dir():  # refused before the report is worked out
        raise IsADirectoryError(errno.EISDIR, "a folder: give the workbook's file name",
                                args.xlsx)
    report, stores, tiers = insight.chain_health(ctx, start=args.start, end=args.end,
                                                 store=args.store)
    print(f"programme health {report.start.isoformat()}..{report.end.isoformat()} "
          f"(churn after {report.churned_days} days)")
    print("\t".join(label for label, _ in COLUMNS))
    for row in report.rows:
        print("\t".join([*map(tsv_field, names_of(row, stores, tiers, lambda s: s)),
                         *(_cell(v) for v in row_values(row))]))
    if args.xlsx:
        from pos_member.services.insight_report import write_health_workbook

        saved = write_health_workbook(report, Path(args.xlsx), stores=stores, tiers=tiers)
        print(f"saved: {saved.path}")
