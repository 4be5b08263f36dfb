"""A fake SMS gateway on loopback: records what it is sent and answers like a real one
(idempotent by the ``Idempotency-Key`` header; ``fail_next`` answers 503 that many times)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeGateway:
    def __init__(self) -> None:
        self.delivered: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.fail_next = 0
        self.auth: list[str] = []
        self.url = ""  # set once it listens: http://127.0.0.1:<port>/send


@contextmanager
def fake_gateway() -> Iterator[FakeGateway]:
    state = FakeGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests += 1
            state.auth.append(self.headers.get("Authorization", ""))
            if state.fail_next:
                state.fail_next -= 1
                self.send_response(503)
            else:  # idempotent by id, as real gateways are by their idempotency key
                state.delivered.setdefault(self.headers["Idempotency-Key"], body)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
