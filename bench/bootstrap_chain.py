"""A new till joining a chain of 1,000,000 members (issue 14, ``bootstrap_1m_*`` of
``bench/chain_scale.py``'s RESULT line), the chain built once and cached.

The chain is ``bench/bootstrap.py``'s (``--stores`` stores, one device each pushing its
store's registrations through the push route's work; store 1, the new till's, has none), built
on the private PostgreSQL and then kept: the cluster's files are copied to
``$POS_MEMBER_BENCH_CACHE`` (default ``/work/cache``) ``/bootstrap-chain-<members>``, outside
the repository, with the KEK and the database's name; a later run copies them back and starts
in seconds. A change to this file, ``bench/bootstrap.py`` or the server's migrations rebuilds
it. Then ``bootstrap.join``: a fresh SQLite till of store 1 enrols over HTTP on loopback,
takes the snapshot, pulls its store's log, scans another store's member and records a sale.

The chain holds the members' registrations only, not the issue's 20,000,000 events: the other
stores' sales and points are filtered out of a new till's pulls (docs/scale.md), so what they
would add is the new till's own store's share, pulled as events (docs/scale.md gives the
ratio). ``--members`` scales it down (e.g. to try the script).

    .venv/bin/python bench/bootstrap_chain.py [--members 1000000] [--stores 100]
"""

from __future__ import annotations

import argparse
import hashlib
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

from bench.bootstrap import build_chain, join  # noqa: E402  (sets a KEK)
from bench.pg_cache import cached_server  # noqa: E402
from pos_member.clock import SystemClock  # noqa: E402
from sync.server import services  # noqa: E402
from sync.server.context import ServerContext  # noqa: E402
from sync.server.db import open_server_database  # noqa: E402
from tests.server.postgres import PostgresServer, find_bin_dir  # noqa: E402

MEMBERS = 1_000_000
STORES = 100


def cache_dir(members: int) -> Path:
    base = Path(os.environ.get("POS_MEMBER_BENCH_CACHE", "/work/cache"))
    return base / f"bootstrap-chain-{members}"


def fingerprint(members: int, stores: int) -> str:
    digest = hashlib.sha256(f"{members}/{stores}".encode())
    files = [Path(__file__), ROOT / "bench" / "bootstrap.py",
             *sorted((ROOT / "sync" / "server" / "migrations" / "versions").glob("*.py"))]
    for p in files:
        digest.update(p.read_bytes())
    return digest.hexdigest()


def cached_chain(bin_dir: Path, members: int, stores: int) -> tuple[PostgresServer, str]:
    """The chain's server and database URL: copied from the cache, else built and cached."""

    def build(pg: PostgresServer) -> str:
        url = pg.create_database()
        ctx, _ = build_chain(url, stores, members)
        ctx.db.dispose()
        return url

    pg, url = cached_server(bin_dir, cache_dir(members), fingerprint(members, stores), build)
    assert url is not None
    return pg, url


def run(members: int = MEMBERS, stores: int = STORES) -> dict[str, Any]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
    pg, url = cached_chain(bin_dir, members, stores)
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
    args = parser.parse_args()
    r = run(args.members, args.stores)
    print("RESULT " + json.dumps({"bootstrap_1m_s": r["bootstrap_s"],
                                  "bootstrap_db_mb": r["bootstrap_db_mb"],
                                  "bootstrap_download_mb": r["bootstrap_download_mb"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
