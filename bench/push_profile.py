"""Profile: the CPU one pushed event costs HQ, one thread in process (issue 14, push throughput).

``bench/chain_scale.py --only ingest`` measures throughput: 64 devices in four processes on a
machine shared with other sessions, so its figures move with the load more than with the
code. This measures what a code change moves: the thread CPU (``time.thread_time``) of one
thread running the push route's own work, below HTTP, as the bench's pushing processes do
(``services.authenticate``, ``wire.decode_push``, ``services.push_json``), and the CPU of the
private PostgreSQL's processes meanwhile (``close_tills.postgres_cpu``), each a pushed event.
Thread CPU is what the push itself ran, not how long it waited for a core, so it holds on a
busy machine far better than wall time (the two cores' caches are shared: expect a few per
cent).

Each round: a fresh migrated database (a copy of a template) on a private PostgreSQL
(``tests/server/postgres.py``), ``--devices`` devices each in a store of its own pushing
``--events`` of ``chain_scale.device_events``' events (``bodies_of``: 80 % ``points.earned``,
10 % ``member.registered``, 10 % ``sv.*``) in batches of ``--batch`` (``MAX_BATCH``, a till's),
the devices' pushes taking turns. Before the clock starts two more devices push as much (the
statements prepared, the caches warm: psycopg prepares a statement on its fifth run on a
connection), and what is alive is frozen out of the garbage collector's reach, as the server
does when it starts serving. The raw baseline, from the same round: the CPU of ``json.loads``
of the same bodies, an event (how fast this machine runs Python at the moment).

    .venv/bin/python bench/push_profile.py [--devices 4] [--events 3000] [--batch 1000]
        [--rounds 3] [--cprofile N]

``--cprofile N``: the last round runs under cProfile (slower: its CPU figures are not
comparable) and prints the N functions of most own time and of most cumulative time.

Prints each round, then ``RESULT`` with the minimum and median over the rounds:
``python_us``, ``postgres_us`` (CPU an event) and ``raw_json_us`` (the baseline).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.chain_scale import bodies_of, enrol_many  # noqa: E402
from bench.close_tills import postgres_cpu  # noqa: E402
from pos_member.clock import SystemClock  # noqa: E402
from sync.protocol import MAX_BATCH  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.wire import decode_push  # noqa: E402
from tests.server.postgres import PostgresServer, required_bin_dir  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())
WARM_DEVICES = 2


def one_round(pg: PostgresServer, devices: int, events: int, batch: int,
              profile: cProfile.Profile | None = None) -> dict[str, float]:
    """One round on a fresh database: CPU an event of the pushing thread, of PostgreSQL, and
    of the baseline."""
    url = pg.create_database(migrated=True)
    enrolled = enrol_many(url, WARM_DEVICES + devices)
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    try:
        bodies = {d["device_id"]: bodies_of(d, events, batch) for d in enrolled}

        def turns(group: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bytes]]:
            pushes = len(bodies[group[0]["device_id"]])
            return [(d, bodies[d["device_id"]][i]) for i in range(pushes) for d in group]

        def push(order: list[tuple[dict[str, Any], bytes]]) -> None:
            for device, body in order:
                identity = services.authenticate(ctx, token=device["token"])
                services.push_json(ctx, device=identity, request=decode_push(body))

        push(turns(enrolled[:WARM_DEVICES]))
        measured = turns(enrolled[WARM_DEVICES:])
        n = sum(body.count(b'"seq"') for _, body in measured)
        gc.collect()
        gc.freeze()
        raw0 = time.thread_time()
        for _, body in measured:
            json.loads(body)
        raw = time.thread_time() - raw0
        pg0, cpu0 = postgres_cpu(pg), time.thread_time()
        if profile is not None:
            profile.enable()
        push(measured)
        if profile is not None:
            profile.disable()
        cpu, pg_cpu = time.thread_time() - cpu0, postgres_cpu(pg) - pg0
        gc.unfreeze()
        return {"python_us": cpu / n * 1e6, "postgres_us": pg_cpu / n * 1e6,
                "raw_json_us": raw / n * 1e6, "events": n}
    finally:
        ctx.db.dispose()
        pg.drop_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--events", type=int, default=3_000, help="a device")
    parser.add_argument("--batch", type=int, default=MAX_BATCH)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="profile the last round; print the top N functions")
    args = parser.parse_args()
    bin_dir = required_bin_dir()
    pg = PostgresServer.start(bin_dir)
    rounds = []
    try:
        print(f"load {os.getloadavg()[0]:.1f}; {args.devices} devices x {args.events:,} events "
              f"in batches of {args.batch}, one thread")
        for i in range(args.rounds):
            last = i == args.rounds - 1
            profile = cProfile.Profile(time.thread_time) if args.cprofile and last else None
            r = one_round(pg, args.devices, args.events, args.batch, profile)
            print(f"round {i + 1}: CPU an event: Python {r['python_us']:.1f} µs, PostgreSQL "
                  f"{r['postgres_us']:.1f} µs (baseline json.loads {r['raw_json_us']:.2f} µs)"
                  + (" [cProfile]" if profile is not None else ""))
            if profile is not None:
                stats = pstats.Stats(profile)
                stats.sort_stats("tottime").print_stats(args.cprofile)
                stats.sort_stats("cumulative").print_stats(args.cprofile)
            else:
                rounds.append(r)
        print(f"load {os.getloadavg()[0]:.1f}")
    finally:
        pg.stop()
    result: dict[str, float] = {}
    for key in ("python_us", "postgres_us", "raw_json_us"):
        values = [r[key] for r in rounds]
        if values:
            result[f"{key}_min"] = round(min(values), 2)
            result[f"{key}_median"] = round(statistics.median(values), 2)
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
