"""A new till joining a chain of 1,000,000 members (issue 14, ``bootstrap_1m_*`` of
``bench/chain_scale.py``'s RESULT line), the chain built once and cached.

The chain is ``bench/bootstrap.py``'s (``--stores`` stores, one device each pushing its
store's registrations through the push route's work; store 1, the new till's, has its
history instead, below), built on the private PostgreSQL and then kept: the cluster's files
are copied to ``$POS_MEMBER_BENCH_CACHE`` (default ``/work/cache``)
``/bootstrap-chain-<members>-history-<events>``, outside
the repository, with the KEK and the database's name; a later run copies them back and starts
in seconds. A change to this file, ``bench/bootstrap.py`` or the server's migrations rebuilds
it. Then ``bootstrap.join``: a fresh SQLite till of store 1 enrols over HTTP on loopback,
takes the snapshot, pulls its store's log, scans another store's member and records a sale.

The issue's 20,000,000 events are here as what of them reaches a new till: its own store's
share, 20,000,000 / 100 stores = ``--history`` 200,000 events of store 1 (its ~10,000
members' registrations, sales earning and redeeming points, welcome coupons, stored value
topped up and paid, refunds), recorded by a till of store 1 with the till's own services and
pushed first (``bootstrap.store_history``). The other stores' 19.8 M are left out: besides
their registrations (the directory, from the snapshot) none of them ever reaches a new till
(its pulls are filtered by store), and HQ's pull and snapshot read the log by index range
(``ix_events_registered``, the store's positions), not by scanning it, so they would cost
the bench disk, not time; and this machine's disk (27 GB free) cannot hold 20 M events and
a cached copy of them. ``--members`` and ``--history`` scale it down (e.g. to try the
script).

    .venv/bin/python bench/bootstrap_chain.py [--members 1000000] [--stores 100]
                                              [--history 200000]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.apply_rate import store_history as record_history  # noqa: E402
from bench.bootstrap import build_chain, join  # noqa: E402  (sets a KEK)
from bench.pg_cache import cached_server  # noqa: E402
from pos_member.clock import SystemClock  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import open_server_database  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

MEMBERS = 1_000_000
STORES = 100
HISTORY = 200_000  # store 1's events: its share of the issue's 20,000,000 over 100 stores


def cache_dir(members: int, history: int = HISTORY) -> Path:
    base = Path(os.environ.get("POS_MEMBER_BENCH_CACHE", "/work/cache"))
    return base / (f"bootstrap-chain-{members}" + (f"-history-{history}" if history else ""))


def fingerprint(members: int, stores: int, history: int = HISTORY) -> str:
    digest = hashlib.sha256(f"{members}/{stores}/{history}".encode())
    digest.update(inspect.getsource(record_history).encode())  # store 1's history
    files = [Path(__file__), ROOT / "bench" / "bootstrap.py",
             *sorted((ROOT / "sync" / "server" / "migrations" / "versions").glob("*.py"))]
    for p in files:
        digest.update(p.read_bytes())
    return digest.hexdigest()


def cached_chain(bin_dir: Path, members: int, stores: int, history: int = HISTORY
                 ) -> tuple[PostgresServer, str]:
    """The chain's server and database URL: copied from the cache, else built and cached."""

    def build(pg: PostgresServer) -> str:
        url = pg.create_database()
        ctx, _ = build_chain(url, stores, members, history)
        ctx.db.dispose()
        return url

    pg, url = cached_server(bin_dir, cache_dir(members, history),
                            fingerprint(members, stores, history), build)
    assert url is not None
    return pg, url


def run(members: int = MEMBERS, stores: int = STORES, history: int = HISTORY
        ) -> dict[str, Any]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
    pg, url = cached_chain(bin_dir, members, stores, history)
    work = Path(tempfile.mkdtemp(prefix="posm-bootstrap-"))
    try:
        db = open_server_database(url)
        code = services.issue_enrolment_code(ServerContext(db=db, clock=SystemClock()),
                                             store_number=1).code
        db.dispose()
        return join(url, code, members // stores * (stores - 1), work)
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--stores", type=int, default=STORES)
    parser.add_argument("--history", type=int, default=HISTORY)
    parser.add_argument("--build-only", action="store_true",
                        help="build (or find) the cached chain and stop: outside the bench lock")
    args = parser.parse_args()
    if args.build_only:
        bin_dir = find_bin_dir()
        assert bin_dir is not None
        cached_chain(bin_dir, args.members, args.stores, args.history)[0].stop()
        return 0
    r = run(args.members, args.stores, args.history)
    print("RESULT " + json.dumps({"bootstrap_1m_s": r["bootstrap_s"],
                                  "bootstrap_db_mb": r["bootstrap_db_mb"],
                                  "bootstrap_download_mb": r["bootstrap_download_mb"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
