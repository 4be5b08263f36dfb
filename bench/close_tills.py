"""Closing time for a chain (issue 14, ``close_300_tills_s``): many tills close at once.

Run by ``bench/chain_scale.py`` (its RESULT line), or alone:

    .venv/bin/python bench/close_tills.py [--tills 300] [--events 1000] [--servers 2]

HQ is ``pos-member-server serve`` (``SERVERS`` uvicorn processes, each on its own port on
127.0.0.1; the tills spread over them as a load balancer would) on a fresh migrated database
of the private PostgreSQL (their pools, so their push threads, from ``$POS_MEMBER_SERVER_POOLS``
if set). ``TILLS`` tills, three to a store, each with ``EVENTS`` unsent events
(``chain_scale.device_events``' mix with a registration every ``REG_EVERY``th event: the
day's new members, which every till of the chain pulls into its directory; the money and
points events name ``STORE_MEMBERS`` members of the till's own store). Before the
clock starts each till pulls once (it synced during the day: the connection is open, its
cursor at the tail). Then all close at once, as ``sync.engine.close_day`` does: push every
event in batches of ``MAX_BATCH``, then pull ``/v2/pull`` pages until ``more`` is false. A
close that fails (no answer within the till's own timeout, ``DEFAULT_TIMEOUT``, or a 5xx) is
what ``close_day`` reports as not ok; the simulated cashier closes again after the answer's
``Retry-After`` (else 5 s), and the retries are counted. The clock stops when the last till's
close has returned ok.

The tills run in ``CLIENT_PROCS`` processes, a thread each, with bodies encoded before the
clock starts; a pull page is decoded as the till does (gzip, then JSON) but not applied: what
is measured is HQ (the simulated tills' own CPU is printed beside HQ's: they share the
machine). ``lost`` / ``doubled``: afterwards every device's seqs ``1..EVENTS`` are stored
exactly once, every event id once, and every till's last acknowledgement is ``EVENTS``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import msgspec  # noqa: E402

from bench.chain_scale import check, device_events, enrol_many, member_ids  # noqa: E402
from sync.client import DEFAULT_TIMEOUT  # noqa: E402
from sync.protocol import API, API_V2, MAX_BATCH, MAX_PAGE  # noqa: E402
from sync.server.db import ENV_POOLS, migrate  # noqa: E402
from tests.server.postgres import PostgresServer, free_port, required_bin_dir  # noqa: E402

TILLS = 300
EVENTS = 1_000
TILLS_PER_STORE = 3
REG_EVERY = 50  # 2 % registrations: 20 new members a till a day
STORE_MEMBERS = 200  # the members a store's money and points events name: its own
SERVERS = 2
CLIENT_PROCS = 2
POOLS = os.environ.get(ENV_POOLS, "")  # the server processes' pools (its push threads)


class _Page(msgspec.Struct):
    changes: list[msgspec.Raw]
    cursor: int
    more: bool


_page = msgspec.json.Decoder(_Page)


def start_servers(url: str, count: int, logs: Path) -> tuple[list[subprocess.Popen[bytes]],
                                                              list[str]]:
    procs, bases = [], []
    for i in range(count):
        port = free_port()
        folder = logs / f"server{i}"
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "POS_MEMBER_LOG_DIR": str(folder), "PYTHONPATH": str(ROOT)}
        if POOLS:
            env[ENV_POOLS] = POOLS
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "--database", url, "serve", "--host",
             "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "stderr.txt", "ab")))  # noqa: SIM115
        bases.append(f"http://127.0.0.1:{port}")
    for proc, base in zip(procs, bases, strict=True):
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}{API}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {logs}")
            time.sleep(0.1)
    return procs, bases


def _store_seed(store_id: str) -> int:
    """The same in every process (``hash`` of a str is not)."""
    return int.from_bytes(store_id.encode(), "big")


class Till:
    """One simulated till: its encoded push bodies and its own HTTP connection."""

    def __init__(self, device: dict[str, Any], base: str, n: int) -> None:
        self.device = device
        store_members = member_ids(STORE_MEMBERS, seed=_store_seed(device["store_id"]))
        rows = device_events(device["store_id"], device["device_id"], n, device["seed"],
                             registration_every=REG_EVERY, members=store_members)
        self.bodies = [(rows[min(i + MAX_BATCH, n) - 1]["seq"],  # its last seq
                        json.dumps({"device_id": device["device_id"],
                                    "events": rows[i:i + MAX_BATCH]}).encode())
                       for i in range(0, n, MAX_BATCH)]
        self.http = httpx.Client(base_url=base, timeout=DEFAULT_TIMEOUT, headers={
            "Accept-Encoding": "gzip", "Authorization": f"Bearer {device['token']}"})
        self.cursor = 0
        self.acked = 0
        self.retries = 0
        self.pulled = 0
        self.pushed_at = 0.0
        self.causes: dict[str, int] = {}

    def pull_all(self) -> None:
        while True:
            r = self.http.get(f"{API_V2}/pull", params={"cursor": self.cursor,
                                                        "limit": MAX_PAGE})
            r.raise_for_status()
            page = _page.decode(r.content)
            self.pulled += len(page.changes)
            self.cursor = page.cursor
            if not page.more:
                return

    def close_day(self) -> None:
        """push_all, then pull_all; a failure is retried after Retry-After (else 5 s), pushing
        only the batches not acknowledged yet (as ``sync.engine`` does)."""
        while True:
            stage = "push"
            try:
                for last, body in self.bodies:
                    if last <= self.acked:  # acknowledged by an earlier try: sent no more,
                        continue  # as close_day pushes only what is unacknowledged
                    r = self.http.post(f"{API}/push", content=body,
                                       headers={"Content-Type": "application/json"})
                    r.raise_for_status()
                    self.acked = r.json()["acked_through"]
                self.pushed_at = time.monotonic()
                stage = "pull"
                self.pull_all()
                return
            except httpx.HTTPStatusError as e:
                if e.response.status_code < 500:
                    raise
                wait = float(e.response.headers.get("Retry-After", 5))
                cause = f"{stage} {e.response.status_code}"
            except httpx.TransportError as e:  # a timeout, a cut connection
                wait, cause = 5.0, f"{stage} {type(e).__name__}"
            self.causes[cause] = self.causes.get(cause, 0) + 1
            self.retries += 1
            time.sleep(wait)


def client_proc(devices: list[dict[str, Any]], bases: list[str], n: int, ready: Any,
                start: Any, results: Any) -> None:
    tills = [Till(d, bases[d["seed"] % len(bases)], n) for d in devices]
    for t in tills:
        t.pull_all()  # synced during the day: the connection open, the cursor at the tail
    done: list[dict[str, Any]] = []
    errors: list[str] = []

    def run(till: Till) -> None:
        try:
            till.close_day()
            done.append({"end": time.monotonic(), "acked": till.acked, "pulled": till.pulled,
                         "pushed": till.pushed_at, "causes": till.causes})
        except Exception as e:  # reported, counted as lost
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(t,)) for t in tills]
    ready.put(len(tills))
    start.wait()
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu
    for t in tills:
        t.http.close()
    results.put((done, errors, cpu))


def cpu_seconds(pids: list[int], *, reaped: int | None = None) -> float:
    """User and system CPU time the processes have used (Linux ``/proc``), and that of the
    exited children ``reaped`` has waited for: HQ's work, which other sessions' load on
    this shared machine does not add to as it adds to wall time."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
        if pid == reaped:
            ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(pg: PostgresServer) -> float:
    """CPU time of the private PostgreSQL: the postmaster, its live backends and the
    backends that have exited (the postmaster's reaped children)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == postmaster:
                children.append(int(entry.name))
    return cpu_seconds([postmaster, *children], reaped=postmaster)


def close_tills(pg: PostgresServer, tills: int = TILLS, n: int = EVENTS,
                servers: int = SERVERS) -> dict[str, Any]:
    url = pg.create_database()
    migrate(url)
    devices = enrol_many(url, tills, per_store=TILLS_PER_STORE)
    logs = Path(tempfile.mkdtemp(prefix="posm-close-"))
    procs, bases = start_servers(url, servers, logs)
    try:
        spawn = mp.get_context("spawn")
        ready, start, results = spawn.Queue(), spawn.Event(), spawn.Queue()
        clients = [spawn.Process(target=client_proc, args=(
            devices[i::CLIENT_PROCS], bases, n, ready, start, results))
            for i in range(CLIENT_PROCS)]
        for c in clients:
            c.start()
        for _ in clients:
            ready.get()
        hq_cpu_before = cpu_seconds([p.pid for p in procs])
        pg_cpu_before = postgres_cpu(pg)
        t0 = time.monotonic()
        start.set()
        outcomes = [results.get() for _ in clients]
        for c in clients:
            c.join()
        hq_cpu = cpu_seconds([p.pid for p in procs]) - hq_cpu_before + postgres_cpu(pg) \
            - pg_cpu_before
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    done = [d for ds, _, _ in outcomes for d in ds]
    errors = [e for _, es, _ in outcomes for e in es]
    lost, doubled = check(url, devices, n)
    lost += sum(1 for d in done if d["acked"] != n) + len(errors)
    causes: dict[str, int] = {}
    for d in done:
        for k, v in d["causes"].items():
            causes[k] = causes.get(k, 0) + v
    return {"tills": tills, "events": n, "servers": servers,
            "wall_s": max((d["end"] for d in done), default=t0) - t0,
            "pushed_s": max((d["pushed"] for d in done), default=t0) - t0,
            "retries": sum(causes.values()), "causes": causes,
            "pulled": sum(d["pulled"] for d in done), "errors": errors,
            "lost": lost, "doubled": doubled, "logs": str(logs), "hq_cpu_s": hq_cpu,
            "tills_cpu_s": sum(cpu for *_, cpu in outcomes), "load": os.getloadavg()[0]}


def report(r: dict[str, Any]) -> None:
    print(f"close {r['tills']} tills x {r['events']} events ({r['servers']} server processes): "
          f"last close-day returned after {r['wall_s']:.1f} s (last push acknowledged after "
          f"{r['pushed_s']:.1f} s); {r['retries']} retries {r['causes']}; "
          f"{r['pulled']:,} changes pulled; lost {r['lost']}, doubled {r['doubled']}; "
          f"HQ used {r['hq_cpu_s']:.1f} s of CPU (server processes and PostgreSQL), the "
          f"simulated tills {r['tills_cpu_s']:.1f} s (HTTP, gzip and JSON of their pushes and "
          f"pulls); load at the end {r['load']:.1f}")
    for e in r["errors"][:5]:
        print(f"error: {e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tills", type=int, default=TILLS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--servers", type=int, default=SERVERS)
    args = parser.parse_args()
    bin_dir = required_bin_dir()
    pg = PostgresServer.start(bin_dir)
    try:
        r = close_tills(pg, args.tills, args.events, args.servers)
    finally:
        pg.stop()
    report(r)
    print("RESULT " + json.dumps({"close_300_tills_s": round(r["wall_s"], 1),
                                  "lost": r["lost"], "doubled": r["doubled"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
