"""The real app under uvicorn on 127.0.0.1 (port 0 unless given), in a background thread."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn
from fastapi import FastAPI

from pos_member.clock import FakeClock
from sync.server.app import create_app
from sync.server.db import migrate
from tests.server.factories import LiveServer

if TYPE_CHECKING:
    from tests.server.postgres import PostgresServer


_SQLITE = "sqlite:///"
_templates: dict[str | None, Path] = {}


def migrated(url: str) -> str:
    """Brings the server database at ``url`` to head and returns ``url``. A SQLite file not made
    yet becomes a copy of one the real migrations built once in this test process (for each
    key-encryption key: the chain's data key in it is wrapped with the one in the environment);
    Alembic was over half of a SQLite server test's set-up. PostgreSQL runs the migrations: a
    database copied from a template was no faster there. The migrations themselves:
    tests/server/test_schema.py and the upgrade tests."""
    path = Path(url.removeprefix(_SQLITE))
    if not url.startswith(_SQLITE) or path.exists():
        migrate(url)
        return url
    kek = os.environ.get("POS_MEMBER_SERVER_KEK")
    if kek not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="posm-server-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        migrate(f"{_SQLITE}{folder / 'head.sqlite'}")
        _templates[kek] = folder / "head.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(_templates[kek]), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return url


class _Server(uvicorn.Server):
    """uvicorn's server, looking at its exit flag every 5 ms rather than every 100 ms and not
    sleeping a fixed 100 ms once it has asked its connections to close: a test starts and
    stops a server hundreds of times. The steps and their order are uvicorn's own."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while (self.server_state.connections or self.server_state.tasks) \
                and not self.force_exit:
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


@contextmanager
def serve(app: FastAPI, *, port: int = 0,
          tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Runs ``app`` until the block ends; yields its base URL. ``port`` 0: a free one (pass
    the one it had to restart a server where tills know it). ``tls``: (certificate chain, key)
    PEM files to serve HTTPS with."""
    certfile, keyfile = (str(tls[0]), str(tls[1])) if tls else (None, None)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False, ssl_certfile=certfile,
                            ssl_keyfile=keyfile)
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def serve_on_postgres(postgres: PostgresServer) -> Iterator[tuple[LiveServer, FastAPI]]:
    """HQ on a fresh database of ``postgres``, served by uvicorn, with a client that may hold
    many connections at once (the tests that crowd the server's push threads)."""
    url = postgres.create_database(migrated=True)
    clock = FakeClock()
    app = create_app(url, clock=clock)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    with serve(app) as base_url, \
            httpx.Client(base_url=base_url, timeout=120, limits=limits) as http:
        yield LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=clock,
                         http=http), app
    postgres.drop_database(url)
