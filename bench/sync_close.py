"""Benchmark: the closing sync against the real central server, on SQLite and PostgreSQL.

The real app (``sync.server.app.create_app``) runs under uvicorn on 127.0.0.1, port 0, in a
server process of its own (this script with ``--serve``), as in production: the till's 10,000
events in this process's memory do not weigh on the server's garbage collector. PostgreSQL is a
private server started from Debian's binaries by ``tests/server/postgres.py`` (fsync off, as in
the tests). A till-shaped client (``sync.client.SyncClient``, one keep-alive connection) enrols
a device and:

- pushes 10,000 ``member.registered``-shaped events (~760-byte payloads with the till's
  fields: ciphertexts, a blind index, unique phones) in batches of ``MAX_BATCH``, each an
  ``OutboxBatch`` of the till's row dicts as ``sync.engine.push_all`` sends it (building and
  encoding the bodies is also timed apart and printed), and checks every answer acknowledges
  the batch (``push10k_<backend>_s``);
- pulls the 10,000 changes from cursor 0 in pages of ``MAX_PAGE`` (``pull10k_s``);
- pushes the same 10,000 again: every event must come back as a duplicate and the ``events``
  table must not grow (``repush10k_s``).

The 10,000-row fixture is taken out of this process's garbage collector once built
(``untrack_fixture``): a till reads its outbox 1,000 rows at a time, and only this script holds
all of them, which would otherwise slow every collection while pull pages are parsed.

Raw baselines, same run: the same request bodies POSTed over the same kind of connection to a
bare Starlette endpoint under uvicorn that reads the body and answers ``{}`` (``raw_post_s``),
and a bare bulk insert of the same 10,000 rows into an ``events`` table of the same schema in a
fresh database, one transaction, through the driver alone (``sqlite3`` / ``psycopg``
executemany; ``raw_insert_s`` is SQLite's, PostgreSQL's is printed).

Ingest: 20 devices, each enrolled with its own token, push 1,000 events each at once from 20
threads in batches of 250; events per second over the wall time (``ingest_20_devices_eps``,
PostgreSQL's; SQLite's is printed). Then everything the server holds is compared with what was
sent: ``lost`` (sent, acknowledged or not, but not stored) and ``doubled`` (an event id or a
``(device, seq)`` stored more than once, or a stored row that was never sent), summed over both
backends.

Each closing sync runs ``--rounds`` times (3) on a fresh database and the median is reported;
the raw baselines likewise. ``pull10k_s`` and ``repush10k_s`` are the slower backend's figure
(both are printed). The pieces of the server's side: ``tests/server/live.py`` runs the app,
``tests/server/postgres.py`` starts PostgreSQL.

    .venv/bin/python bench/sync_close.py [--events N] [--rounds N] [--no-postgres]

Targets (issue 4): push 10k <= 0.5 s on each backend, pull 10k <= 0.5 s, repush within the
same budget (SPEC bar: 5 s).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from pos_member.clock import SystemClock, to_ms  # noqa: E402
from pos_member.events import MEMBER_REGISTERED  # noqa: E402
from pos_member.hlc import HLCTimestamp  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.protocol import API, MAX_BATCH, EnrolRequest, OutboxBatch  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.app import create_app  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import _SQLITE_PRAGMAS, migrate, open_server_database  # noqa: E402
from sync.server.keys import ENV_KEK, new_kek  # noqa: E402
from sync.server.models import SERVER_DEVICE_ID, Event, ServerBase  # noqa: E402
from tests.server.live import serve  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

os.environ.setdefault(ENV_KEK, new_kek())  # HQ's KEK for this run's servers (subprocesses too)

TARGET_S = 0.5
INGEST_DEVICES = 20
INGEST_PER_DEVICE = 1000
INGEST_BATCH = 250
_EVENT_COLUMNS = [c.name for c in Event.__table__.columns]


# -- events a till would send ------------------------------------------------------------------

def till_events(store_id: str, device_id: str, n: int, *, rng: random.Random) -> list[dict]:
    """``n`` events as the till's outbox rows (``pending_events``) hold them: member.registered
    with AES-GCM-sized ciphertexts (base64) and a 64-hex blind index, ~600 bytes of payload."""
    now = datetime.now(UTC)
    now_ms = to_ms(now)
    out = []
    for seq in range(1, n + 1):
        member_id = str(uuid.uuid4())
        payload = {
            "member_id": member_id,
            "member_no": f"{rng.randrange(1, 9999):04d}{rng.randrange(1, 99):02d}{seq:06d}",
            "phone_index": rng.randbytes(32).hex(),
            "phone_enc": base64.b64encode(rng.randbytes(12 + 11 + 16)).decode(),
            "name_enc": base64.b64encode(rng.randbytes(12 + 9 + 16)).decode(),
            "gender": rng.choice(["f", "m", None]),
            "birthday": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(9)}",
            "tags": rng.sample(["vip", "new", "family", "student", "senior"], 2),
            "source_channel": "walk_in",
            "guide_id": str(uuid.uuid4()),
            "referrer_id": None,
            "store_id": store_id,
            "registered_at": now.isoformat(),
            "privacy_policy_version": "2026-01",
            "privacy_consent_at": now.isoformat(),
            "marketing_consent": True,
            "marketing_consent_at": now.isoformat(),
        }
        out.append({
            "id": str(uuid.uuid4()), "store_id": store_id, "device_id": device_id, "seq": seq,
            "clerk_id": str(uuid.uuid4()), "hlc": HLCTimestamp(now_ms, seq % 1_000_000).pack(),
            "type": MEMBER_REGISTERED.type, "entity_id": member_id, "payload_version": 1,
            "payload": payload, "rules_version": "2026.1", "created_at": now.isoformat(),
        })
    return out


def untrack_fixture() -> None:
    """Takes everything alive now (the 10,000 rows above all) out of the garbage collector's
    reach. A till reads its outbox 1,000 rows at a time; only this script holds all 10,000
    in memory, and without this every full collection during the timed pull walks them
    (~40 % of the client's time parsing pull pages)."""
    gc.collect()
    gc.freeze()


def batches(rows: list[dict], size: int) -> list[list[dict]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def request_for(device_id: str, rows: list[dict]) -> OutboxBatch:
    """As ``sync.engine.push_all`` builds it from the outbox rows."""
    return OutboxBatch(device_id=device_id, events=rows)


# -- the server ----------------------------------------------------------------------------------

def run_server(url: str | None) -> None:
    """In the server process: the app over ``url`` (or the bare endpoint when None) under
    uvicorn on 127.0.0.1, port 0 (``tests/server/live.py``); prints the port, serves until
    stdin closes."""
    if url is None:
        async def nothing(request: Request) -> Response:
            await request.body()
            return Response(b"{}", media_type="application/json")

        app: Any = Starlette(routes=[Route(f"{API}/push", nothing, methods=["POST"])])
    else:
        app = create_app(url, clock=SystemClock())
    with serve(app) as base_url:
        print(base_url.rsplit(":", 1)[1], flush=True)
        sys.stdin.read()


@contextmanager
def served(url: str | None) -> Iterator[str]:
    """Runs the server process; yields its base URL."""
    args = [sys.executable, str(Path(__file__).resolve()), "--serve", url or "-"]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = int(proc.stdout.readline())
        base_url = f"http://127.0.0.1:{port}"
        yield base_url
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Backend:
    def __init__(self, name: str, new_url: Any) -> None:
        self.name = name
        self.new_url = new_url  # () -> a fresh, empty database URL

    def fresh(self) -> str:
        url = self.new_url()
        migrate(url)
        return url


def enrol(ctx: Any, base_url: str, store_number: int, name: str) -> tuple[str, str, str]:
    """(store_id, device_id, token) of a newly enrolled device."""
    code = services.issue_enrolment_code(ctx, store_number=store_number).code
    with SyncClient(base_url) as client:
        answer = client.enrol(EnrolRequest(code=code, device_name=name))
    return answer.store_id, answer.device_id, answer.token


def event_count(ctx: Any) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(Event)).scalar_one())


