"""Benchmark: HQ's programme-health report (issue 19, ``sync/server/insight.py``) on PostgreSQL.

A private PostgreSQL (Debian's binaries, ``tests/server/postgres.py``) migrated to HQ's schema,
its reporting copy filled with bare SQL as bench/insight.py fills a till's (``--members`` over
``--stores`` stores, ``--sales-per-member`` sales over three years: 60 % with a member, 2 %
wholly refunded; a points entry for every other member sale, a redemption for one in ten;
stored value for one member in ten), ANALYZEd. The log is empty, so the report's read of it
costs nothing here: its own figure is ``refresh_events_per_s`` (sale events appended to the
log, then read).

* ``hq_health_store_month_s``: ``chain_health`` for store 1 and October 2026 — median.
* ``hq_health_chain_s``: the same month for the chain — median.
* ``hq_raw_aggregate_s``: a bare GROUP BY over the month's sales per store — median.

    .venv/bin/python bench/insight_hq.py [--members N] [--sales-per-member N] [--samples N]

Targets (issue 19): one store one month <= 1 s, the chain <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from pos_member.clock import FakeClock  # noqa: E402
from pos_member.rules_config import default_rules_path  # noqa: E402
from sync.server import insight, services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402

TODAY = date(2026, 11, 25)
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
DAYS = 3 * 365


def fill(conn: object, *, members: int, per: int, stores: list[str]) -> None:
    """The reporting copy, as bench/insight.py's till fixture (same spread, PostgreSQL SQL)."""
    first = int(datetime(TODAY.year - 3, TODAY.month, TODAY.day, 2, tzinfo=UTC).timestamp())
    span, sales, n = DAYS * 86400, members * per, len(stores)
    run = conn.execute  # type: ignore[attr-defined]
    run(text("CREATE TEMP TABLE bench_stores (k int primary key, id text)"))
    run(text("INSERT INTO bench_stores VALUES " + ", ".join(
        f"({k}, '{sid}')" for k, sid in enumerate(stores))))
    run(text(f"""
        INSERT INTO members (id, store_id, tier, status, registered_at, merged_into)
        SELECT 'm' || lpad(i::text, 11, '0'), s.id,
            CASE (i::bigint * 7919) % 11 WHEN 10 THEN 'diamond' WHEN 9 THEN 'gold'
                WHEN 8 THEN 'silver' WHEN 7 THEN 'silver' WHEN 6 THEN 'silver'
                ELSE 'regular' END, 'active',
            to_timestamp({first} + i::bigint * {span} / {members}), NULL
        FROM generate_series(0, {members - 1}) i JOIN bench_stores s ON s.k = i % {n}"""))
    run(text(f"""
        INSERT INTO sales (id, store_id, member_id, amount_fen, refunded_fen, sold_at,
                           business_day)
        SELECT 's' || lpad(i::text, 11, '0'), s.id,
            CASE WHEN (i::bigint * 2654435761) % 10 < 6 AND i::bigint * {members} / {sales} > 1
                 THEN 'm' || lpad(((i::bigint * 40503) % (i::bigint * {members} / {sales}))::text,
                                  11, '0') END,
            amount, CASE WHEN i % 50 = 7 THEN amount ELSE 0 END, to_timestamp(at),
            (to_timestamp(at) AT TIME ZONE 'Asia/Shanghai')::date
        FROM (SELECT i, {first} + i::bigint * {span} / {sales} AS at,
                     CASE i % 7 WHEN 0 THEN 2900 WHEN 1 THEN 4800 WHEN 2 THEN 6800
                       WHEN 3 THEN 9900 WHEN 4 THEN 12800 WHEN 5 THEN 25800 ELSE 49900 END
                       AS amount FROM generate_series(0, {sales - 1}) i) g
        JOIN bench_stores s ON s.k = g.i % {n}"""))
    for kind, points, every in (("earn", "amount_fen / 100", 2),
                                ("redeem", "-amount_fen / 200", 10)):
        run(text(f"""
            INSERT INTO points_entries (id, member_id, kind, points, at)
            SELECT '{kind[0]}' || id, member_id, '{kind}', {points}, sold_at FROM sales
            WHERE member_id IS NOT NULL AND hashtext(id) % {every} = 0"""))
    for k, (principal, bonus, days) in enumerate(((50000, 5000, 1), (-12000, -1200, 31))):
        run(text(f"""
            INSERT INTO sv_ledger (id, member_id, principal_delta_fen, bonus_delta_fen,
                                   business_day)
            SELECT 'v{k}' || id, id, {principal}, {bonus},
                ((registered_at + interval '{days} days') AT TIME ZONE 'Asia/Shanghai')::date
            FROM members WHERE hashtext(id) % 10 = 0"""))


def timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--sales-per-member", type=int, default=20)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--samples", type=int, default=3)
    args = ap.parse_args()
    from sync.server.keys import new_kek
    from tests.server.postgres import PostgresServer, find_bin_dir

    os.environ.setdefault("POS_MEMBER_SERVER_KEK", new_kek())
    bin_dir = find_bin_dir()
    if bin_dir is None:
        sys.exit("no PostgreSQL binaries (scripts/system-deps.sh)")
    pg = PostgresServer.start(bin_dir)
    try:
        url = pg.create_database()
        migrate(url)
        db = open_server_database(url)
        ctx = ServerContext(db=db, clock=FakeClock(datetime(TODAY.year, TODAY.month, TODAY.day,
                                                            8, tzinfo=UTC)))
        stores = [services.create_store(ctx, number=k, name=f"门店{k}").id
                  for k in range(1, args.stores + 1)]
        services.publish_rules(ctx, path=default_rules_path())
        t = time.perf_counter()
        with db.write() as conn:
            fill(conn, members=args.members, per=args.sales_per_member, stores=stores)
        with db.write() as conn:
            conn.execute(text("ANALYZE"))
        print(f"filled {args.members:,} members, {args.members * args.sales_per_member:,} "
              f"sales in {time.perf_counter() - t:.1f} s")
        insight.refresh(ctx)
        report, _, _ = insight.chain_health(ctx, start=MONTH[0], end=MONTH[1], store=1)
        r = report.rows[-1]
        print(f"store 1: {r.tally.members:,} members, {r.tally.active_members:,} active, "
              f"复购率 {r.repurchase_rate}, ARPU {r.arpu_fen} fen")
        store_s = timed(lambda: insight.chain_health(ctx, start=MONTH[0], end=MONTH[1],
                                                     store=1), args.samples)
        chain_s = timed(lambda: insight.chain_health(ctx, start=MONTH[0], end=MONTH[1]),
                        args.samples)
        sql = text("SELECT store_id, count(DISTINCT member_id), count(*), "
                   "sum(amount_fen - refunded_fen) FROM sales "
                   "WHERE business_day BETWEEN :a AND :b GROUP BY store_id")
        with db.read() as conn:
            raw = timed(lambda: conn.execute(sql, {"a": MONTH[0], "b": MONTH[1]}).all(),
                        args.samples)
        rate = refresh_rate(ctx, db, stores[0])
        db.dispose()
    finally:
        pg.stop()
    med = statistics.median
    print(f"HQ health, one store one month: {med(store_s):.3f} s (target ≤ 1 s)")
    print(f"HQ health, chain one month:     {med(chain_s):.3f} s (target ≤ 10 s); "
          f"raw chain aggregate {med(raw):.3f} s")
    print(f"HQ log read into the copy: {rate:,.0f} sale events/s")
    print("RESULT " + json.dumps({
        "members": args.members, "hq_health_store_month_s": round(med(store_s), 3),
        "hq_health_chain_s": round(med(chain_s), 3), "hq_raw_aggregate_s": round(med(raw), 3),
        "refresh_events_per_s": round(rate)}))


def refresh_rate(ctx: ServerContext, db: object, store_id: str, n: int = 20_000) -> float:
    """``n`` sale events appended to the log with bare SQL, then read into the copy."""
    now = ctx.clock.now()
    rows = []
    for i in range(n):
        sid = str(uuid.uuid4())
        rows.append({"p": 10**9 + i, "id": sid, "s": store_id, "seq": i + 1, "payload": json.dumps({
            "sale": {"id": sid, "store_id": store_id, "amount_fen": 5000,
                     "member_id": f"m{i:011d}", "sold_at": now.isoformat(),
                     "business_day": TODAY.isoformat()},
            "entries": [{"id": f"e{sid}", "member_id": f"m{i:011d}", "kind": "earn",
                         "points": 50, "at": now.isoformat()}]}), "at": now})
    with db.write() as conn:  # type: ignore[attr-defined]
        conn.execute(text(
            "INSERT INTO events (position, id, store_id, device_id, seq, clerk_id, hlc, type, "
            "entity_id, payload_version, payload, rules_version, created_at, received_at) "
            "VALUES (:p, :id, :s, 'bench', :seq, NULL, '0', 'sale.recorded', NULL, 1, "
            "CAST(:payload AS json), 'bench', :at, :at)"), rows)
    t = time.perf_counter()
    read = insight.refresh(ctx)
    return read / (time.perf_counter() - t)


if __name__ == "__main__":
    main()
