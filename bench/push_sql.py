"""Benchmark: PostgreSQL's CPU a pushed event, statement by statement (issue 14, chain scale).

One thread in process pushes ``bench/chain_scale.py``'s events (its mix, its UUIDv7 ids, one
store a device, batches of ``MAX_BATCH``) through the push route's own work below HTTP
(authenticate, ``wire.decode_push``, ``services.push_json``) into a private PostgreSQL
(``tests/server/postgres.py``: fsync and synchronous_commit off, as the bench) with
``pg_stat_statements`` loaded (``track_planning`` on). Nothing runs beside the push, so what
it measures is CPU, not waits, and holds on a loaded machine:

- ``pg_us``: the CPU time of the push's backends (``/proc/<pid>/schedstat``, nanoseconds) a
  pushed event — PostgreSQL's share of the bench's "CPU per event";
- ``py_us``: the pushing process's CPU a pushed event (``time.process_time``);
- ``all_us``: all of PostgreSQL's CPU a pushed event meanwhile (``chain_scale``'s figure: the
  autovacuum workers, the checkpointer and the WAL writer too; clock ticks, 10 ms);
- each statement's planning and execution time a pushed event (``pg_stat_statements``: wall
  time in the backend — with one pusher its CPU, but for the COPY, whose time includes waiting
  for the client's rows), its calls and its WAL bytes a pushed event, largest first.

Each run is a fresh migrated database; the first push of each device is left out (the pools
connect, psycopg prepares a statement on its fifth run). ``--sql FILE`` runs the file's SQL
on the database before the pushes of every other run (alternated, the plain schema first): an
index dropped, a collation changed, measured against the schema as migrated in the same
process. ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of one more push's end statement
(``later``) after each run. ``--perf FILE`` records the push's backends with ``perf`` (call
graphs) during the first run's pushes (``perf report -i FILE --children``). ``--prefill N``
starts each run on a log of N events already (``_PREFILL``: a chain's larger indexes).
``--threads N`` pushes N at once (each device's pushes in one thread, ``--devices`` at least N):
what the concurrency of the push route's threads costs PostgreSQL beside the one-thread figure
(the backends' context switches are printed too).

    .venv/bin/python bench/push_sql.py [--devices N] [--events N] [--runs N] [--sql FILE]
        [--statements N] [--explain] [--perf FILE] [--prefill N] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.chain_scale import bodies_of, enrol_many  # noqa: E402
from pos_member.clock import SystemClock  # noqa: E402
from sync.protocol import MAX_BATCH  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import ENV_POOLS, migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.wire import decode_push  # noqa: E402
from tests.server.postgres import PostgresServer, required_bin_dir  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())
STATS = ("-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=1000 "
         "-c pg_stat_statements.track_planning=on -c pg_stat_statements.track=top")


def backend_ns(pids: list[int]) -> int:
    """CPU time the processes have run, in nanoseconds (``schedstat``'s first field)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except OSError:
            continue
    return total


def switches(pids: list[int]) -> tuple[int, int]:
    """The processes' (voluntary, involuntary) context switches so far."""
    vol = invol = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    invol += int(line.split()[1])
        except OSError:
            continue
    return vol, invol


def in_threads(push: Any, items: list[tuple[dict[str, Any], bytes]], threads: int) -> None:
    """``push(device, body)`` of each item, ``threads`` at once, each device's pushes in one
    thread in their order (devices dealt to the threads in turn)."""
    if threads <= 1:
        for d, body in items:
            push(d, body)
        return
    ids = list(dict.fromkeys(d["device_id"] for d, _ in items))
    lanes: list[list[tuple[dict[str, Any], bytes]]] = [[] for _ in range(threads)]
    for d, body in items:
        lanes[ids.index(d["device_id"]) % threads].append((d, body))
    start = threading.Barrier(threads)

    def run(lane: list[tuple[dict[str, Any], bytes]]) -> None:
        start.wait()
        for d, body in lane:
            push(d, body)

    workers = [threading.Thread(target=run, args=(lane,)) for lane in lanes]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def explain_next_flush() -> None:
    """The next push's end statement (``later.Later.flush``) run as ``EXPLAIN (ANALYZE,
    BUFFERS)`` instead (it writes the same rows), its plan printed."""
    from sync.server import later
    from sync.server.driver import text_statement

    flush = later.Later.flush

    def explained(self: later.Later) -> None:
        later.Later.flush = flush  # type: ignore[method-assign]
        sql, params = self._statement()
        compiled = text_statement(sql).statement.compile(dialect=self.conn.dialect)
        driver = self.conn.connection.driver_connection
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), params)
            print("\n".join(r[0] for r in cursor.fetchall()))
        self.homes, self.fixed, self.wanted, self.index = {}, [], [], []
        self.progress, self.cards = None, []

    later.Later.flush = explained  # type: ignore[method-assign]