BUILD_S: list[float] = []  # the till's time building and encoding its bodies, per push_all


def push_all(client: SyncClient, device_id: str, rows: list[dict]) -> tuple[int, int, int]:
    """Pushes in MAX_BATCH batches; returns (stored, duplicates, acked_through)."""
    stored = dup = acked = 0
    for chunk in batches(rows, MAX_BATCH):
        answer = client.push(request_for(device_id, chunk))
        stored += len(answer.stored)
        dup += len(answer.duplicates)
        acked = answer.acked_through
        if acked < chunk[-1]["seq"]:
            raise AssertionError(f"batch ending at {chunk[-1]['seq']} acked only to {acked}")
    return stored, dup, acked


def build_time(device_id: str, rows: list[dict]) -> float:
    """The till's share of a push, measured apart (untimed by the push): building each
    ``OutboxBatch`` and encoding its body, as ``SyncClient.push`` does."""
    t0 = time.perf_counter()
    for chunk in batches(rows, MAX_BATCH):
        request_for(device_id, chunk).to_json()
    return time.perf_counter() - t0


def closing_sync(backend: Backend, n: int, rng: random.Random) -> dict[str, float]:
    url = backend.fresh()
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    services.create_store(ctx, number=1, name="bench store")
    with served(url) as base_url:
        store_id, device_id, token = enrol(ctx, base_url, 1, "till 1")
        rows = till_events(store_id, device_id, n, rng=rng)
        untrack_fixture()
        with SyncClient(base_url, token) as client:
            client.pull(0, 1)  # open the keep-alive connection, warm the routes:
            client.push(request_for(device_id, []))  # FastAPI reads a route's source once
            t0 = time.perf_counter()
            stored, dup, acked = push_all(client, device_id, rows)
            push_s = time.perf_counter() - t0
            BUILD_S.append(build_time(device_id, rows))
            if (stored, dup, acked) != (n, 0, n) or event_count(ctx) != n:
                raise AssertionError(f"push: stored {stored}, dup {dup}, acked {acked}")

            t0 = time.perf_counter()
            cursor, pulled, more = 0, 0, True
            while more:
                page = client.pull(cursor)
                pulled += len(page.changes)
                cursor, more = page.cursor, page.more
            pull_s = time.perf_counter() - t0
            if pulled != n:
                raise AssertionError(f"pulled {pulled} of {n}")

            t0 = time.perf_counter()
            stored, dup, acked = push_all(client, device_id, rows)
            repush_s = time.perf_counter() - t0
            if (stored, dup, acked) != (0, n, n) or event_count(ctx) != n:
                raise AssertionError(f"repush: stored {stored}, dup {dup}, acked {acked}, "
                                     f"events {event_count(ctx)}")
    ctx.db.dispose()
    gc.unfreeze()  # the rows may go now
    return {"push": push_s, "pull": pull_s, "repush": repush_s}


