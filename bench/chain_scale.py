"""Benchmark: HQ's push path with many devices at once on PostgreSQL (issue 14, chain scale).

A private PostgreSQL (``tests/server/postgres.py``: Debian's binaries, fsync off, as in the
tests) and a fresh migrated database per run. Each device is enrolled in a store of its own.
``WORKERS`` server-like processes share the devices; in each, one thread per device pushes
that device's events in batches of ``MAX_BATCH`` (``sync.protocol``: what a till's
``engine.push_all`` sends a backlog in; ``--batch`` for another size) through the push
route's own work, below HTTP:
authenticate the token, decode the body (``wire.decode_push``), store and answer
(``services.push_json``). The bodies are built before the clock starts.

Events per device, in seq order: 10 % ``member.registered`` (a unique phone: the phone key
and ``member_index``), 10 % ``sv.*`` money events for one of ``MEMBERS`` chain-wide members
(member keys, ``member_balances``; each payment follows a top-up 100 times larger of the
same member, so nothing overdraws), the rest
``points.earned``-shaped events of ~300 bytes. Each event's id is a UUIDv7 of its time, a
millisecond after the one before it, as a till makes them (``pos_member.ids``: time-ordered;
random UUIDv4 ids here, until 2026-12-04, cost HQ's unique index on ``events.id`` a random
leaf per event: docs/scale.md, "A push's CPU, measured again"). Until 2026-12-04 22:00 the
bench pushed batches of 250, a size of its own; a 64-device burst is tills pushing a backlog,
which a till sends in batches of ``MAX_BATCH``.

Each process runs at most ``push_threads`` pushes at once, as the push route does
(``app.push_threads``: the other devices' pushes wait for a thread, as they wait on the
server's event loop), and what is alive when the clock starts is out of the garbage
collector's reach (``gc.freeze``), as the server does when it starts serving; until 2026-12-04
every device pushed in a thread of its own, 16 pushes at once a process, which the server
never runs, and each full collection walked the process's ~140,000 startup objects (60-80 ms).

- ``ingest_eps_8``, ``ingest_eps_64``: events stored per second of wall time, 8 and 64
  devices pushing at once (``EVENTS_8`` and ``EVENTS_64`` events per device), nothing else
  running in the bench;
- ``pull_probe_p99_ms`` (and ``pull_probe_pulls``, its samples): in a second 64-device burst
  (``EVENTS_PROBE`` events per device, so the burst gives about 1,000 pulls or more) a process
  of its own pulls (``services.pull_json``, pages of ``PROBE_PAGE``) from the log's tail back
  to back, a pull always in flight; or ``--probe-rate`` pulls a second on a fixed schedule,
  each timed from when it was due, so a pull held up behind a slow one counts its wait. The
  probe's own CPU is printed. ``ingest_eps_64_probed`` is that burst's push throughput. Until
  2026-12-05 the probe ran in the burst ``ingest_eps_64`` is measured on: back to back it
  costs ~1.5 s of CPU in its process (~3 ms a page of 100) plus its backend's, a third
  client taking ~15 % of the two cores from the pushes whose throughput the burst measures
  (docs/benchmarks.md, "The pull probe in a burst of its own");
- ``raw_copy_eps``: the same rows of the 64-device run, COPYed by one connection into a plain
  table of the same columns (no index, no constraint), one COPY and commit per batch (of the
  pushes' size);
- ``lost`` / ``doubled``: after each run every device's seqs must be stored exactly once
  (``1..n``) and every event id once.

- ``close_300_tills_s``: 300 tills (three to a store) close at once with 1,000 unsent events
  each against HQ served by uvicorn on loopback, until the last one's close-day returns
  (``bench/close_tills.py``, which says how); its ``lost`` / ``doubled`` add to the line's.

- ``bootstrap_1m_s``, ``bootstrap_db_mb``, ``bootstrap_download_mb``: a new till joining a
  chain of 1,000,000 members, its own store with 200,000 events of history, until it serves a
  scan and a sale (``bench/bootstrap_chain.py``: the chain built once and cached outside the
  repository; it says what the chain holds and why the other stores' events are left out).

``remote_lookup_p99_ms`` (HQ's member lookup with 1,000,000 members) is measured by
``bench/remote_lookup.py``, which prints it on its own RESULT line with its baseline.

    .venv/bin/python bench/chain_scale.py [--events-8 N] [--events-64 N] [--events-probe N]
        [--workers N] [--batch N] [--probe-rate N] [--close-tills N] [--bootstrap-members N]
        [--only ingest|close|bootstrap]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from pos_member.clock import SystemClock, to_ms  # noqa: E402
from pos_member.hlc import HLCTimestamp  # noqa: E402
from sync.protocol import MAX_BATCH  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.app import push_threads  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.models import SERVER_DEVICE_ID, Event  # noqa: E402
from sync.server.wire import decode_push  # noqa: E402
from tests.server.postgres import PostgresServer, required_bin_dir  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())  # HQ's KEK for this run (worker processes too)

WORKERS = 4
EVENTS_8 = 6_000
EVENTS_64 = 3_000
EVENTS_PROBE = 20_000  # a device's events in the probed burst: 1,000 pulls or more
MEMBERS = 1_000
PROBE_PAGE = 100
PROBE_RATE = 0.0  # pulls a second; 0: back to back
_COLUMNS = ("position", "id", "store_id", "device_id", "seq", "clerk_id", "hlc", "type",
            "entity_id", "payload_version", "payload", "rules_version", "created_at",
            "received_at")


# -- events a till would send ------------------------------------------------------------------

def member_ids(count: int = MEMBERS, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def device_events(store_id: str, device_id: str, n: int, seed: int, *,
                  registration_every: int = 10, members: list[str] | None = None
                  ) -> list[dict[str, Any]]:
    """``members``: those the money and points events name (default: the chain's shared
    ``MEMBERS``)."""
    rng = random.Random(seed)
    ids = random.Random(-seed)  # the events' ids (apart: the same events as before them)
    members = members or member_ids()
    now = datetime.now(UTC)
    now_ms, stamp = to_ms(now), now.isoformat()
    out = []
    topped = members[0]
    for seq in range(1, n + 1):
        kind = seq % 10
        if seq % registration_every == 0:
            member_id = str(uuid.uuid4())
            type_, payload = "member.registered", {
                "member_id": member_id, "member_no": f"{seed % 9999:04d}{seq:09d}",
                "phone_index": rng.randbytes(32).hex(), "phone_enc": rng.randbytes(39).hex(),
                "name_enc": rng.randbytes(37).hex(), "store_id": store_id,
                "source_channel": "walk_in", "registered_at": stamp,
                "privacy_policy_version": "2026.1", "privacy_consent_at": stamp}
        elif kind == 5:  # a top-up, then a payment of the member topped up last
            if seq % 20 == 5:
                member_id, delta = rng.choice(members), 10_000
                topped = member_id
            else:
                member_id, delta = topped, -100
            type_, payload = ("sv.topped_up" if delta > 0 else "sv.paid"), {
                "member_id": member_id, "txn_id": str(uuid.uuid4()),
                "principal_delta_fen": delta, "bonus_delta_fen": 0}
        else:
            member_id = rng.choice(members)
            type_, payload = "points.earned", {
                "member_id": member_id, "txn_id": str(uuid.uuid4()),
                "points": rng.randrange(1, 500), "amount_fen": rng.randrange(100, 100_000),
                "lot_id": str(uuid.uuid4()), "expires_on": "2027-12-31",
                "store_id": store_id, "rule": "base-1x"}
        out.append({
            "id": event_id(now_ms - n + seq, ids), "store_id": store_id, "device_id": device_id,
            "seq": seq,
            "clerk_id": None, "hlc": HLCTimestamp(now_ms, seq % 65_536).pack(), "type": type_,
            "entity_id": member_id, "payload_version": 1, "payload": payload,
            "rules_version": "2026.1", "created_at": stamp})
    return out


def event_id(ms: int, rng: random.Random) -> str:
    """A UUIDv7 made at ``ms`` (``pos_member.ids``' layout: a random counter, random bits)."""
    value = ((ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
             | rng.getrandbits(62))
    return str(uuid.UUID(int=value))


def bodies_of(device: dict[str, Any], n: int, batch: int = MAX_BATCH) -> list[bytes]:
    rows = device_events(device["store_id"], device["device_id"], n, device["seed"])
    return [json.dumps({"device_id": device["device_id"], "events": rows[i:i + batch]}).encode()
            for i in range(0, n, batch)]


# -- the pushing processes ---------------------------------------------------------------------

def push_worker(url: str, devices: list[dict[str, Any]], n: int, batch: int, ready: Any,
                start: Any, results: Any) -> None:
    """One server-like process: a thread per device pushes its batches once ``start`` is set;
    reports (events acknowledged, end time, errors)."""
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    bodies = {d["device_id"]: bodies_of(d, n, batch) for d in devices}
    acked: list[int] = []
    errors: list[str] = []
    gate = threading.Semaphore(push_threads(ctx))  # the route's push threads (``app``)

    def run(device: dict[str, Any]) -> None:
        try:
            done = 0
            for body in bodies[device["device_id"]]:
                with gate:
                    identity = services.authenticate(ctx, token=device["token"])
                    answer = json.loads(services.push_json(ctx, device=identity,
                                                           request=decode_push(body)))
                done = answer["acked_through"]
            acked.append(done)
        except Exception as e:  # reported, counted as lost
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(d,)) for d in devices]
    gc.collect()  # what is alive now out of the collector's reach, as the server does when
    gc.freeze()  # serving starts (``app._freeze_startup_objects``)
    ready.put(len(devices))
    start.wait()
    cpu0 = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((sum(acked), time.monotonic(), errors, time.process_time() - cpu0))
    ctx.db.dispose()


