"""``bulk_issue_100k_s`` for bench/coupons.py: HQ's ``issue-coupons`` of one template to
100,000 members of a store (``sync/server/coupon_bulk.py``), on a private PostgreSQL (Debian's
binaries, ``tests/server/postgres.py``), with a bare ``executemany`` of as many event-sized
rows as its baseline. HQ's cards are written with bare SQL (what a chain's registrations would
have left), the rules published as HQ does."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import insert, text

from pos_member.clock import FakeClock
from pos_member.rules_config import default_rules_path
from sync.server import services
from sync.server.context import ServerContext
from sync.server.coupon_bulk import issue_coupons
from sync.server.db import migrate, open_server_database
from sync.server.models import MemberCardRow


def bulk(members: int = 100_000) -> dict[str, float] | None:
    import os

    from sync.server.keys import new_kek
    from tests.server.postgres import PostgresServer, find_bin_dir

    os.environ.setdefault("POS_MEMBER_SERVER_KEK", new_kek())  # a bench chain's own

    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("bulk issue: no PostgreSQL binaries (scripts/system-deps.sh): skipped")
        return None
    pg = PostgresServer.start(bin_dir)
    try:
        url = pg.create_database()
        migrate(url)
        db = open_server_database(url)
        ctx = ServerContext(db=db, clock=FakeClock(datetime(2026, 6, 15, 2, 0, tzinfo=UTC)))
        store = services.create_store(ctx, number=1, name="门店1")
        services.publish_rules(ctx, path=default_rules_path())
        now = ctx.clock.now()
        rows = [{"member_id": f"m-{i:08d}", "member_no": f"9{i:013d}", "store_id": store.id,
                 "status": "active", "tier": "regular", "tier_hlc": "0", "profile": {},
                 "profile_hlc": "0", "updated_at": now} for i in range(members)]
        with db.write() as conn:
            for i in range(0, members, 10_000):
                conn.execute(insert(MemberCardRow), rows[i:i + 10_000])
        t0 = time.perf_counter()
        done = issue_coupons(ctx, template="CPN-10", reason="bench", store=1, batch="bench")
        elapsed = time.perf_counter() - t0
        with db.write() as conn:  # the baseline: as many rows, bare
            conn.execute(text("CREATE TABLE raw_rows (id text primary key, payload text)"))
            t1 = time.perf_counter()
            for i in range(0, members, 1000):
                conn.execute(text("INSERT INTO raw_rows VALUES (:id, :p)"),
                             [{"id": f"r-{k}", "p": "{" + "x" * 400 + "}"}
                              for k in range(i, min(members, i + 1000))])
            raw = time.perf_counter() - t1
        db.dispose()
    finally:
        pg.stop()
    print(f"bulk issue at HQ (PostgreSQL): {done.issued:,} coupons to {done.members:,} members "
          f"in {elapsed:.1f} s (chunks of 1,000); bare executemany of as many rows {raw:.1f} s")
    return {"bulk_issue_100k_s": round(elapsed, 2), "raw_executemany_100k_s": round(raw, 2)}