# A chain's log before the pushes (``--prefill``): time-ordered ids, 1,000 stores, 3,000 tills,
# a tenth of them registrations, every fifth event routed, a home for each 10th member.
_PREFILL = """
ALTER TABLE events DISABLE TRIGGER events_no_change;
INSERT INTO events (position, id, store_id, device_id, seq, clerk_id, hlc, type, entity_id,
  payload_version, payload, rules_version, created_at, received_at)
SELECT i, substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(m, 1, 3) || '-8'
  || substr(m, 4, 3) || '-' || substr(m, 7, 12), 'store-' || lpad((i % 1000)::text, 30, '0'),
  'till-' || lpad((i % 3000)::text, 31, '0'), i / 3000 + 1, NULL, '0001700000000000-00000',
  CASE WHEN i % 10 = 0 THEN 'member.registered' ELSE 'points.earned' END,
  md5((i % 100000)::text)::uuid::text, 1, json_build_object('member_id',
  md5((i % 100000)::text)::uuid::text, 'txn_id', md5(i::text)::uuid::text, 'points', i % 500),
  '2026.1', now(), now()
FROM (SELECT i, lpad(to_hex(1700000000000 + i), 12, '0') AS h, md5(i::text) AS m
      FROM generate_series(1::bigint, %(n)s) AS i) AS g;
ALTER TABLE events ENABLE TRIGGER events_no_change;
INSERT INTO event_routes (store_id, position)
SELECT CASE WHEN i % 10 = 1 THEN '*' ELSE 'store-' || lpad((i % 1000)::text, 30, '0') END, i
FROM generate_series(1::bigint, %(n)s, 5) AS i;
INSERT INTO member_homes (member_id, store_id)
SELECT md5(i::text)::uuid::text, 'store-' || lpad((i % 1000)::text, 30, '0')
FROM generate_series(1, %(n)s / 10) AS i;
"""


def prefilled(pg: PostgresServer, n: int) -> str:
    """A migrated database holding ``n`` events of a chain (``_PREFILL``), analysed: the
    template each run's database is copied from."""
    import psycopg

    url = pg.create_database()
    migrate(url)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute(_PREFILL.replace("%(n)s", str(int(n))))
        conn.execute("VACUUM ANALYZE")
    return url.rsplit("/", 1)[1]


