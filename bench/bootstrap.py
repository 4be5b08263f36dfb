"""Benchmark: a new till joins a chain and serves (issue 14, "how a new or replaced till starts").

A private PostgreSQL (``tests/server/postgres.py``) holds a chain of ``--stores`` stores with
``--members`` members registered in all (one device per store pushing its registrations, in
batches of 1,000, through the push route's work). Then a fresh till (SQLite) of store 1 enrols
over HTTP on loopback and syncs: the member directory from HQ's snapshot (``GET /v2/snapshot``),
then its store's filtered log; the clock stops when it serves a scan of another store's member
and records a sale for them.

- ``bootstrap_s``: from enrolment to the sale recorded;
- ``bootstrap_db_mb``: the till's database after it (checkpointed);
- ``bootstrap_download_mb``: the snapshot's and the pulls' bytes on the wire (gzip).

The registrations carry only what HQ and the snapshot read: the few a pull still brings (stored
after the snapshot's position was taken) are held in the till's quarantine, not applied.
The issue's figures are for 1,000,000 members and 20,000,000 events (``bootstrap_1m_s`` …);
this script measures at the size it is given and prints per-member figures to scale from.

    .venv/bin/python bench/bootstrap.py [--members N] [--stores N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from pos_member.clock import FakeClock, SystemClock, to_ms  # noqa: E402
from pos_member.crypto import MemoryKeyStore  # noqa: E402
from pos_member.hlc import HLCTimestamp  # noqa: E402
from pos_member.member_code import make_member_no  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.app import create_app  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.wire import decode_push  # noqa: E402
from tests.server.live import serve  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())
BATCH = 1_000
# Store 1's first administrator: the new till's own, or (a store with a history) the one
# its earlier till made, who then logs in at the new till.
ADMIN = {"code": "9001", "name": "管理员", "secret": "246810"}


def registrations(store_id: str, device_id: str, store_no: int, n: int) -> list[bytes]:
    rng = random.Random(store_no)
    now = datetime.now(UTC)
    now_ms, stamp = to_ms(now), now.isoformat()
    rows = []
    for seq in range(1, n + 1):
        member_id = str(uuid.uuid4())
        rows.append({
            "id": str(uuid.uuid4()), "store_id": store_id, "device_id": device_id, "seq": seq,
            "clerk_id": None, "hlc": HLCTimestamp(now_ms, seq % 65_536).pack(),
            "type": "member.registered", "entity_id": member_id, "payload_version": 2,
            "payload": {"member_id": member_id,
                        "member_no": make_member_no(store_no=store_no, device_no=1, seq=seq),
                        "phone_index": rng.randbytes(32).hex(),
                        "phone_enc": rng.randbytes(39).hex(), "store_id": store_id,
                        "source_channel": "walk_in", "registered_at": stamp,
                        "privacy_policy_version": "2026.1", "privacy_consent_at": stamp},
            "rules_version": "2026.1", "created_at": stamp})
    return [json.dumps({"device_id": device_id, "events": rows[i:i + BATCH]}).encode()
            for i in range(0, n, BATCH)]


def build_chain(url: str, stores: int, members: int, history: int = 0
                ) -> tuple[ServerContext, str]:
    """The chain at HQ; returns its context and an enrolment code for store 1's new till.
    ``history``: about that many events of store 1 first, recorded by a till of it
    (:func:`store_history`); else store 1 has none."""
    migrate(url)
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    per_store = members // stores
    t = time.perf_counter()
    for number in range(1, stores + 1):
        services.create_store(ctx, number=number, name=f"store {number}")
        if number == 1:  # the new till's store: its history, if any, no registrations here
            if history:
                store_history(url, services.issue_enrolment_code(ctx, store_number=1).code,
                              history)
            continue
        code = services.issue_enrolment_code(ctx, store_number=number).code
        e = services.enrol(ctx, code=code, device_name=f"till {number}")
        device = services.authenticate(ctx, token=e.token)
        for body in registrations(e.store_id, e.device_id, number, per_store):
            services.push_json(ctx, device=device, request=decode_push(body))
    print(f"chain: {stores} stores, {per_store * (stores - 1):,} members "
          f"in {time.perf_counter() - t:.1f} s")
    return ctx, services.issue_enrolment_code(ctx, store_number=1).code


def store_history(url: str, code: str, events: int) -> None:
    """About ``events`` events of store 1 at HQ: a till of it enrols with ``code`` (its first
    administrator the one ``join`` logs in as), records a store's history with its own
    services (``bench/apply_rate.py``'s ``store_history``: registrations, sales earning and
    redeeming points, stored value topped up and paid, refunds) a year back to now, and pushes
    it over HTTP as it goes."""
    from bench.apply_rate import store_history as record
    from pos_member.bootstrap import bootstrap
    from pos_member.services.enrolment import FirstAdmin
    from pos_member.services.staff import login
    from sync.engine import enrol, push_all
    from tests.factories import migrated_database

    t = time.perf_counter()
    with serve(create_app(url)) as base_url, \
            tempfile.TemporaryDirectory(prefix="posm-history-") as work:
        keystore = MemoryKeyStore()
        clock = FakeClock(datetime.now(UTC) - timedelta(days=365))
        app = bootstrap(migrated_database(Path(work) / "till.sqlite"), keystore=keystore,
                        clock=clock)
        with SyncClient(base_url, timeout=600) as client:
            enrol(app, client, keystore, code=code, device_name="till 1",
                  server_url=base_url, admin=FirstAdmin(**ADMIN))
            assert app.identity is not None
            clerk = login(app.uow, code=ADMIN["code"], secret=ADMIN["secret"],
                          device_id=app.identity.device_id)
            pushed = record(app, clerk, clock, events, lambda: push_all(app, client)[0])
        app.close()
    print(f"store 1: {pushed:,} events of history in {time.perf_counter() - t:.1f} s")


def join(url: str, code: str, held: int, work: Path) -> dict[str, Any]:
    """A fresh till of store 1 enrols with ``code`` against HQ over ``url`` and syncs, then
    scans another store's member and records a sale; its figures (``held``: the members of
    other stores, for the per-member figures)."""
    from pos_member.bootstrap import bootstrap
    from pos_member.services import sales
    from pos_member.services.enrolment import FirstAdmin
    from pos_member.services.member_cards import find_member
    from pos_member.services.staff import login
    from sync.engine import enrol, sync_once
    from tests.factories import migrated_database

    wire = {"bytes": 0}

    def count(response: httpx.Response) -> None:
        response.read()
        wire["bytes"] += response.num_bytes_downloaded

    with serve(create_app(url)) as base_url:
        path = migrated_database(work / "till.sqlite")
        keystore = MemoryKeyStore()
        app = bootstrap(path, keystore=keystore, clock=FakeClock(datetime.now(UTC)))
        t = time.perf_counter()
        with SyncClient(base_url, timeout=600) as client:
            client._http.event_hooks["response"] = [count]
            enrol(app, client, keystore, code=code, device_name="new till",
                  server_url=base_url, admin=FirstAdmin(**ADMIN))
            sync_once(app, client)
        assert app.identity is not None
        clerk = login(app.uow, code=ADMIN["code"], secret=ADMIN["secret"],
                      device_id=app.identity.device_id)
        card = find_member(app.uow, clerk=clerk,
                           code=make_member_no(store_no=2, device_no=1, seq=1))
        sales.record_sale(app.uow, clerk, txn_id=str(uuid.uuid4()), bill_no="B-1",
                          amount_fen=10_000, member_id=card.id)
        seconds = time.perf_counter() - t
        app.close()
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    db_mb = path.stat().st_size / 1e6
    download_mb = wire["bytes"] / 1e6
    print(f"new till: served after {seconds:.1f} s; database {db_mb:.1f} MB; "
          f"downloaded {download_mb:.1f} MB; per member: {seconds / held * 1e6:.1f} µs, "
          f"{db_mb * 1e6 / held:.0f} B on disk, {download_mb * 1e6 / held:.0f} B on "
          "the wire")
    return {"members": held, "bootstrap_s": round(seconds, 2),
            "bootstrap_db_mb": round(db_mb, 1), "bootstrap_download_mb": round(download_mb, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=50)
    args = parser.parse_args()
    pg = PostgresServer.start(find_bin_dir())
    work = Path(tempfile.mkdtemp(prefix="posm-bootstrap-"))
    try:
        url = pg.create_database()
        ctx, code = build_chain(url, args.stores, args.members)
        ctx.db.dispose()
        held = args.members // args.stores * (args.stores - 1)
        print("RESULT " + json.dumps(join(url, code, held, work)))
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
