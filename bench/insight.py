"""Benchmark: the programme-health report (issue 19) on a chain's till-schema database.

A database of ``--stores`` stores' members (default 1,000,000 members over 20 stores) and three
years of sales (default 20 sales a member, ≈ 20 million; 60 % with a member, 2 % wholly
refunded), a points entry for every other member sale and stored value for one member in ten.
Tiers spread regular/silver/gold/diamond.

* ``health_store_month_s``: ``programme_health`` for one store and the last full month — median
  of ``--samples``.
* ``health_chain_s``: the same month for every store (``store_id=None``) — median.
* ``raw_aggregate_s``: a bare ``sqlite3`` GROUP BY over the same month's sales per store
  (members, bills, net amount) on the same file — median. Its store-only twin is printed.

* ``nightly_s``, ``nightly_peak_mb``: ``rfm.nightly`` (quintile boundaries and every member's
  scores), its Python heap peak (tracemalloc).
* ``incremental_p99_ms``: ``rfm.on_purchase`` inside one transaction, 2,000 members (rolled
  back), p99: what a member's sale adds.
* ``kept_added_p99_ms``: what the report's kept figures (till migration 0026: triggers keeping
  the ledger sums and home store, the purchase-day index) add to writing a member sale's row
  and its points entry: p99 of those two inserts for 2,000 members as they are, less p99 of
  the same with the triggers dropped and the sale not a purchase (outside the partial index),
  in alternating transactions rolled back. Both p99s are printed (``sale_rows_p99_ms``,
  ``sale_rows_bare_p99_ms``), and the same difference in the thread's CPU time
  (``kept_added_cpu_p99_ms``: no wait for the machine's other processes) and of the medians.
* ``recall_s``: the recall list (500, most valuable first) from the kept figures; beside it
  ``raw_rfm_sort_s``, a bare sort of ``member_rfm``.

The fixture is built once with plain ``sqlite3`` inserts into the migrated schema and cached in
``bench/.data/`` per size (rebuilt when this file changes, or with ``--rebuild``).

    .venv/bin/python bench/insight.py [--members N] [--sales-per-member N] [--samples N]

Targets (issue 19): one store one month <= 1 s, the chain <= 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pos_member.bootstrap import App, bootstrap  # noqa: E402
from pos_member.clock import FakeClock  # noqa: E402
from pos_member.crypto import MemoryKeyStore  # noqa: E402
from pos_member.permissions import Clerk, Role  # noqa: E402
from pos_member.services import rfm  # noqa: E402
from pos_member.services.insight import programme_health  # noqa: E402
from pos_member.services.recall import RecallOrder, recall_list  # noqa: E402

DATA = ROOT / "bench" / ".data"
TODAY = date(2026, 11, 25)
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
DAYS = 3 * 365
TIERS = ("regular",) * 6 + ("silver",) * 3 + ("gold", "diamond")


def paths(members: int, per: int) -> tuple[Path, Path]:
    stem = DATA / f"insight-{members}-{per}"
    return stem.with_suffix(".sqlite"), stem.with_suffix(".generator-sha256")


def generator_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def store_id(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


def build(db: Path, stamp: Path, *, members: int, per: int, stores: int) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), stamp):
        p.unlink(missing_ok=True)
    ks = MemoryKeyStore()
    app = bootstrap(db, keystore=ks, clock=clock())
    app.set_up(ks, store_number=1, store_name="基准门店", device_number=1, device_name="收银台",
               store_id=store_id(1))
    app.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    device = con.execute("SELECT id FROM devices").fetchone()[0]
    for n in range(2, stores + 1):  # the other stores: rows the members' foreign key names
        con.execute("INSERT INTO stores (id, number, name, created_at)"
                    " SELECT ?, ?, ?, created_at FROM stores WHERE id = ?",
                    (store_id(n), n, f"门店{n}", store_id(1)))
    first = int(datetime(TODAY.year - 3, TODAY.month, TODAY.day, 2, tzinfo=UTC).timestamp())
    span, sales = DAYS * 86400, members * per
    # Member i joins at first + i × span / members: sale j (at first + j × span / sales) picks
    # a member among those who joined before it.
    con.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {members - 1})
        INSERT INTO members (id, member_no, phone_index, phone_enc, source_channel, store_id,
            device_id, registered_at, privacy_policy_version, privacy_consent_at,
            marketing_consent, tier, status, updated_hlc, tags)
        SELECT printf('m%011d', i), printf('%012d', i), printf('bench%012d', i), x'2d', 'guide',
            printf('00000000-0000-0000-0000-%012d', i % {stores} + 1), '{device}', t, '2026-01',
            t, 0, CASE (i * 7919) % 11 WHEN 10 THEN 'diamond' WHEN 9 THEN 'gold'
                WHEN 8 THEN 'silver' WHEN 7 THEN 'silver' WHEN 6 THEN 'silver'
                ELSE 'regular' END, 'active', '0', '[]'
        FROM (SELECT i, datetime({first} + i * {span} / {members}, 'unixepoch') || '.000000'
              AS t FROM n)""")
    con.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {sales - 1})
        INSERT INTO sales (id, txn_id, store_id, device_id, bill_no, amount_fen, member_id,
            categories, sold_at, business_day, refunded_fen, home_store_id)
        SELECT printf('s%011d', i), printf('t%011d', i),
            printf('00000000-0000-0000-0000-%012d', i % {stores} + 1), '{device}',
            printf('B%011d', i), amount, CASE WHEN b IS NOT NULL THEN printf('m%011d', b) END,
            '[]', datetime(at, 'unixepoch') || '.000000',
            date(at + 8 * 3600, 'unixepoch'), CASE WHEN i % 50 = 7 THEN amount ELSE 0 END,
            CASE WHEN b IS NOT NULL
                 THEN printf('00000000-0000-0000-0000-%012d', b % {stores} + 1) END
        FROM (SELECT i, {first} + i * {span} / {sales} AS at,
                     CASE i % 7 WHEN 0 THEN 2900 WHEN 1 THEN 4800 WHEN 2 THEN 6800
                       WHEN 3 THEN 9900 WHEN 4 THEN 12800 WHEN 5 THEN 25800 ELSE 49900 END
                       AS amount,
                     CASE WHEN (i * 2654435761) % 10 < 6 AND i * {members} / {sales} > 1
                          THEN ((i * 1103515245 + 12345) % 2147483648)
                               % (i * {members} / {sales}) END AS b
              FROM n)""")
    # The sales carry their buyer's home store as record_sale writes them (member b's store is
    # b % stores + 1, as above), and so do their points entries: the triggers of till migration
    # 0026 then only add the points to the members' running sums.
    for kind, points, every in (("earn", "amount_fen / 100", 2),
                                ("redeem", "-amount_fen / 200", 10)):
        con.execute("INSERT INTO points_entries (id, member_id, kind, points, store_id, device_id,"
                    f" at, home_store_id) SELECT '{kind[0]}' || id, member_id, '{kind}', {points},"
                    f" store_id, device_id, sold_at, home_store_id FROM sales"
                    f" WHERE member_id IS NOT NULL AND rowid % {every} = 0")
    for k, (kind, principal, bonus, days) in enumerate((("topup", 50000, 5000, 1),
                                                        ("payment", -12000, -1200, 31))):
        con.execute(f"""
            INSERT INTO sv_ledger (id, member_id, txn_id, kind, principal_delta_fen,
                bonus_delta_fen, cash_fen, offline, store_id, device_id, at, business_day)
            SELECT 'v{k}' || id, id, 'vt{k}' || id, '{kind}', {principal}, {bonus}, 0, 0,
                store_id, device_id, datetime(registered_at, '+{days} days') || '.000000',
                date(registered_at, '+{days} days', '+8 hours')
            FROM members WHERE rowid % 10 = 0""")
    # member_rfm as migration 0019 fills it from a till's sales (the sales above bypassed
    # record_sale, which keeps it per sale).
    con.execute("INSERT INTO member_rfm (member_id, last_day, purchases, spend_fen) "
                "SELECT member_id, MAX(CASE WHEN refunded_fen < amount_fen THEN business_day END),"
                " SUM(CASE WHEN refunded_fen < amount_fen THEN 1 ELSE 0 END),"
                " SUM(amount_fen - refunded_fen) FROM sales WHERE member_id IS NOT NULL"
                " GROUP BY member_id")
    con.commit()
    con.execute("ANALYZE")
    con.close()
    stamp.write_text(generator_hash())


def clock() -> FakeClock:
    return FakeClock(datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=UTC))


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--sales-per-member", type=int, default=20)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    db, stamp = paths(args.members, args.sales_per_member)
    if args.rebuild or not db.exists() or not stamp.exists() \
            or stamp.read_text().strip() != generator_hash():
        print(f"building the fixture ({args.members:,} members, "
              f"{args.members * args.sales_per_member:,} sales, {args.stores} stores)…")
        t = time.perf_counter()
        build(db, stamp, members=args.members, per=args.sales_per_member, stores=args.stores)
        print(f"  built in {time.perf_counter() - t:.1f} s")
    app = bootstrap(db, keystore=MemoryKeyStore(), clock=clock(), create_key=True)
    assert app.identity is not None
    clerk = Clerk(None, "店长", Role.MANAGER, app.identity.store_id, app.identity.device_id)
    one = store_id(1)
    report = programme_health(app.uow, clerk=clerk, start=MONTH[0], end=MONTH[1], store_id=one)
    r = report.row(one)
    print(f"store 1, {MONTH[0]}..{MONTH[1]}: {r.tally.members:,} members, "
          f"{r.tally.active_members:,} active, 复购率 {r.repurchase_rate}, ARPU {r.arpu_fen} fen, "
          f"churn {r.churn_rate}")
    store_s = timed(lambda: programme_health(app.uow, clerk=clerk, start=MONTH[0],
                                             end=MONTH[1], store_id=one), args.samples)
    chain_s = timed(lambda: programme_health(app.uow, clerk=clerk, start=MONTH[0],
                                             end=MONTH[1]), max(1, args.samples // 2))
    raw = sqlite3.connect(db)
    sql = ("SELECT store_id, count(DISTINCT member_id), count(*), sum(amount_fen - refunded_fen)"
           " FROM sales WHERE business_day BETWEEN ? AND ? {} GROUP BY store_id")
    month = (MONTH[0].isoformat(), MONTH[1].isoformat())
    raw_chain = timed(lambda: raw.execute(sql.format(""), month).fetchall(), args.samples)
    raw_store = timed(lambda: raw.execute(sql.format("AND store_id = ?"), (*month, one))
                      .fetchall(), args.samples)
    med = statistics.median
    print(f"health, one store one month: {med(store_s):.3f} s (target ≤ 1 s); "
          f"raw store aggregate {med(raw_store):.3f} s")
    print(f"health, chain one month:     {med(chain_s):.3f} s (target ≤ 10 s); "
          f"raw chain aggregate {med(raw_chain):.3f} s")
    rfm_figures = measure_rfm(app, clerk, raw, args.samples)
    app.close()
    print("RESULT " + json.dumps({
        "members": args.members, "health_store_month_s": round(med(store_s), 3),
        "health_chain_s": round(med(chain_s), 3), "raw_aggregate_s": round(med(raw_chain), 3),
        **rfm_figures}))


def measure_rfm(app: App, clerk: Clerk, raw: sqlite3.Connection, samples: int) -> dict:
    """The nightly RFM run (boundaries and every member's scores; Python heap peak), the
    incremental update a member's sale adds in its transaction (p99 over 2,000 sales, rolled
    back), the recall list from the kept figures, and a bare sort of member_rfm beside them."""
    tracemalloc.start()
    t = time.perf_counter()
    run = rfm.nightly(app.uow, clerk=clerk, force=True)
    nightly_s = time.perf_counter() - t
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    buyers = run.bounds.buyers if run.bounds else 0
    ids = [r[0] for r in raw.execute("SELECT member_id FROM member_rfm ORDER BY random() "
                                     "LIMIT 2000")]
    adds = []
    with app.uow.begin() as tx:
        for member_id in ids:
            t = time.perf_counter()
            rfm.on_purchase(tx.conn, member_id, TODAY, 12_800)
            adds.append(time.perf_counter() - t)
        # not committed: the fixture stays as built
    kept = measure_kept(app, ids)
    recall_s = timed(lambda: recall_list(app.uow, clerk=clerk, order=RecallOrder.VALUE),
                     samples)
    raw_sort = timed(lambda: raw.execute(
        "SELECT member_id FROM member_rfm ORDER BY spend_fen DESC LIMIT 500").fetchall(), samples)
    p99 = sorted(adds)[int(len(adds) * 0.99) - 1] * 1000
    med = statistics.median
    print(f"RFM nightly over {buyers:,} buyers: {nightly_s:.1f} s (target ≤ 60 s), Python heap "
          f"peak {peak_mb:.1f} MB (target ≤ 300 MB)")
    print(f"RFM incremental in a sale's transaction: p99 {p99:.3f} ms (target ≤ 0.3 ms added)")
    print(f"recall list (500, most valuable first): {med(recall_s):.3f} s; "
          f"raw sort of member_rfm {med(raw_sort):.3f} s")
    return {"nightly_s": round(nightly_s, 2), "nightly_peak_mb": round(peak_mb, 1),
            "incremental_p99_ms": round(p99, 3), **kept, "recall_s": round(med(recall_s), 3),
            "raw_rfm_sort_s": round(med(raw_sort), 3)}


KEPT_TRIGGERS = ("points_entries_sums_insert", "points_entries_sums_update",
                 "points_entries_sums_delete", "sv_ledger_sums_insert", "sv_ledger_sums_update",
                 "sv_ledger_sums_delete", "sales_home_insert", "sales_home_update",
                 "points_entries_home_insert", "points_entries_home_update",
                 "members_home_insert", "members_home_update")


def measure_kept(app: App, ids: list[str]) -> dict:
    """A member sale's two ledger rows (the sale with its member's home store, as
    ``record_sale`` writes it; its points entry) written for each of ``ids``, with the report's
    kept figures and then without (triggers dropped, no home store, the sale wholly refunded
    so outside the purchase-day index), in one transaction rolled back."""
    def rows(tx_conn: object, n: str, refunded: bool, part: list[str]
             ) -> list[tuple[float, float]]:
        out = []
        for k, member_id in enumerate(part):
            sale = {"id": f"k{n}-{k}", "txn": f"kt{n}-{k}", "bill": f"K{n}-{k}",
                    "m": member_id, "refunded": 12_800 if refunded else 0,
                    "home": None if refunded else homes[member_id]}
            t, c = time.perf_counter(), time.thread_time()
            tx_conn.exec_driver_sql(  # type: ignore[attr-defined]
                "INSERT INTO sales (id, txn_id, store_id, device_id, bill_no, amount_fen,"
                " member_id, categories, sold_at, business_day, refunded_fen, home_store_id)"
                " VALUES (:id, :txn, 's', 'd', :bill, 12800, :m, '[]',"
                " '2026-11-25 08:00:00.000000', '2026-11-25', :refunded, :home)", sale)
            tx_conn.exec_driver_sql(  # type: ignore[attr-defined]
                "INSERT INTO points_entries (id, member_id, kind, points, store_id, device_id,"
                " at) VALUES (:id, :m, 'earn', 128, 's', 'd', '2026-11-25 08:00:00.000000')",
                sale)
            out.append((time.perf_counter() - t, time.thread_time() - c))
        return out

    def p99(xs: list[float]) -> float:
        return sorted(xs)[int(len(xs) * 0.99) - 1] * 1000

    with app.uow.read_conn() as conn:  # record_sale has it: read with the member
        homes = dict(conn.exec_driver_sql(
            "SELECT id, store_id FROM members WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),)).all())

    def series(n: int, bare: bool, part: list[str]) -> list[tuple[float, float]]:
        with app.uow.begin() as tx:
            if bare:
                for name in KEPT_TRIGGERS:
                    tx.conn.exec_driver_sql(f"DROP TRIGGER {name}")
            rows(tx.conn, f"w{n}", bare, part[:1])  # prepared again (the schema changed)
            return rows(tx.conn, str(n), bare, part)
            # not committed: the fixture stays as built

    series(0, False, ids)  # the pages they touch read once, for both series
    with_kept: list[tuple[float, float]] = []
    without: list[tuple[float, float]] = []
    for k in range(0, len(ids), 200):  # alternating, so that the machine's noise hits both
        without += series(2 * k + 1, True, ids[k:k + 200])
        with_kept += series(2 * k + 2, False, ids[k:k + 200])
    def wall(xs: list[tuple[float, float]]) -> list[float]:
        return [x[0] for x in xs]

    def cpu(xs: list[tuple[float, float]]) -> list[float]:  # the thread's: no wait for the
        return [x[1] for x in xs]  # machine's other processes

    bare, kept = p99(wall(without)), p99(wall(with_kept))
    bare_cpu, kept_cpu = p99(cpu(without)), p99(cpu(with_kept))
    median = (statistics.median(wall(with_kept)) - statistics.median(wall(without))) * 1000
    print(f"a member sale's rows with the report's kept figures: p99 {kept:.3f} ms, without "
          f"{bare:.3f} ms: {kept - bare:.3f} ms added (target: well under 0.3 ms); CPU p99 "
          f"{kept_cpu:.3f} / {bare_cpu:.3f} ms: {kept_cpu - bare_cpu:.3f} ms added; "
          f"median {median:.3f} ms added")
    return {"kept_added_p99_ms": round(kept - bare, 3), "sale_rows_p99_ms": round(kept, 3),
            "sale_rows_bare_p99_ms": round(bare, 3),
            "kept_added_cpu_p99_ms": round(kept_cpu - bare_cpu, 3),
            "kept_added_median_ms": round(median, 3)}


if __name__ == "__main__":
    main()
