"""A benchmark's PostgreSQL fixture built once and cached: the stopped cluster's files are
copied to a folder outside the run (with the KEK it was built under and its database's name)
and a later run with the same fingerprint copies them back and starts in seconds
(``bench/insight_hq.py``, ``bench/bootstrap_chain.py``, ``bench/remote_lookup.py``)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from sync.server.keys import ENV_KEK
from tests.server.postgres import PostgresServer

PG_SETTINGS = "-c synchronous_commit=off -c full_page_writes=off"


def cached_server(bin_dir: Path, data: Path, key: str,
                  build: Callable[[PostgresServer], str | None], *,
                  settings: str = PG_SETTINGS, rebuild: bool = False,
                  ) -> tuple[PostgresServer, str | None]:
    """A server on a copy of ``data``'s cluster when its fingerprint is ``key`` (the KEK it was
    built under set again), else on a new cluster that ``build`` fills (it returns its
    database's URL, or None, and leaves the KEK it used in the environment), then stopped,
    cached under ``data`` and started again (``rebuild``: always built). Returns the server
    and the database's URL (None when ``build`` named none)."""
    stamp, name = data / "fingerprint", data / "database"
    if not rebuild and stamp.exists() and stamp.read_text() == key \
            and (data / "pgdata").is_dir():
        os.environ[ENV_KEK] = (data / "kek").read_text()
        started = time.perf_counter()
        pg = PostgresServer.start_copy(bin_dir, data / "pgdata", settings)
        print(f"fixture from {data} ({time.perf_counter() - started:.1f} s to copy and start)")
        return pg, pg.url(name.read_text()) if name.exists() else None
    pg = PostgresServer.start(bin_dir)
    url = build(pg)
    pg._run(str(bin_dir / "pg_ctl"), "-D", str(pg.data), "-m", "fast", "-w", "stop")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    shutil.copytree(pg.data, data / "pgdata")
    (data / "kek").write_text(os.environ[ENV_KEK])
    if url is not None:
        name.write_text(url.rsplit("/", 1)[1])
    stamp.write_text(key)
    pg._pg_ctl_start(settings)
    return pg, url