def ingest(backend: Backend, rng: random.Random) -> tuple[float, int, int]:
    """20 devices at once; returns (events per second, lost, doubled)."""
    url = backend.fresh()
    ctx = ServerContext(db=open_server_database(url), clock=SystemClock())
    with served(url) as base_url:
        devices = []
        for i in range(INGEST_DEVICES):
            number = i // 4 + 1  # five stores, four tills each
            if i % 4 == 0:
                services.create_store(ctx, number=number, name=f"store {number}")
            store_id, device_id, token = enrol(ctx, base_url, number, f"till {i + 1}")
            devices.append((device_id, token,
                            till_events(store_id, device_id, INGEST_PER_DEVICE, rng=rng)))
        start = threading.Barrier(INGEST_DEVICES + 1)
        errors: list[BaseException] = []

        def till(device_id: str, token: str, rows: list[dict]) -> None:
            try:
                with SyncClient(base_url, token, timeout=120) as client:
                    client.pull(0, 1)
                    client.push(request_for(device_id, []))
                    start.wait()
                    for chunk in batches(rows, INGEST_BATCH):
                        client.push(request_for(device_id, chunk))
            except BaseException as e:  # reported below
                errors.append(e)
                start.abort()

        threads = [threading.Thread(target=till, args=d) for d in devices]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        if errors:
            raise errors[0]
        with ctx.db.read() as conn:
            held = conn.execute(
                select(Event.id, Event.device_id, Event.seq)
                .where(Event.device_id != SERVER_DEVICE_ID)
            ).all()
        ctx.db.dispose()
    sent = {(r["id"], r["device_id"], r["seq"]) for _, _, rows in devices for r in rows}
    stored = Counter((r.id, r.device_id, r.seq) for r in held)
    by_id = Counter(r.id for r in held)
    by_seq = Counter((r.device_id, r.seq) for r in held)
    lost = len(sent - set(stored))
    doubled = (sum(c - 1 for c in by_id.values() if c > 1)
               + sum(c - 1 for c in by_seq.values() if c > 1)
               + sum(1 for k in stored if k not in sent))
    return len(sent) / wall, lost, doubled


