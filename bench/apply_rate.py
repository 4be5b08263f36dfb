"""Benchmark: how fast a till applies its own store's pulled events (issue 14, a new till of a
store with a long history).

A source till of store 1 (``tests.factories.make_till``, strict event checking on and the
tests' argon2 costs while it records) records a store's history with its own services: each
customer registers (welcome points, the welcome coupons, a TOTP for their authenticator
app), tops up stored value, buys redeeming the welcome points, pays from stored value, buys
again and has half of it refunded (``tests.sync.harness.visit``, 10 events), then comes back
for 10 more sales that earn points (every third redeeming 50): 20 events a member, 60 % of
them sales. Its events, in the wire shape, are applied to a fresh till of the same store
(another device, the chain's data key) through ``pulled_events.apply_page`` in pages of
``MAX_PAGE``, as ``sync.engine.pull_all`` applies a pull; each run on a fresh copy of the
fresh till.

- ``apply_ms_per_event``: the median run's wall time over the events (``_min`` the fastest;
  ``apply_cpu_ms_per_event`` the process's CPU time, the median run's);
- ``raw_insert_ms_per_event``: the raw baseline, a bare ``sqlite3`` ``executemany`` of one
  row per event (its id, position and JSON) and a commit per page, on a file with the till's
  pragmas.

``--profile`` prints cProfile's top entries of one run.

    .venv/bin/python bench/apply_rate.py [--events 10000] [--runs 3] [--profile]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from argon2 import PasswordHasher  # noqa: E402

from pos_member.bootstrap import App  # noqa: E402
from pos_member.clock import FakeClock  # noqa: E402
from pos_member.db.engine import PRAGMAS  # noqa: E402
from pos_member.events import check  # noqa: E402
from pos_member.permissions import Clerk  # noqa: E402
from pos_member.services import member_auth, staff  # noqa: E402
from pos_member.services.outbox import mark_acked, pending_count, pending_events  # noqa: E402
from pos_member.services.sales import record_sale  # noqa: E402
from sync.protocol import MAX_PAGE  # noqa: E402
from tests.factories import Till, clone_till, make_till, new_data_key, new_phone  # noqa: E402
from tests.sync import harness  # noqa: E402

REPEAT = 10  # sales of a returning customer


def cheap_hashes() -> None:
    """The tests' argon2 costs (tests/conftest.py ``cheap_hash``): a history of thousands of
    members without the deliberate ~120 ms of each member PIN and TOTP approval."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    member_auth.HASHER = cheap  # type: ignore[misc]
    staff._hasher = cheap  # type: ignore[attr-defined]


def store_history(app: App, clerk: Clerk, clock: FakeClock, events: int,
                  flush: Callable[[], int], *, repeat: int = REPEAT, batch: int = 1_000) -> int:
    """Records a history of about ``events`` events at the till ``app`` with its services
    (``clerk`` a manager or administrator); ``flush`` sends what is pending (returns how many
    events) whenever about ``batch`` are, and at the end. Returns the events flushed."""
    cheap_hashes()
    check.STRICT = True  # every event written checked against its declaration, as in tests
    device_id = app.identity.device_id  # type: ignore[union-attr]
    done = 0
    while done < events:
        c = harness.visit(app, clerk, clock, new_phone())
        for i in range(repeat):
            clock.advance(minutes=3)
            record_sale(app.uow, clerk, txn_id=str(uuid.uuid4()),
                        bill_no=f"F{uuid.uuid4().hex[:16]}", amount_fen=3_000 + 700 * i,
                        member_id=c.member_id, redeem_points=50 if i % 3 == 2 else 0)
        if pending_count(app.uow, device_id=device_id) >= batch:
            done += flush()
    return done + flush()


def source_and_target(work: Path, events: int) -> tuple[list[dict[str, Any]], Till]:
    """The source till's history in the wire shape, and a fresh till of the same store."""
    key = new_data_key()
    source = make_till(work, data_key=key)
    device_id = source.app.identity.device_id  # type: ignore[union-attr]
    wire: list[dict[str, Any]] = []

    def collect() -> int:  # as if pushed: acknowledged, out of the outbox
        sent = pending_events(source.uow, device_id=device_id, limit=1_000_000)
        if sent:
            mark_acked(source.uow, device_id=device_id, acked_through=sent[-1]["seq"])
        wire.extend(sent)
        return len(sent)

    store_history(source.app, source.manager, source.clock, events, collect)
    store_id = source.app.identity.store_id  # type: ignore[union-attr]
    source.app.close()
    target = make_till(work, data_key=key, device_number=2, store_id=store_id)
    return wire, target


def apply_all(till: Till, wire: list[dict[str, Any]]) -> float:
    """Applies ``wire`` in pages of ``MAX_PAGE``; seconds taken (wall)."""
    from pos_member.services.pulled_events import apply_page

    device_id = till.app.identity.device_id  # type: ignore[union-attr]
    t = time.perf_counter()
    for start in range(0, len(wire), MAX_PAGE):
        page = [{"position": start + i + 1, "event": e}
                for i, e in enumerate(wire[start:start + MAX_PAGE])]
        apply_page(till.uow, device_id=device_id, changes=page, cursor=start + len(page))
    return time.perf_counter() - t


def raw_insert(path: Path, wire: list[dict[str, Any]]) -> float:
    """The raw baseline: one row per event, ``executemany`` and a commit a page."""
    con = sqlite3.connect(path, isolation_level=None)
    for p in PRAGMAS:
        con.execute(p)
    con.execute("CREATE TABLE e (id TEXT PRIMARY KEY, position INTEGER, body TEXT)")
    t = time.perf_counter()
    for start in range(0, len(wire), MAX_PAGE):
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO e VALUES (?, ?, ?)",
                        [(e["id"], start + i, json.dumps(e))
                         for i, e in enumerate(wire[start:start + MAX_PAGE])])
        con.execute("COMMIT")
    seconds = time.perf_counter() - t
    con.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="posm-apply-"))
    try:
        t = time.perf_counter()
        wire, target = source_and_target(work, args.events)
        n = len(wire)
        print(f"history: {n:,} events in {time.perf_counter() - t:.1f} s: "
              + ", ".join(f"{k} {v}" for k, v in Counter(e["type"] for e in wire)
                          .most_common()))
        target.app.close()
        runs, raws, cpus = [], [], []
        for r in range(args.runs):
            copy = clone_till(target, work / f"run-{r}.sqlite")
            cpu = time.process_time()
            seconds = apply_all(copy, wire)
            cpus.append(time.process_time() - cpu)
            copy.app.close()
            raw = raw_insert(work / f"raw-{r}.sqlite", wire)
            runs.append(seconds)
            raws.append(raw)
            print(f"run {r + 1}: {seconds:.2f} s, {seconds / n * 1e3:.3f} ms an event "
                  f"(CPU {cpus[-1] / n * 1e3:.3f} ms); "
                  f"raw insert {raw / n * 1e3:.4f} ms an event")
        if args.profile:
            import cProfile
            import pstats

            copy = clone_till(target, work / "profiled.sqlite")
            prof = cProfile.Profile()
            prof.runcall(apply_all, copy, wire)
            copy.app.close()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        print("RESULT " + json.dumps({
            "events": n,
            "apply_ms_per_event": round(statistics.median(runs) / n * 1e3, 4),
            "apply_ms_per_event_min": round(min(runs) / n * 1e3, 4),
            "apply_cpu_ms_per_event": round(statistics.median(cpus) / n * 1e3, 4),
            "raw_insert_ms_per_event": round(statistics.median(raws) / n * 1e3, 4)}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
