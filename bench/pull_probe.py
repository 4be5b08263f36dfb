"""Benchmark: how long a till's pull waits while many tills push at once (PostgreSQL).

A private PostgreSQL (``tests/server/postgres.py``) and the real app in a server process of its
own (``bench/sync_close.py``'s ``served``). ``--devices`` tills each push ``--batches`` batches
of 250 ``member.registered``-shaped events from their own thread, all starting together; one
more till pulls a page of 10 from cursor 0 every 50 ms until the last push is answered. Prints
the probes' p50, p99 and max, and the pushes' events per second over the burst's wall time.

    .venv/bin/python bench/pull_probe.py [--devices 64] [--batches 4]

Target (issue 14): ``pull_probe_p99_ms`` <= 500 during a 64-device burst. Before pushes had
threads of their own (``sync.server.app.push_threads``) pushes waiting for a write connection
filled Starlette's 40 threads and a pull waited for one (docs/scale.md, "Reads").
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sync_close import request_for, served, till_events  # noqa: E402  (sets a KEK)
from pos_member.clock import SystemClock  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.protocol import EnrolRequest, EnrolResponse  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

BATCH = 250


def enrol_all(url: str, base_url: str, n: int) -> list[EnrolResponse]:
    db = open_server_database(url)
    try:
        ctx = ServerContext(db=db, clock=SystemClock())
        services.create_store(ctx, number=1, name="bench")
        codes = [services.issue_enrolment_code(ctx, store_number=1).code for _ in range(n)]
    finally:
        db.dispose()
    with SyncClient(base_url) as client:
        return [client.enrol(EnrolRequest(code=c, device_name=f"till {i}"))
                for i, c in enumerate(codes)]


def burst(base_url: str, pushers: list[EnrolResponse], prober: EnrolResponse,
          batches: int) -> tuple[list[float], float]:
    rng = random.Random(14)
    rows = {e.device_id: till_events(e.store_id, e.device_id, batches * BATCH, rng=rng)
            for e in pushers}
    start = threading.Barrier(len(pushers) + 1)

    def push(e: EnrolResponse) -> None:
        with SyncClient(base_url, e.token, timeout=300) as client:
            mine = rows[e.device_id]
            start.wait()
            for i in range(0, len(mine), BATCH):
                client.push(request_for(e.device_id, mine[i:i + BATCH]))

    threads = [threading.Thread(target=push, args=(e,)) for e in pushers]
    for t in threads:
        t.start()
    waits: list[float] = []
    with SyncClient(base_url, prober.token, timeout=300) as client:
        start.wait()
        began = time.perf_counter()
        while any(t.is_alive() for t in threads):
            t0 = time.perf_counter()
            client.pull(0, limit=10)
            waits.append(time.perf_counter() - t0)
            time.sleep(0.05)
        wall = time.perf_counter() - began
    for t in threads:
        t.join()
    return sorted(waits), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=64)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not installed (scripts/system-deps.sh)")
    pg = PostgresServer.start(bin_dir)
    try:
        url = pg.create_database()
        migrate(url)
        with served(url) as base_url:
            enrolled = enrol_all(url, base_url, args.devices + 1)
            waits, wall = burst(base_url, enrolled[1:], enrolled[0], args.batches)
    finally:
        pg.stop()
    events = args.devices * args.batches * BATCH
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(f"{args.devices} devices x {args.batches * BATCH} events: {events / wall:,.0f} "
          f"events/s over {wall:.1f} s; {len(waits)} pull probes: p50 "
          f"{statistics.median(waits) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"max {waits[-1] * 1000:.0f} ms")
    print(f'RESULT {{"pull_probe_p99_ms": {p99 * 1000:.0f}, "pull_probe_max_ms": '
          f'{waits[-1] * 1000:.0f}, "burst_push_eps": {events / wall:.0f}}}')


if __name__ == "__main__":
    main()