# -- raw baselines -------------------------------------------------------------------------------

def raw_post(n: int, rng: random.Random) -> float:
    """The same request bodies, POSTed to an endpoint that only reads them."""

    rows = till_events("s" * 36, "d" * 36, n, rng=rng)
    bodies = [request_for("d" * 36, chunk).to_json()
              for chunk in batches(rows, MAX_BATCH)]
    with served(None) as base_url, httpx.Client(base_url=base_url) as http:
        http.post(f"{API}/push", content=b"{}")
        t0 = time.perf_counter()
        for body in bodies:
            http.post(f"{API}/push", content=body,
                      headers={"Content-Type": "application/json"}).raise_for_status()
        return time.perf_counter() - t0


def raw_rows(n: int, rng: random.Random) -> list[dict]:
    now = datetime.now(UTC).isoformat()
    rows = till_events("s" * 36, "d" * 36, n, rng=rng)
    return [{**r, "position": i, "payload": json.dumps(r["payload"]), "received_at": now}
            for i, r in enumerate(rows, 1)]


def raw_insert_sqlite(n: int, rng: random.Random, folder: Path, i: int) -> float:
    path = folder / f"raw{i}.sqlite"
    db = open_server_database(f"sqlite:///{path}")
    ServerBase.metadata.create_all(db.write_engine)
    db.dispose()
    rows = raw_rows(n, rng)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in _SQLITE_PRAGMAS:
        conn.execute(pragma)
    sql = (f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "
           f"VALUES ({', '.join(':' + c for c in _EVENT_COLUMNS)})")
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def raw_insert_postgres(url: str, n: int, rng: random.Random) -> float:
    import psycopg

    db = open_server_database(url)
    ServerBase.metadata.create_all(db.write_engine)
    db.dispose()
    rows = raw_rows(n, rng)
    sql = (f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) "
           f"VALUES ({', '.join('%(' + c + ')s' for c in _EVENT_COLUMNS)})")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
        conn.commit()
        return time.perf_counter() - t0


