"""``pos-member api``: the POS link with no till window (issue 16).

The register beside a till must be able to report its sales whenever the till computer runs,
also when nobody has the till application open (early deliveries, a till left at its login
screen that was closed by mistake, a back-office computer). This runs the same
:class:`integration_api.service.LinkService` as the till application — the loopback API and the
watched folder — on the till's own database, until Ctrl+C or SIGTERM. What needs a cashier at
the screen (a stored-value payment, which the member confirms with their second factor there)
is answered ``payment_not_possible``. Run it or the till application, not both: only one can
hold the port (the second says the port is busy); the database is shared safely either way
(docs/integration.md, "Without the till window").
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from integration_api.service import LinkService
from pos_member.bootstrap import App
from pos_member.crypto import KeyStore


def serve_api(app: App, *, keystore: Callable[[], KeyStore], stop: threading.Event,
              ready: Callable[[LinkService], None] | None = None) -> int:
    """Serves until ``stop`` is set; 0, or 2 when nothing is configured or nothing could be
    started (a busy port and no folder)."""
    link = LinkService(app, keystore)
    if not link.wanted:
        print("pos-member: the POS link is off: set integration_port or integration_folder "
              "in config.toml", file=sys.stderr)
        return 2
    link.start()
    if not link.serving:
        print(f"pos-member: the POS link could not start: {link.problem or link.folder_problem}",
              file=sys.stderr)
        link.stop()
        return 2
    app.link = link
    if link.port is not None:
        print(f"POS link: http://127.0.0.1:{link.port}", flush=True)
    if link.problem:
        print(f"pos-member: API not served: {link.problem}", file=sys.stderr)
    if link.folder_problem:
        print(f"pos-member: folder not watched: {link.folder_problem}", file=sys.stderr)
    if ready is not None:
        ready(link)
    try:
        while not stop.wait(1.0):  # a short wait: Ctrl+C is handled between waits
            pass
    finally:
        link.stop()
        app.link = None
    return 0


def run_headless(app: App, keystore: Callable[[], KeyStore]) -> int:
    """The command: serves until Ctrl+C or SIGTERM, then closes the database."""
    stop = threading.Event()

    def stopping(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, stopping)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, stopping)
    try:
        return serve_api(app, keystore=keystore, stop=stop)
    finally:
        app.close()
