"""Benchmark: the recruitment dashboard on a busy store's year.

A store with 50 guides and one year of data: 200,000 sales (60 % with a member, some refunded)
and 20,000 registrations credited to the guides, a month target for every month and a roster
(each guide 5 days in 7) for the whole year.

* ``dashboard_ms``: ``kpi.dashboard(...)`` for today (targets, split, registrations and sales
  per guide, the month so far) — median of the samples (p99 printed beside it).
* ``trend30_ms``: ``kpi.store_trend(days=30)`` (targets, registrations and sales per day) —
  median (p99 printed).
* ``xlsx_export_s``: ``export_day_report(...)`` writing the day's .xlsx — median of 5.
* raw baselines: a bare ``sqlite3`` GROUP BY over today's sales per guide, and over the last
  30 days' sales per day, on the same file — median.

The fixture is built once and cached in ``bench/.data/`` (rebuilt when this file changes, or
with ``--rebuild``); rows are bulk-inserted as the services write them (no events per row: the
dashboard never reads them).

    .venv/bin/python bench/dashboard.py [--samples N] [--rebuild]

Targets (issue 7): dashboard <= 50 ms, 30-day trend <= 100 ms, .xlsx export <= 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from pos_member.bootstrap import bootstrap  # noqa: E402
from pos_member.clock import DEFAULT_TZ, FakeClock  # noqa: E402
from pos_member.config import DEFAULT_HOURS  # noqa: E402
from pos_member.crypto import MemoryKeyStore  # noqa: E402
from pos_member.db.models import Member, Sale, Staff  # noqa: E402
from pos_member.member_code import make_member_no  # noqa: E402
from pos_member.permissions import Clerk, Role  # noqa: E402
from pos_member.services import kpi  # noqa: E402
from pos_member.services.kpi_report import export_day_report  # noqa: E402
from pos_member.services.targets import month_of, set_month_target, set_rosters  # noqa: E402

DATA = ROOT / "bench" / ".data"
DB = DATA / "dashboard.sqlite"
HASH = DATA / "dashboard.generator-sha256"
GUIDES, SALES, REGISTRATIONS = 50, 200_000, 20_000
TODAY = date(2026, 11, 25)
NOW_LOCAL = dtime(16, 0)
SEED = 7


def now_clock() -> FakeClock:
    return FakeClock(datetime.combine(TODAY, NOW_LOCAL, tzinfo=DEFAULT_TZ))


def build() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    for p in (DB, Path(f"{DB}-wal"), Path(f"{DB}-shm"), HASH):
        p.unlink(missing_ok=True)
    ks = MemoryKeyStore()
    clock = now_clock()
    app = bootstrap(DB, keystore=ks, clock=clock)
    ident = app.set_up(ks, store_number=1, store_name="基准门店", device_number=1,
                       device_name="收银台")
    rng = random.Random(SEED)
    with app.uow.begin() as tx:  # staff rows as create_staff writes them, without 50 hashes
        conn = tx.session.connection()
        rows = [{"id": str(uuid.uuid4()), "store_id": ident.store_id, "code": f"{2000 + i}",
                 "name": f"导购{i:02d}", "role": Role.GUIDE.value, "secret_hash": "-",
                 "failed_logins": 0, "locked_until": None, "active": True,
                 "created_at": clock.now()} for i in range(GUIDES)]
        rows.append({**rows[0], "id": str(uuid.uuid4()), "code": "8001", "name": "店长",
                     "role": Role.MANAGER.value})
        conn.execute(insert(Staff.__table__), rows)
        tx.commit()
    guides = [r["id"] for r in rows[:GUIDES]]
    manager = Clerk(rows[-1]["id"], "店长", Role.MANAGER, ident.store_id, ident.device_id)
    first = TODAY - timedelta(days=364)
    days = [first + timedelta(days=i) for i in range(365)]
    for m in sorted({month_of(d) for d in days}):
        set_month_target(app.uow, clerk=manager, month=m, target=REGISTRATIONS // 12)
    set_rosters(app.uow, clerk=manager, rosters={
        d: [g for i, g in enumerate(guides) if (d.toordinal() + i) % 7 not in (0, 1)]
        for d in days})
    opens = datetime.combine(first, DEFAULT_HOURS.opens, tzinfo=DEFAULT_TZ)
    span_s = DEFAULT_HOURS.total_minutes * 60
    members: list[str] = []
    member_rows: list[dict[str, Any]] = []
    for i in range(REGISTRATIONS):
        at = opens + timedelta(days=i * 365 // REGISTRATIONS, seconds=rng.randrange(span_s))
        mid = str(uuid.uuid4())
        members.append(mid)
        member_rows.append({
            "id": mid, "member_no": make_member_no(store_no=1, device_no=1, seq=i + 1),
            "phone_index": f"bench{i:010d}", "phone_enc": b"-", "name_enc": None,
            "gender": None, "birthday": None, "tags": [], "source_channel": "guide",
            "guide_id": guides[rng.randrange(GUIDES)], "referrer_id": None,
            "store_id": ident.store_id, "device_id": ident.device_id,
            "registered_by": manager.staff_id, "registered_at": at,
            "privacy_policy_version": "2026-01", "privacy_consent_at": at,
            "marketing_consent": False, "marketing_consent_at": None, "tier": "regular",
            "status": "active", "updated_hlc": "0"})
    sale_rows: list[dict[str, Any]] = []
    for i in range(SALES):
        day = first + timedelta(days=i * 365 // SALES)
        at = datetime.combine(day, DEFAULT_HOURS.opens, tzinfo=DEFAULT_TZ) + timedelta(
            seconds=rng.randrange(span_s))
        amount = rng.choice((2900, 4800, 6800, 9900, 12800, 25800, 49900))
        sale_rows.append({
            "id": str(uuid.uuid4()), "txn_id": str(uuid.uuid4()), "store_id": ident.store_id,
            "device_id": ident.device_id, "bill_no": f"B{i:08d}", "amount_fen": amount,
            "member_id": rng.choice(members[: max(1, (i * REGISTRATIONS) // SALES)])
            if rng.random() < 0.6 else None,
            "clerk_id": manager.staff_id, "guide_id": guides[rng.randrange(GUIDES)],
            "categories": [], "sold_at": at, "business_day": day,
            "refunded_fen": amount if rng.random() < 0.02 else 0})
    with app.uow.begin() as tx:
        conn = tx.session.connection()
        for chunk in range(0, len(member_rows), 10_000):
            conn.execute(insert(Member.__table__), member_rows[chunk:chunk + 10_000])
        for chunk in range(0, len(sale_rows), 20_000):
            conn.execute(insert(Sale.__table__), sale_rows[chunk:chunk + 20_000])
        tx.commit()
    app.close()
    con = sqlite3.connect(DB)
    con.execute("ANALYZE")
    con.close()
    HASH.write_text(generator_hash())


def generator_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    if args.rebuild or not DB.exists() or not HASH.exists() \
            or HASH.read_text().strip() != generator_hash():
        print("building the fixture (50 guides, 200,000 sales, 20,000 registrations)…")
        t = time.perf_counter()
        build()
        print(f"  built in {time.perf_counter() - t:.1f} s")
    ks = MemoryKeyStore()
    clock = now_clock()
    # A new data key: nothing personal is decrypted here (the fixture's phones are dummies).
    app = bootstrap(DB, keystore=ks, clock=clock, create_key=True)
    assert app.identity is not None
    with app.uow.read() as s:
        mgr = s.execute(select(Staff.id).where(Staff.code == "8001")).scalar_one()
    clerk = Clerk(mgr, "店长", Role.MANAGER, app.identity.store_id, app.identity.device_id)
    store = app.identity.store_id
    board = kpi.dashboard(app.uow, clerk=clerk)
    print(f"today {board.day}: {len(board.guides)} guides listed, {board.registrations} new "
          f"members of {board.plan.day_target}, {board.sales.sales} sales")

    raw = sqlite3.connect(DB)
    raw_day_sql = ("SELECT guide_id, count(*), sum(member_id IS NOT NULL), "
                   "sum(amount_fen - refunded_fen) FROM sales WHERE store_id = ? AND "
                   "business_day = ? AND refunded_fen < amount_fen GROUP BY guide_id")
    raw_30_sql = ("SELECT business_day, count(*), sum(member_id IS NOT NULL), "
                  "sum(amount_fen - refunded_fen) FROM sales WHERE store_id = ? AND "
                  "business_day BETWEEN ? AND ? AND refunded_fen < amount_fen "
                  "GROUP BY business_day")
    day30 = (TODAY - timedelta(days=29)).isoformat()
    samples = args.samples
    dash: list[float] = []
    trend: list[float] = []
    raw_day: list[float] = []
    raw_30: list[float] = []
    for _ in range(samples):  # interleaved: they share the machine's noise
        dash += timed(lambda: kpi.dashboard(app.uow, clerk=clerk), 1)
        trend += timed(lambda: kpi.store_trend(app.uow, store_id=store, days=30), 1)
        raw_day += timed(lambda: raw.execute(raw_day_sql, (store, TODAY.isoformat())).fetchall(),
                         1)
        raw_30 += timed(lambda: raw.execute(raw_30_sql, (store, day30, TODAY.isoformat()))
                        .fetchall(), 1)
    tmp = Path(tempfile.mkdtemp())
    export = timed(lambda: export_day_report(app.uow, clerk=clerk, path=tmp / "day.xlsx",
                                             store_name="基准门店"), 5)
    med = statistics.median
    print(f"dashboard:   median {med(dash):.2f} ms, p99 {p99(dash):.2f} ms  (target 50 ms)")
    print(f"trend 30 d:  median {med(trend):.2f} ms, p99 {p99(trend):.2f} ms  (target 100 ms)")
    print(f"xlsx export: median {med(export) / 1000:.3f} s  (target 1 s)")
    print(f"raw sqlite3: today's sales per guide median {med(raw_day):.3f} ms; "
          f"30 days' sales per day median {med(raw_30):.3f} ms")
    result = {
        "dashboard_ms": round(med(dash), 2), "dashboard_p99_ms": round(p99(dash), 2),
        "trend30_ms": round(med(trend), 2), "trend30_p99_ms": round(p99(trend), 2),
        "xlsx_export_s": round(med(export) / 1000, 3),
        "raw_day_query_ms": round(med(raw_day), 3), "raw_30day_query_ms": round(med(raw_30), 3),
        "guides": GUIDES, "sales": SALES, "registrations": REGISTRATIONS,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
