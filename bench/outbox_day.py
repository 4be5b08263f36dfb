"""Benchmark: today's marketing messages per member (``coupon_notices.marketed_today``, asked
once by a job that tells many members: the coupon triggers), without and with migration 0022's
``ix_notification_outbox_day (created_at, kind, member_id)``.

Both the old query (SQLite's GROUP BY, which walks the member index in its order: the whole
outbox) and today's (the day's rows counted in Python) are timed, on a till's outbox as a busy
store fills it in a year: 400,000 messages (coupon, expiry and marketing kinds) for 50,000
members, spread evenly; the query plan and the median of the runs, the index dropped, then
built, on the same file.

    .venv/bin/python bench/outbox_day.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pos_member.clock import FakeClock  # noqa: E402
from pos_member.db.models import NotificationOutbox  # noqa: E402
from pos_member.services import coupon_notices  # noqa: E402

KINDS = ("coupon.issued", "coupon.expiring", *coupon_notices.MARKETING_KINDS)
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def build(path: Path, n: int) -> None:
    eng = create_engine(f"sqlite:///{path}")
    NotificationOutbox.__table__.create(eng)
    rng = random.Random(20261204)
    step = timedelta(days=365) / n
    with eng.begin() as conn:
        for start in range(0, n, 20_000):
            conn.execute(insert(NotificationOutbox), [
                {"id": f"{i:036d}", "member_id": f"m{rng.randrange(50_000):035d}",
                 "kind": rng.choice(KINDS), "params": {}, "dedupe_key": f"k{i}",
                 "status": "sent", "attempts": 1, "next_attempt_at": NOW - step * (n - i),
                 "created_at": NOW - step * (n - i), "sent_at": None, "last_error": None}
                for i in range(start, min(n, start + 20_000))])
    eng.dispose()


def _grouped(conn: Connection, since: datetime) -> dict[str, int]:
    """``marketed_today`` before 0022: counted by SQLite's GROUP BY."""
    out = NotificationOutbox.__table__.c
    return {r[0]: int(r[1]) for r in conn.execute(
        select(out.member_id, func.count()).where(
            out.kind.in_(coupon_notices.MARKETING_KINDS), out.created_at >= since)
        .group_by(out.member_id))}


def _keep(sent: list[tuple[str, object]], *a: object) -> None:
    sent.append((str(a[2]), a[3]))  # before_cursor_execute's (conn, cursor, sql, params, ...)


def measure(path: Path, runs: int) -> dict[str, object]:
    """The old query (GROUP BY) and today's ``marketed_today``: median ms and plan each."""
    eng = create_engine(f"sqlite:///{path}")
    clock = FakeClock(NOW, zone="Asia/Shanghai")
    since = clock.local(NOW).replace(hour=0, minute=0, second=0, microsecond=0)
    found: dict[str, object] = {}
    with eng.connect() as conn:
        for label, call in (("group_by", lambda: _grouped(conn, since)),
                            ("marketed_today",
                             lambda: coupon_notices.marketed_today(conn, clock))):
            sent: list[tuple[str, object]] = []
            catch = partial(_keep, sent)
            event.listen(eng, "before_cursor_execute", catch)
            counts = call()
            event.remove(eng, "before_cursor_execute", catch)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                call()
                times.append((time.perf_counter() - t) * 1000)
            sql, params = sent[-1]
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, params))  # type: ignore[arg-type]
            found[label] = {"members": len(counts), "messages": sum(counts.values()),
                            "median_ms": round(statistics.median(times), 2), "plan": plan}
    eng.dispose()
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "till.sqlite"
        build(path, args.rows)
        out = {}
        for label, sql in (("before", "DROP INDEX ix_notification_outbox_day"),
                           ("after", "CREATE INDEX ix_notification_outbox_day ON "
                                     "notification_outbox (created_at, kind, member_id)")):
            con = sqlite3.connect(path)
            con.execute(sql)
            con.commit()
            con.close()
            out[label] = measure(path, args.runs)
        print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