def run_once(pg: PostgresServer, devices_n: int, events: int, batch: int,
             sql: str | None, *, explain: bool = False, perf: Path | None = None,
             template: str | None = None, threads: int = 1) -> dict[str, Any]:
    import psycopg

    if template is None:
        url = pg.create_database()
        migrate(url)
    else:
        url = pg.url(f"t_{uuid.uuid4().hex[:16]}")
        with psycopg.connect(pg.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}" TEMPLATE "{template}"')
    plain = url.replace("postgresql+psycopg", "postgresql")
    if sql:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(sql)
    devices = enrol_many(url, devices_n)
    bodies = {d["device_id"]: bodies_of(d, events, batch) for d in devices}
    if threads > 5:  # the pools keep a connection for each thread (none closed on return)
        os.environ[ENV_POOLS] = f"write={threads}+10,read={threads}+15"
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())

    def push(device: dict[str, Any], body: bytes) -> int:
        identity = services.authenticate(ctx, token=device["token"])
        answer = json.loads(services.push_json(ctx, device=identity,
                                               request=decode_push(body)))
        return int(answer["acked_through"])

    # warm: the pools' connections (as many as the threads use), prepared statements
    in_threads(push, [(d, bodies[d["device_id"]][0]) for d in devices], threads)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True) as watch:
        pids = [r[0] for r in watch.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,))]
        watch.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        watch.execute("SELECT pg_stat_statements_reset()")
        timed = [(d, body) for d in devices for body in bodies[d["device_id"]][1:]]
        pushed = sum(len(json.loads(body)["events"]) for _, body in timed)
        recorder = None
        if perf is not None:  # the push's backends only, during the pushes only
            recorder = subprocess.Popen(
                ["perf", "record", "-q", "-F", "2999", "--call-graph", "dwarf,16384", "-o",
                 str(perf), "-p", ",".join(map(str, pids))], stderr=subprocess.DEVNULL)
            time.sleep(1)  # perf attaches
        from bench.close_tills import postgres_cpu

        all0 = postgres_cpu(pg)
        sw0 = switches(pids)
        ns0, cpu0 = backend_ns(pids), time.process_time_ns()
        in_threads(push, timed, threads)
        cpu1 = time.process_time_ns()
        pids += [r[0] for r in watch.execute(  # opened meanwhile (more threads at once)
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND NOT pid = ANY(%s)", (name, pids))]
        ns1, sw1 = backend_ns(pids), switches(pids)
        all1 = postgres_cpu(pg)
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait()
        rows = watch.execute(
            "SELECT query, calls, total_plan_time + total_exec_time, wal_bytes "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = %s AND query NOT LIKE '%%pg_stat_statements%%' "
            "ORDER BY 3 DESC", (name,)).fetchall()
        if explain:  # after the figures: one more push, its end statement explained
            explain_next_flush()
            push(devices[0], bodies_of(devices[0], events + batch, batch)[-1])
    ctx.db.dispose()
    pg.drop_database(url)
    return {"events": pushed, "pg_us": (ns1 - ns0) / 1e3 / pushed,
            "py_us": (cpu1 - cpu0) / 1e3 / pushed, "all_us": (all1 - all0) * 1e6 / pushed,
            "switches": ((sw1[0] - sw0[0]) * 1000 / pushed, (sw1[1] - sw0[1]) * 1000 / pushed),
            "statements": [(q, calls, ms * 1e3 / pushed, float(wal) / pushed)
                           for q, calls, ms, wal in rows]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--events", type=int, default=6_000, help="events a device")
    parser.add_argument("--batch", type=int, default=MAX_BATCH)
    parser.add_argument("--runs", type=int, default=3, help="runs (of each schema, --sql)")
    parser.add_argument("--sql", type=Path, help="SQL run before every other run's pushes")
    parser.add_argument("--statements", type=int, default=12, help="statements listed")
    parser.add_argument("--perf", type=Path,
                        help="perf record (call graphs) of the push's backends into this file, "
                             "the first run only")
    parser.add_argument("--prefill", type=int, default=0,
                        help="events in the log before the pushes (a chain's indexes)")
    parser.add_argument("--threads", type=int, default=1,
                        help="pushes at once (each device's in one thread; --devices at least)")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE a push's end statement after each run")
    args = parser.parse_args()
    bin_dir = required_bin_dir()
    sql = args.sql.read_text() if args.sql else None
    kinds = ["plain", "sql"] if sql else ["plain"]
    pg = PostgresServer.start(bin_dir, settings=STATS)
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    try:
        template = prefilled(pg, args.prefill) if args.prefill else None
        for i in range(args.runs):
            for kind in kinds:
                r = run_once(pg, args.devices, args.events, args.batch,
                             sql if kind == "sql" else None, explain=args.explain,
                             perf=args.perf if i == 0 and kind == "plain" else None,
                             template=template, threads=args.threads)
                results[kind].append(r)
                print(f"run {i + 1} {kind}: {r['events']:,} events, PostgreSQL "
                      f"{r['pg_us']:.2f} µs an event, Python {r['py_us']:.2f} (all of "
                      f"PostgreSQL, autovacuum too, {r['all_us']:.1f}); the backends' context "
                      f"switches per 1,000 events: {r['switches'][0]:.0f} voluntary, "
                      f"{r['switches'][1]:.0f} not", flush=True)
    finally:
        pg.stop()
    out: dict[str, Any] = {}
    for kind, runs in results.items():
        pg_us = sorted(r["pg_us"] for r in runs)
        py_us = sorted(r["py_us"] for r in runs)
        best = min(runs, key=lambda r: r["pg_us"])
        print(f"\n{kind}: PostgreSQL µs an event min {pg_us[0]:.2f} median "
              f"{statistics.median(pg_us):.2f}; Python min {py_us[0]:.2f} median "
              f"{statistics.median(py_us):.2f}")
        print("statements of the run with the least PostgreSQL CPU (µs an event, calls, "
              "WAL bytes an event):")
        for q, calls, us, wal in best["statements"][:args.statements]:
            print(f"  {us:6.2f} µs {calls:6d} calls {wal:7.1f} B  {' '.join(q.split())[:150]}")
        out[f"{kind}_pg_us_min"] = round(pg_us[0], 2)
        out[f"{kind}_pg_us_median"] = round(statistics.median(pg_us), 2)
        out[f"{kind}_py_us_min"] = round(py_us[0], 2)
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
