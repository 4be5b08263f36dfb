"""The API served on its own thread by uvicorn, bound to 127.0.0.1 and nothing else.

Why uvicorn in a thread of the till (docs/integration.md, "Why FastAPI in the till"): the API
lives and dies with the till application (integration_api/service.py), reads the same
database through the same unit of work, and hands payments to the same screen, with no second
process to install, start or keep in step. uvicorn's event loop runs on its own thread and
does the requests' work there (a payment, which waits for people, on a worker thread); the GUI
thread never waits for a client.

The listening socket is made here, bound before the thread starts, so the port is known (and
a busy port is an error) at once, and connections made before the loop runs simply queue.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"  # the only address ever bound: not configurable on purpose
DEFAULT_PORT = 8765


class ApiServer:
    def __init__(self, app: Any, *, port: int = DEFAULT_PORT) -> None:
        self.app, self.requested_port = app, port
        self.port: int | None = None
        self.sock: socket.socket | None = None  # the listening socket, once started
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Binds 127.0.0.1:``port`` (0: any free port) and starts serving; the bound port.
        Raises ``OSError`` when the port is taken."""
        # IPPROTO_TCP named, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets
        # whose ``proto`` says TCP, and with Nagle on, the answer's body waits for the
        # client's delayed ACK of its headers — 40 ms a request on Linux.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no sharing of the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, self.requested_port))
            sock.listen(64)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.sock = sock
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off",
            timeout_keep_alive=5, h11_max_incomplete_event_size=16 * 1024,
            limit_concurrency=64)  # connections; requests in flight are limits.py's
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="integration-api", daemon=True)
        self._thread.start()
        log.info("integration API on %s:%s", LOOPBACK, self.port)
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        """Stops accepting, lets requests in flight finish (up to ``timeout``), and returns."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None