# -- main ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        run_server(None if args.serve == "-" else args.serve)
        return
    n = args.events
    rng = random.Random(4)
    sample = till_events("s" * 36, "d" * 36, 1, rng=rng)[0]
    print(f"events: {n}, payload {len(json.dumps(sample['payload']))} bytes, "
          f"event {len(json.dumps(sample))} bytes as JSON, batches of {MAX_BATCH}")

    folder = Path(tempfile.mkdtemp(prefix="posm-bench-sync-"))
    counter = iter(range(1_000_000))
    backends = [Backend("sqlite", lambda: f"sqlite:///{folder / f'server{next(counter)}.sqlite'}")]
    pg: PostgresServer | None = None
    if not args.no_postgres:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            sys.exit("no /usr/lib/postgresql/*/bin (scripts/system-deps.sh), or --no-postgres")
        pg = PostgresServer.start(bin_dir)
        backends.append(Backend("postgresql", pg.create_database))
    try:
        rounds = range(args.rounds)
        raw_post_s = statistics.median(raw_post(n, rng) for _ in rounds)
        raw_ins = {"sqlite": statistics.median(
            raw_insert_sqlite(n, rng, folder, i) for i in rounds)}
        if pg is not None:
            raw_ins["postgresql"] = statistics.median(
                raw_insert_postgres(pg.create_database(), n, rng) for _ in rounds)
        print(f"raw (median of {args.rounds}): POST the same bodies to a bare endpoint "
              f"{raw_post_s:.3f} s; bulk insert "
              + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in raw_ins.items()))
        figures: dict[str, dict[str, float]] = {}
        eps: dict[str, float] = {}
        lost = doubled = 0
        for backend in backends:
            BUILD_S.clear()
            runs = [closing_sync(backend, n, rng) for _ in rounds]
            for i, r in enumerate(runs, 1):
                print(f"{backend.name:10}  round {i}: push {r['push']:.3f} s  pull "
                      f"{r['pull']:.3f} s  repush {r['repush']:.3f} s")
            f = figures[backend.name] = {
                k: statistics.median(r[k] for r in runs) for k in ("push", "pull", "repush")
            }
            base = raw_post_s + raw_ins[backend.name]
            print(f"{backend.name:10}  median: push {f['push']:.3f} s  pull {f['pull']:.3f} s  "
                  f"repush {f['repush']:.3f} s  (push / (raw post + raw insert) = "
                  f"{f['push'] / base:.1f}x; pull / raw post {f['pull'] / raw_post_s:.1f}x; "
                  f"target {TARGET_S} s each)")
            print(f"{backend.name:10}  of each push or repush, the till building and encoding "
                  f"its bodies (OutboxBatch, as sync/engine.py and SyncClient.push do): median "
                  f"{statistics.median(BUILD_S):.3f} s")
            e, lo, do = ingest(backend, rng)
            eps[backend.name] = e
            lost += lo
            doubled += do
            print(f"{backend.name:10}  ingest {INGEST_DEVICES} devices x {INGEST_PER_DEVICE} "
                  f"events (batches of {INGEST_BATCH}): {e:,.0f} events/s; lost {lo}, "
                  f"doubled {do}")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
    worst = max(figures, key=lambda b: figures[b]["pull"] + figures[b]["repush"])
    result = {
        "push10k_sqlite_s": round(figures["sqlite"]["push"], 3),
        "push10k_postgres_s": round(figures["postgresql"]["push"], 3) if pg else None,
        "pull10k_s": round(max(f["pull"] for f in figures.values()), 3),
        "repush10k_s": round(max(f["repush"] for f in figures.values()), 3),
        "raw_post_s": round(raw_post_s, 3),
        "raw_insert_s": round(raw_ins["sqlite"], 3),
        "ingest_20_devices_eps": round(eps.get("postgresql", eps["sqlite"])),
        "lost": lost,
        "doubled": doubled,
    }
    print(f"(pull10k_s, repush10k_s: the slower backend's; slowest overall: {worst}; "
          f"raw_insert_s: SQLite's; ingest_20_devices_eps: "
          f"{'PostgreSQL' if 'postgresql' in eps else 'SQLite'}'s)")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
