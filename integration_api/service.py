"""The POS link of a running till: the loopback API and the watched folder, for as long as the
till runs — not only while a cashier's window is open (issue 16: the register reports its sales
whenever the till is running, between cashiers too).

:class:`LinkService` belongs to the till's core (``App``): the till application starts it once
the core is open and stops it when the application quits; each cashier's window lends it the
window's pay desk while it is open (:meth:`LinkService.lend_desk`), so a stored-value payment is
taken at that window's screen and answered ``payment_not_possible`` ("no cashier is logged in")
between windows. ``pos-member api`` runs the same service with no window at all (headless:
a till computer whose till application is closed, docs/integration.md); it shares the till's
database with the till application safely (SQLite WAL, every write under the database's write
lock, the device's counters read inside it), and only one of them can hold the port.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from integration_api.payments import PaymentDesk
from pos_member.bootstrap import App
from pos_member.crypto import KeyStore
from pos_member.errors import DomainError
from pos_member.integration.reports import pos_clerk
from pos_member.integration.tokens import Authenticator, load_token

log = logging.getLogger(__name__)


class LinkService:
    def __init__(self, app: App, keystore: Callable[[], KeyStore]) -> None:
        self.app = app
        self.config = app.integration
        self.keystore = keystore
        self.auth = Authenticator(None)
        self.port: int | None = None
        self.problem: str | None = None  # why the API is not served (a busy port)
        self.folder_problem: str | None = None  # why the folder is not watched
        self.started = threading.Event()  # start() has finished, served or not
        self._ctx: object | None = None
        self._desk: PaymentDesk | None = None
        self._server: object | None = None
        self._watcher: object | None = None
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def wanted(self) -> bool:
        return self.config is not None and bool(self.config.port or self.config.folder)

    @property
    def serving(self) -> bool:
        """The API or the folder (or both) runs."""
        return self._server is not None or self._watcher is not None

    def lend_desk(self, desk: PaymentDesk | None) -> None:
        """The open window's pay desk (None: no window; payments are then refused)."""
        with self._lock:
            self._desk = desk
            if self._ctx is not None:
                self._ctx.payments = desk  # type: ignore[attr-defined]

    def start_in_background(self) -> None:
        """:meth:`start` on a thread: the keyring can be slow, a socket can be refused."""
        threading.Thread(target=self.start, name="integration-start", daemon=True).start()

    def start(self) -> None:
        """Reads the token, binds the port, starts watching the folder; what cannot be done
        is kept in ``problem`` / ``folder_problem`` (the rest still runs)."""
        try:
            self._start()
        finally:
            self.started.set()

    def _start(self) -> None:
        from integration_api.app import ApiContext, create_app
        from integration_api.folder import FolderWatcher
        from integration_api.server import ApiServer

        config, ident = self.config, self.app.identity
        if config is None or ident is None:
            return
        clerk = pos_clerk(store_id=ident.store_id, device_id=ident.device_id)
        try:
            self.auth.replace(load_token(self.keystore(), device_id=ident.device_id))
        except DomainError as e:
            log.warning("integration token not readable: %s", type(e).__name__)
        with self._lock:
            if self._stopped:
                return
            if config.port:
                ctx = ApiContext(uow=self.app.uow, clerk=clerk, auth=self.auth,
                                 payments=self._desk, keystore=self.keystore)
                server = ApiServer(create_app(ctx), port=config.port)
                try:
                    self.port = server.start()
                    self._server, self._ctx = server, ctx
                except OSError as e:
                    self.problem = e.strerror or type(e).__name__
                    log.warning("integration API not served: port %s: %s", config.port,
                                self.problem)
            if config.folder is not None:
                watcher = FolderWatcher(config.folder, uow=self.app.uow, clerk=clerk)
                try:
                    watcher.start()  # makes the folder when missing
                    self._watcher = watcher
                except OSError as e:  # a share not mounted, no right to write
                    self.folder_problem = e.strerror or type(e).__name__
                    log.warning("watched folder not watched: %s", self.folder_problem)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for part in (self._server, self._watcher):
                if part is not None:
                    part.stop()  # type: ignore[attr-defined]
            self._server = self._watcher = self._ctx = None