def probe_worker(url: str, device: dict[str, Any], rate: float, ready: Any, start: Any,
                 stop: Any, results: Any) -> None:
    """Pulls from the log's tail ``rate`` times a second (0: back to back) until ``stop``;
    reports (each pull's ms from when it was due to its answer, the process's CPU s)."""
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    identity = services.authenticate(ctx, token=device["token"])
    cursor = 0
    times: list[float] = []
    ready.put(0)
    start.wait()
    cpu0, t0 = time.process_time(), time.perf_counter()
    while not stop.is_set():
        due = t0 + len(times) / rate if rate else time.perf_counter()
        if due > time.perf_counter() and stop.wait(due - time.perf_counter()):
            break
        page = json.loads(services.pull_json(ctx, device=identity, cursor=cursor,
                                             limit=PROBE_PAGE))
        times.append((time.perf_counter() - due) * 1000)
        cursor = page["cursor"]
    results.put((times, time.process_time() - cpu0))
    ctx.db.dispose()


def enrol_devices(url: str, count: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``count`` devices, each in a store of its own, and one more that probes."""
    devices = enrol_many(url, count + 1)
    return devices[:-1], devices[-1]


def enrol_many(url: str, count: int, *, per_store: int = 1) -> list[dict[str, Any]]:
    """``count`` devices, ``per_store`` to a store (stores numbered from 1)."""
    db = open_server_database(url)
    ctx = ServerContext(db=db, clock=SystemClock())
    devices = []
    for i in range(count):
        number = i // per_store + 1
        if i % per_store == 0:
            services.create_store(ctx, number=number, name=f"store {number}")
        code = services.issue_enrolment_code(ctx, store_number=number).code
        e = services.enrol(ctx, code=code, device_name=f"till {i + 1}")
        devices.append({"device_id": e.device_id, "store_id": e.store_id, "token": e.token,
                        "seed": i + 1})
    db.dispose()
    return devices


def ingest(pg: PostgresServer, count: int, n: int, workers: int, *, probe: float | None,
           batch: int = MAX_BATCH) -> dict[str, Any]:
    """``probe``: the pull probe's rate (0: back to back; None: no probe)."""
    url = pg.create_database()
    migrate(url)
    devices, prober = enrol_devices(url, count)
    spawn = mp.get_context("spawn")
    ready, results, probe_results = spawn.Queue(), spawn.Queue(), spawn.Queue()
    start, stop = spawn.Event(), spawn.Event()
    procs = [spawn.Process(target=push_worker,
                           args=(url, devices[i::workers], n, batch, ready, start, results))
             for i in range(min(workers, count))]
    if probe is not None:
        procs.append(spawn.Process(target=probe_worker, args=(
            url, prober, probe, ready, start, stop, probe_results)))
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    from bench.close_tills import postgres_cpu

    pg_cpu = postgres_cpu(pg)
    t0 = time.monotonic()
    start.set()
    outcomes = [results.get() for _ in range(min(workers, count))]
    pg_cpu = postgres_cpu(pg) - pg_cpu
    stop.set()
    latencies, probe_cpu = probe_results.get() if probe is not None else ([], 0.0)
    for p in procs:
        p.join()
    wall = max(end for _, end, _, _ in outcomes) - t0
    errors = [e for _, _, errs, _ in outcomes for e in errs]
    python_cpu = sum(cpu for *_, cpu in outcomes)
    lost, doubled = check(url, devices, n)
    return {"url": url, "devices": devices, "events": count * n, "wall_s": wall,
            "eps": count * n / wall, "errors": errors, "lost": lost, "doubled": doubled,
            "probe_ms": latencies, "probe_cpu_s": probe_cpu,
            "python_us": python_cpu / (count * n) * 1e6,
            "postgres_us": pg_cpu / (count * n) * 1e6}


def check(url: str, devices: list[dict[str, Any]], n: int) -> tuple[int, int]:
    """(lost, doubled): every device's seqs 1..n once, every id once."""
    db = open_server_database(url)
    with db.read() as conn:
        rows = conn.execute(select(Event.device_id, func.count(), func.count(func.distinct(
            Event.seq)), func.count(func.distinct(Event.id)), func.max(Event.seq))
            .where(Event.device_id != SERVER_DEVICE_ID).group_by(Event.device_id)).all()
    db.dispose()
    by_device = {r[0]: r for r in rows}
    lost = doubled = 0
    for d in devices:
        r = by_device.get(d["device_id"])
        stored, seqs, ids = (r[1], r[2], r[3]) if r is not None else (0, 0, 0)
        lost += n - min(seqs, n)
        doubled += (stored - seqs) + (stored - ids)
    return lost, doubled


def raw_copy(pg: PostgresServer, devices: list[dict[str, Any]], n: int,
             batch: int = MAX_BATCH) -> float:
    """Events per second of one connection COPYing the same rows into a plain table."""
    import psycopg

    url = pg.create_database().replace("postgresql+psycopg", "postgresql")
    now = datetime.now(UTC)
    batches = []
    position = 0
    for d in devices:
        rows = device_events(d["store_id"], d["device_id"], n, d["seed"])
        for i in range(0, n, batch):
            chunk = []
            for r in rows[i:i + batch]:
                position += 1
                chunk.append((position, r["id"], r["store_id"], r["device_id"], r["seq"],
                              r["clerk_id"], r["hlc"], r["type"], r["entity_id"],
                              r["payload_version"], json.dumps(r["payload"]),
                              r["rules_version"], now, now))
            batches.append(chunk)
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE raw_events (position bigint, id varchar(36), store_id varchar(36),"
            " device_id varchar(36), seq bigint, clerk_id varchar(36), hlc varchar(32),"
            " type varchar(64), entity_id varchar(64), payload_version integer, payload jsonb,"
            " rules_version varchar(64), created_at timestamptz, received_at timestamptz)")
        conn.commit()
        t0 = time.perf_counter()
        for chunk in batches:
            with conn.cursor() as cur, cur.copy(
                    f"COPY raw_events ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
            conn.commit()
        elapsed = time.perf_counter() - t0
    return sum(len(b) for b in batches) / elapsed


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-8", type=int, default=EVENTS_8)
    parser.add_argument("--events-64", type=int, default=EVENTS_64)
    parser.add_argument("--events-probe", type=int, default=EVENTS_PROBE)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--batch", type=int, default=MAX_BATCH,
                        help=f"events a push (default {MAX_BATCH}, a till's MAX_BATCH)")
    parser.add_argument("--probe-rate", type=float, default=PROBE_RATE,
                        help=f"the pull probe's pulls a second (default {PROBE_RATE:g}; "
                             "0: back to back)")
    parser.add_argument("--close-tills", type=int, default=300)
    parser.add_argument("--bootstrap-members", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("ingest", "close", "bootstrap"))
    args = parser.parse_args()
    if not 0 <= args.probe_rate <= 10_000:
        parser.error("--probe-rate must be 0..10000 pulls a second")
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1..{MAX_BATCH} (the push route refuses more)")
    bin_dir = required_bin_dir()
    result: dict[str, Any] = {}
    if args.only in (None, "bootstrap"):
        from bench.bootstrap_chain import run

        cpu = time.process_time()
        joined = run(args.bootstrap_members)
        # This process: the new till and HQ's app (served in a thread of it), and the copy of
        # the cached chain; not PostgreSQL's. On a loaded machine the wall time is a multiple.
        print(f"bootstrap: {time.process_time() - cpu:.1f} s of CPU in this process "
              f"(wall {joined['bootstrap_s']:.1f} s from enrolment)")
        result.update({"bootstrap_1m_s": joined["bootstrap_s"],
                       "bootstrap_db_mb": joined["bootstrap_db_mb"],
                       "bootstrap_download_mb": joined["bootstrap_download_mb"]})
    pg = PostgresServer.start(bin_dir)
    try:
        if args.only in (None, "ingest"):
            result.update(ingest_figures(pg, args))
        if args.only in (None, "close"):
            from bench.close_tills import close_tills, report

            closing = close_tills(pg, args.close_tills)
            report(closing)
            result["close_300_tills_s"] = round(closing["wall_s"], 1)
            result["lost"] = result.get("lost", 0) + closing["lost"]
            result["doubled"] = result.get("doubled", 0) + closing["doubled"]
    finally:
        pg.stop()
    print("RESULT " + json.dumps(result))
    return 0


def ingest_figures(pg: PostgresServer, args: argparse.Namespace) -> dict[str, Any]:
    """``ingest_eps_*``, ``raw_copy_eps``, ``pull_probe_p99_ms`` and their lost / doubled."""
    print(f"batches of {args.batch} events a push")
    eight = ingest(pg, 8, args.events_8, args.workers, probe=None, batch=args.batch)
    say("8 devices", eight)
    many = ingest(pg, 64, args.events_64, args.workers, probe=None, batch=args.batch)
    say("64 devices", many)
    probed = ingest(pg, 64, args.events_probe, args.workers, probe=args.probe_rate,
                    batch=args.batch)
    say("64 devices, the pull probe beside them", probed)
    probe = probed["probe_ms"]
    pace = f"{args.probe_rate:g} a second" if args.probe_rate else "back to back"
    print(f"pull probe during that burst: {len(probe)} pulls of {PROBE_PAGE} ({pace}), "
          f"p50 {statistics.median(probe):.1f} ms, p99 {p99(probe):.1f} ms, "
          f"max {max(probe):.1f} ms; the probe's CPU {probed['probe_cpu_s']:.2f} s")
    raw = raw_copy(pg, many["devices"], args.events_64, args.batch)
    print(f"bare COPY of the same {many['events']:,} rows: {raw:,.0f} events/s; "
          f"64-device ingest is {many['eps'] / raw:.0%} of it "
          f"({probed['eps'] / raw:.0%} beside the probe)")
    runs = (eight, many, probed)
    for e in [e for run in runs for e in run["errors"]][:5]:
        print(f"error: {e}")
    return {
        "ingest_eps_8": round(eight["eps"]), "ingest_eps_64": round(many["eps"]),
        "ingest_eps_64_probed": round(probed["eps"]),
        "raw_copy_eps": round(raw), "pull_probe_p99_ms": round(p99(probe), 1),
        "pull_probe_pulls": len(probe),
        "lost": sum(run["lost"] for run in runs),
        "doubled": sum(run["doubled"] for run in runs),
    }


def say(name: str, run: dict[str, Any]) -> None:
    print(f"{name}: {run['events']:,} events in {run['wall_s']:.2f} s = "
          f"{run['eps']:,.0f} events/s; lost {run['lost']}, doubled {run['doubled']}; "
          f"CPU per event: {run['python_us']:.0f} µs in the pushing processes, "
          f"{run['postgres_us']:.0f} µs in PostgreSQL"
          + (" (the probe's backend too)" if run["probe_ms"] else ""))


if __name__ == "__main__":
    raise SystemExit(main())
