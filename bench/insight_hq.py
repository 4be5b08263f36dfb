"""Benchmark: HQ's programme-health report (issue 19, ``sync/server/insight.py``) on PostgreSQL.

A private PostgreSQL (Debian's binaries, ``tests/server/postgres.py``) migrated to HQ's schema,
its reporting copy filled with bare SQL as bench/insight.py fills a till's (``--members`` over
``--stores`` stores, ``--sales-per-member`` sales over three years: 60 % with a member, 2 %
wholly refunded; a points entry for every other member sale, a redemption for one in ten;
stored value for one member in ten; each member sale's buyer drawn by a hash from the members
registered by then), its home stores and running sums as the refresh keeps them (migrations
0017, 0018), VACUUM ANALYZEd. The filled server's data folder is cached under
``$POS_MEMBER_BENCH_CACHE`` (default ``/work/cache``) ``/insight-hq-<members>-<sales per
member>-<stores>``, keyed by the server's schema head, the parameters and the fill's SQL; a
later run starts on a copy of it in seconds (``--rebuild``: fill again). The log is empty, so
the report's read of it costs nothing here: its own figure is ``refresh_events_per_s`` (sale
events appended to the log, then read).

* ``hq_health_store_month_s``: ``chain_health`` for store 1 and October 2026 — median.
* ``hq_health_chain_s``: the same month for the chain — median.
* ``hq_nightly_rfm_s``: ``publish_rfm_bounds`` once — the quintile cuts over every buyer of the
  chain that HQ publishes each night for the tills' RFM scores.
* ``hq_raw_aggregate_s``: a bare GROUP BY over the month's sales per store — median;
  ``hq_raw_store_aggregate_s``: the same over store 1's month.

    .venv/bin/python bench/insight_hq.py [--members N] [--sales-per-member N] [--samples N]
        [--rebuild] [--whole-ledgers]

``--whole-ledgers`` also checks the report equals the till's queries over the whole ledgers
(``kept_sums=False``) and times those once.

Targets (issue 19): one store one month <= 1 s, the chain <= 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
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

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.pg_cache import cached_server  # noqa: E402
from pos_member.clock import FakeClock  # noqa: E402
from pos_member.rules_config import default_rules_path  # noqa: E402
from sync.server import insight, services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

TODAY = date(2026, 11, 25)
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=UTC)
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
                           business_day, home_store_id)
        SELECT 's' || lpad(i::text, 11, '0'), s.id,
            CASE WHEN buyer IS NOT NULL THEN 'm' || lpad(buyer::text, 11, '0') END,
            amount, CASE WHEN i % 50 = 7 THEN amount ELSE 0 END, to_timestamp(at),
            (to_timestamp(at) AT TIME ZONE 'Asia/Shanghai')::date, h.id
        FROM (SELECT i, at, amount, CASE WHEN (i::bigint * 2654435761) % 10 < 6
                     AND i::bigint * {members} / {sales} > 1
                     THEN ((i::bigint * 1103515245 + 12345) % 2147483648)
                          % (i::bigint * {members} / {sales}) END AS buyer
              FROM (SELECT i, {first} + i::bigint * {span} / {sales} AS at,
                     CASE i % 7 WHEN 0 THEN 2900 WHEN 1 THEN 4800 WHEN 2 THEN 6800
                       WHEN 3 THEN 9900 WHEN 4 THEN 12800 WHEN 5 THEN 25800 ELSE 49900 END
                       AS amount FROM generate_series(0, {sales - 1}) i) a) g
        JOIN bench_stores s ON s.k = g.i % {n}
        LEFT JOIN bench_stores h ON h.k = g.buyer % {n}"""))
    for kind, points, every in (("earn", "amount_fen / 100", 2),
                                ("redeem", "-amount_fen / 200", 10)):
        run(text(f"""
            INSERT INTO points_entries (id, member_id, kind, points, at, home_store_id)
            SELECT '{kind[0]}' || id, member_id, '{kind}', {points}, sold_at, home_store_id
            FROM sales
            WHERE member_id IS NOT NULL AND hashtext(id) % {every} = 0"""))
    for k, (principal, bonus, days) in enumerate(((50000, 5000, 1), (-12000, -1200, 31))):
        run(text(f"""
            INSERT INTO sv_ledger (id, member_id, principal_delta_fen, bonus_delta_fen,
                                   business_day, home_store_id)
            SELECT 'v{k}' || id, id, {principal}, {bonus},
                ((registered_at + interval '{days} days') AT TIME ZONE 'Asia/Shanghai')::date,
                store_id
            FROM members WHERE hashtext(id) % 10 = 0"""))
    # the members' running sums, as the refresh keeps them (migrations 0017's and 0018's)
    run(text("""UPDATE members m SET points_balance = g.p FROM (
        SELECT member_id, sum(points) AS p FROM points_entries GROUP BY member_id) g
        WHERE g.member_id = m.id"""))
    run(text("""UPDATE members m SET sv_principal_fen = g.p, sv_bonus_fen = g.b FROM (
        SELECT member_id, sum(principal_delta_fen) AS p, sum(bonus_delta_fen) AS b
        FROM sv_ledger GROUP BY member_id) g WHERE g.member_id = m.id"""))
    run(text("""UPDATE members m SET purchase_days = g.d FROM (
        SELECT member_id, array_agg(DISTINCT business_day ORDER BY business_day) AS d
        FROM sales WHERE member_id IS NOT NULL AND refunded_fen < amount_fen
        GROUP BY member_id) g WHERE g.member_id = m.id"""))


def timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t)
    return out




def cache_dir(members: int, per: int, stores: int) -> Path:
    base = Path(os.environ.get("POS_MEMBER_BENCH_CACHE", "/work/cache"))
    return base / f"insight-hq-{members}-{per}-{stores}"


