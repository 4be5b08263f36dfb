"""Benchmark: what the chain-wide stored-value check (sync/server/balances.py) adds to a push.

Pushes batches of 1,000 events through ``sync.server.ingest.push`` (no HTTP) into a fresh
SQLite server database in a temporary folder, interleaved: batches of ``sv.*`` money events
over 200 members that never go below zero, batches over 200 other members that do (flags and
server events), and, as the raw baseline from the same run, batches of the same size of an
event type the check skips.

    .venv/bin/python bench/overdraw.py [--batches N]

Target: the check costs under 10 ms per 1,000 money events (a closing push of 10,000 events
stays within the issue's 0.5 s budget), and nothing measurable for other events.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pos_member.clock import FakeClock, to_ms  # noqa: E402
from pos_member.events import SV_PAID  # noqa: E402
from pos_member.hlc import HLCTimestamp  # noqa: E402
from sync.protocol import PushRequest, WireEvent  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import DeviceIdentity, ServerContext  # noqa: E402
from sync.server.db import open_server_database, upgrade  # noqa: E402
from sync.server.ingest import push  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.models import Flag  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())  # HQ's KEK for this run's servers (subprocesses too)

BATCH = 1000
MEMBERS = [str(uuid.uuid4()) for _ in range(200)]
OTHER_MEMBERS = [str(uuid.uuid4()) for _ in range(200)]
KINDS = ("sv_ok", "sv_over", "other")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    db = open_server_database(f"sqlite:///{folder / 'server.sqlite'}")
    upgrade(db)
    clock = FakeClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    ctx = ServerContext(db=db, clock=clock)
    store = services.create_store(ctx, number=1, name="bench")
    devices = {}
    for kind in KINDS:
        code = services.issue_enrolment_code(ctx, store_number=1).code
        e = services.enrol(ctx, code=code, device_name=kind)
        devices[kind] = (DeviceIdentity(id=e.device_id, store_id=store.id, number=e.device_number,
                                        name=kind), 0)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for b in range(args.batches):
        for kind in KINDS:
            device, seq = devices[kind]
            events = []
            for i in range(BATCH):
                seq += 1
                now = clock.now()
                if kind == "sv_ok":  # topped up in the first batch, then small payments
                    member, delta = OTHER_MEMBERS[i % 200], -100 if b and i % 2 else 10_000
                else:  # two top-ups of 10 yuan per payment of 26
                    member, delta = MEMBERS[i % 200], 1_000 if i % 3 else -2_600
                payload = {"member_id": member, "txn_id": str(uuid.uuid4()),
                           "principal_delta_fen": delta, "bonus_delta_fen": 0}
                events.append(WireEvent(
                    id=str(uuid.uuid4()), store_id=store.id, device_id=device.id, seq=seq,
                    clerk_id=None, hlc=HLCTimestamp(to_ms(now), seq).pack(),
                    type="bench.other" if kind == "other" else SV_PAID.type, entity_id=None,
                    payload_version=1, payload=payload, rules_version="2026.1",
                    created_at=now))
            devices[kind] = (device, seq)
            request = PushRequest(device_id=device.id, events=events)
            started = time.perf_counter()
            push(ctx, device=device, request=request)
            times[kind].append((time.perf_counter() - started) * 1000)
    with db.read() as conn:
        flags = len(conn.execute(
            Flag.__table__.select().where(Flag.kind == "overdraw")).all())
    ok, over, other = (statistics.median(times[k]) for k in KINDS)
    print(f"{args.batches} batches of {BATCH} events of each kind, interleaved, SQLite, no HTTP")
    print(f"  sv.paid, no balance below zero (200 members): median {ok:.1f} ms/batch")
    print(f"  sv.paid, overdrawing (200 other members, {flags} overdraw flags and server "
          f"events in all): median {over:.1f} ms/batch")
    print(f"  another type (raw baseline, skipped by the check): median {other:.1f} ms/batch")
    print(f"  the check: {ok - other:.1f} ms per 1,000 money events ({ok / other:.2f}x), "
          f"{over - other:.1f} ms with overdraws ({over / other:.2f}x); target < 10 ms")
    print(f'RESULT {{"sv_batch_ms": {ok:.1f}, "sv_overdraw_batch_ms": {over:.1f}, '
          f'"baseline_batch_ms": {other:.1f}, "check_ms_per_1000": {ok - other:.1f}}}')
    db.dispose()


if __name__ == "__main__":
    main()
