"""The real app under uvicorn on 127.0.0.1 (port 0 unless given), in a background thread."""

from __future__ import annotations

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
    server = uvicorn.Server(config)
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
    url = postgres.create_database()
    migrate(url)
    clock = FakeClock()
    app = create_app(url, clock=clock)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    with serve(app) as base_url, \
            httpx.Client(base_url=base_url, timeout=120, limits=limits) as http:
        yield LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=clock,
                         http=http), app