def fingerprint(members: int, per: int, stores: int) -> str:
    """The cached chain's key: the server's schema head, the fill's parameters and its SQL."""
    from sync.server.db import SCHEMA_HEAD

    return hashlib.sha256(f"{SCHEMA_HEAD}/{members}/{per}/{stores}/{inspect.getsource(fill)}"
                          .encode()).hexdigest()


def cached_chain(bin_dir: Path, args: argparse.Namespace) -> tuple[PostgresServer, str]:
    """A server on the filled chain: a copy of the cached data folder, else filled (migrated,
    stores, rules, the copy's rows, VACUUM ANALYZE) and cached (``--rebuild``: always)."""

    def build(pg: PostgresServer) -> str:
        url = pg.create_database()
        migrate(url)
        db = open_server_database(url)
        ctx = ServerContext(db=db, clock=FakeClock(NOW))
        stores = [services.create_store(ctx, number=k, name=f"门店{k}").id
                  for k in range(1, args.stores + 1)]
        services.publish_rules(ctx, path=default_rules_path())
        t = time.perf_counter()
        with db.write() as conn:
            fill(conn, members=args.members, per=args.sales_per_member, stores=stores)
        db.dispose()
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as raw:
            raw.execute("VACUUM ANALYZE")  # as autovacuum would: index-only scans need it
        print(f"filled {args.members:,} members, {args.members * args.sales_per_member:,} "
              f"sales in {time.perf_counter() - t:.1f} s")
        return url

    pg, url = cached_server(
        bin_dir, cache_dir(args.members, args.sales_per_member, args.stores),
        fingerprint(args.members, args.sales_per_member, args.stores), build,
        rebuild=args.rebuild)
    assert url is not None
    return pg, url


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--sales-per-member", type=int, default=20)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="fill again, not from the cache")
    ap.add_argument("--whole-ledgers", action="store_true",
                    help="also time the till's queries over the whole ledgers (once each)")
    args = ap.parse_args()
    os.environ.setdefault(ENV_KEK, new_kek())
    bin_dir = find_bin_dir()
    if bin_dir is None:
        sys.exit("no PostgreSQL binaries (scripts/system-deps.sh)")
    pg, url = cached_chain(bin_dir, args)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    try:
        db = open_server_database(url)
        ctx = ServerContext(db=db, clock=FakeClock(NOW))
        with db.read() as conn:
            stores = list(conn.scalars(text("SELECT id FROM stores ORDER BY number")))
        insight.refresh(ctx)
        report, _, _ = insight.chain_health(ctx, start=MONTH[0], end=MONTH[1], store=1)
        r = report.rows[-1]
        print(f"store 1: {r.tally.members:,} members, {r.tally.active_members:,} active, "
              f"复购率 {r.repurchase_rate}, ARPU {r.arpu_fen} fen")

        def health(store: int | None, kept: bool = True) -> object:
            return insight.chain_health(ctx, start=MONTH[0], end=MONTH[1], store=store,
                                        kept_sums=kept)

        cpu = time.process_time()
        store_s = timed(lambda: health(1), args.samples)
        chain_s = timed(lambda: health(None), args.samples)
        cpu = time.process_time() - cpu
        old: dict[str, float] = {}
        if args.whole_ledgers:
            assert health(1, False) == health(1) and health(None, False) == health(None)
            old = {"store": timed(lambda: health(1, False), 1)[0],
                   "chain": timed(lambda: health(None, False), 1)[0]}
        sql = text("SELECT store_id, count(DISTINCT member_id), count(*), "
                   "sum(amount_fen - refunded_fen) FROM sales "
                   "WHERE business_day BETWEEN :a AND :b GROUP BY store_id")
        one = text("SELECT count(DISTINCT member_id), count(*), sum(amount_fen - refunded_fen) "
                   "FROM sales WHERE store_id = :s AND business_day BETWEEN :a AND :b")
        with db.read() as conn:
            raw = timed(lambda: conn.execute(sql, {"a": MONTH[0], "b": MONTH[1]}).all(),
                        args.samples)
            raw_store = timed(lambda: conn.execute(one, {"s": stores[0], "a": MONTH[0],
                                                         "b": MONTH[1]}).all(), args.samples)
        t = time.perf_counter()
        bounds = insight.publish_rfm_bounds(ctx)
        nightly_s = time.perf_counter() - t
        assert bounds is not None
        rate = refresh_rate(ctx, db, stores[0])
        db.dispose()
    finally:
        pg.stop()
    med = statistics.median
    print(f"HQ health, one store one month: {med(store_s):.3f} s (target ≤ 1 s); "
          f"raw store aggregate {med(raw_store):.3f} s")
    print(f"HQ health, chain one month:     {med(chain_s):.3f} s (target ≤ 10 s); "
          f"raw chain aggregate {med(raw):.3f} s")
    print(f"this process's CPU over both reports' samples: {cpu:.1f} s")
    if old:
        print(f"the till's queries over whole ledgers (same reports): store {old['store']:.3f} s, "
              f"chain {old['chain']:.3f} s")
    print(f"HQ nightly RFM cuts (publish_rfm_bounds, {bounds.buyers:,} buyers): "
          f"{nightly_s:.1f} s (target ≤ 60 s)")
    print(f"HQ log read into the copy: {rate:,.0f} sale events/s")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("RESULT " + json.dumps({
        "members": args.members, "hq_health_store_month_s": round(med(store_s), 3),
        "hq_health_chain_s": round(med(chain_s), 3), "hq_raw_aggregate_s": round(med(raw), 3),
        "hq_raw_store_aggregate_s": round(med(raw_store), 3),
        "hq_nightly_rfm_s": round(nightly_s, 1), "refresh_events_per_s": round(rate)}))


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
