"""The till's background sync: one QThread that pushes and pulls on a timer, backs off when the
server cannot be reached, and runs closing time (日结) on the same thread.

Threading contract. :class:`SyncWorker` lives on the GUI thread; its loop runs on its own
:class:`QThread` and is the only code that touches the HTTP client (created, used and closed on
that thread), so a slow or unreachable server never blocks the window. Results come back as
signals (queued to the GUI thread) carrying immutable values: :class:`SyncStatus` and
``sync.engine.DayReport``. The worker holds no widget, and no widget holds the client.

Schedule. A round (``sync.engine.sync_once``) runs at start, then every ``interval`` seconds
while it succeeds. When a round fails the next waits :func:`backoff_delay` (exponential with
full jitter, capped); a success resets it. :meth:`SyncWorker.sync_now` (after a local change)
refreshes the pending count at once and, when online, syncs after a short debounce, so a burst
of registrations costs one round. A till that is not enrolled (no server address in its
settings or no device token in the key store) reports ``NOT_ENROLLED`` and never syncs; its
closing time still reports the day from the local database. A till whose token the server
refuses (401: revoked or unknown; 403: it names another device) reports ``REVOKED``: retrying
cannot help until HQ enrols it again, so it tries again only every ``revoked_retry`` seconds
(15 minutes), reading the token from the key store afresh each time (a till enrolled again
resumes without a restart); local changes do not trigger a retry.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from pos_member.bootstrap import App
from pos_member.crypto import KeyStore
from pos_member.errors import DomainError, NotEnrolled
from pos_member.permissions import Action, Clerk, require
from pos_member.services.enrolment import device_token
from pos_member.services.outbox import SERVER_URL, get_sync_setting, last_sync_at, pending_count
from pos_member.services.quarantine import held_count
from pos_member.services.reidentity import Reidentity
from sync.engine import Client, DayReport, close_day, sync_once
from sync.protocol import (
    MAX_PAGE,
    AdoptRequest,
    AdoptResponse,
    EnrolRequest,
    EnrolResponse,
    OutboxBatch,
    PullResponse,
    PushRequest,
    PushResponse,
    ReidentifyRequest,
    StoresResponse,
)
from ui.i18n import error_text

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERVAL = 30.0  # seconds between rounds while online
DEBOUNCE = 2.0  # seconds from a local change to its sync: a burst of changes costs one round
REQUEST_TIMEOUT = 10.0  # per request; also bounds how long stopping may wait for the thread
REVOKED_RETRY = 900.0  # seconds between attempts once the token is refused (no fast retries)


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Capped exponential backoff with full jitter: after ``failures`` failed rounds in a row
    the next waits a uniform random time in ``[floor, min(cap, base · 2^(failures-1))]``
    (5 → 10 → 20 … 300 s). Full jitter spreads a chain's tills after an outage at HQ, so they
    do not all come back in the same second; the floor keeps a till from retrying at once."""

    base: float = 5.0
    cap: float = 300.0
    floor: float = 1.0

    def ceiling(self, failures: int) -> float:
        if failures < 1:
            return 0.0
        # 2**n overflows nothing here: the exponent is capped long before the float range ends.
        return min(self.cap, self.base * 2.0 ** min(failures - 1, 32))


def backoff_delay(failures: int, rng: random.Random,
                  policy: BackoffPolicy = BackoffPolicy()) -> float:
    """Seconds to wait before the next round after ``failures`` failures in a row (0: none)."""
    ceiling = policy.ceiling(failures)
    if ceiling <= 0:
        return 0.0
    return rng.uniform(min(policy.floor, ceiling), ceiling)


class SyncState(StrEnum):
    STARTING = "starting"  # before the first round has answered
    ONLINE = "online"
    OFFLINE = "offline"
    NOT_ENROLLED = "not_enrolled"
    REVOKED = "revoked"  # the server refused the device token (401/403): HQ must enrol it again


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the status bar shows. Times are the app clock's (aware); ``error`` is already in
    the user's language."""

    state: SyncState
    pending: int = 0  # events the server has not acknowledged
    last_sync: datetime | None = None  # the last successful round
    next_retry: datetime | None = None  # when offline: the next attempt
    error: str | None = None  # why the last round failed
    quarantined: int = 0  # pulled events held here, not applied (services/quarantine.py)
    notice: Reidentity | None = None  # this till took a new identity while running (a fork)


class ClosableClient(Client, Protocol):
    def close(self) -> None: ...


_lingering: set[SyncWorker] = set()  # stopped, but a request was still in flight

ClientFactory = Callable[[str, str], ClosableClient]  # (server URL, device token) → client


def http_clients(app: App) -> ClientFactory:
    """Clients of HQ over HTTP, trusting what ``config.toml``'s ``hq_ca`` says."""
    from pos_member.hq_trust import hq_verify
    from sync.client import SyncClient

    verify = hq_verify(app.hq_ca)
    return lambda url, token: SyncClient(url, token, timeout=REQUEST_TIMEOUT, verify=verify)


class _NoServer:
    """The client of a till that is not enrolled: closing time still reports the day."""

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        raise NotEnrolled()

    def push(self, request: PushRequest | OutboxBatch) -> PushResponse:
        raise NotEnrolled()

    def pull(self, cursor: int, limit: int = MAX_PAGE) -> PullResponse:
        raise NotEnrolled()

    def close(self) -> None:
        pass


class _Remembering:
    """Passes calls to ``client`` and keeps the last domain error it raised, so closing time
    can show that error in the user's language (the engine's report carries English text)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.error: DomainError | None = None

    def enrol(self, request: EnrolRequest) -> EnrolResponse:
        return self._call(lambda: self.client.enrol(request))

    def push(self, request: PushRequest | OutboxBatch) -> PushResponse:
        return self._call(lambda: self.client.push(request))

    def pull(self, cursor: int, limit: int = MAX_PAGE) -> PullResponse:
        return self._call(lambda: self.client.pull(cursor, limit))

    def stores(self) -> StoresResponse:
        return self._call(self.client.stores)

    def reidentify(self, request: ReidentifyRequest) -> EnrolResponse:
        return self._call(lambda: self.client.reidentify(request))

    def adopt(self, request: AdoptRequest) -> AdoptResponse:
        return self._call(lambda: self.client.adopt(request))

    def use_token(self, token: str) -> None:
        self.client.use_token(token)

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DomainError as e:
            self.error = e
            raise


def _revoked(error: BaseException) -> bool:
    """The server refused this till's token: unknown or revoked (401), or it names another
    device (403). Only a refused sync request raises ``ServerRefused``."""
    from sync.errors import ServerRefused  # loaded already: a client raised it

    return isinstance(error, ServerRefused) and error.token_refused


class _Loop(QThread):
    def __init__(self, run: Callable[[], None]) -> None:
        super().__init__()
        self._run = run

    def run(self) -> None:
        self._run()


class SyncWorker(QObject):
    """Owns the background sync loop. Call :meth:`start` once and :meth:`stop` when the till
    closes; every other method may be called from the GUI thread at any time."""

    status_changed = Signal(object)  # SyncStatus
    closing_progress = Signal(str, int, int)  # step ("push" | "pull" | "report"), done, total
    day_closed = Signal(object)  # sync.engine.DayReport
    closing_failed = Signal(object)  # Exception: closing time itself broke (a bug, the disk)
    pulled = Signal(object)  # pos_member.changes.Changes: what a round's pulled pages changed

    def __init__(
        self,
        app: App,
        keystore: Callable[[], KeyStore],
        *,
        client_factory: ClientFactory | None = None,  # default: http_clients(app)
        interval: float = INTERVAL,
        debounce: float = DEBOUNCE,
        policy: BackoffPolicy = BackoffPolicy(),
        rng: random.Random | None = None,
        revoked_retry: float = REVOKED_RETRY,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if app.identity is None:
            raise ValueError("the till is not set up")
        self._app, self._device_id = app, app.identity.device_id
        self._keystore = keystore
        self._client_factory = client_factory or http_clients(app)
        self.interval, self.debounce, self.policy = interval, debounce, policy
        self.revoked_retry = revoked_retry
        self._close_revoked = False  # the last closing time's server refused the token
        self._notice: Reidentity | None = None  # a round gave this till a new identity
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._stopping = False
        self._poked = False
        self._closing = False  # a closing-time request waits for the loop
        self._closing_busy = False
        self._thread = _Loop(self._run)
        self._thread.setObjectName("sync")
        self.status = SyncStatus(SyncState.STARTING)  # the last status emitted (GUI thread)
        self.status_changed.connect(self._remember)

    # -- the GUI thread's side ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        qt_app = QCoreApplication.instance()
        if qt_app is not None:  # a last line of defence: no sync thread outlives the app
            qt_app.aboutToQuit.connect(self.stop)

    def sync_now(self) -> None:
        """A local change happened: refresh the count now, sync after the debounce if online."""
        with self._cond:
            self._poked = True
            self._cond.notify()

    def close_day(self, clerk: Clerk) -> bool:
        """Starts closing time on the sync thread. Raises :class:`PermissionDenied` unless
        ``clerk`` may close the day (nothing starts then). Returns False when a closing is
        already running. Progress and the report come as signals."""
        require(clerk, Action.CLOSE_DAY)
        with self._cond:
            if self._closing or self._closing_busy:
                return False
            self._closing = True
            self._cond.notify()
        return True

    def stop(self, wait_ms: int = int(REQUEST_TIMEOUT * 1000) + 2000) -> bool:
        """Asks the loop to end and waits for its thread; a request in flight ends within its
        timeout, so the default wait is enough. Returns whether the thread has ended; if not,
        the worker keeps itself alive until it has (a QThread destroyed while running aborts
        the process). Safe to call more than once."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if not self._thread.isRunning() or self._thread.wait(wait_ms):
            return True
        _lingering.add(self)
        self._thread.finished.connect(lambda: _lingering.discard(self))
        return False

    def keystore(self) -> KeyStore:
        """The till's credential store (the device token HQ's other services take too)."""
        return self._keystore()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def _remember(self, status: SyncStatus) -> None:
        self.status = status

    # -- the sync thread ------------------------------------------------------------------------
    def _run(self) -> None:
        client: ClosableClient | None = None
        try:
            client = self._connect()
            self._loop(client)
        except Exception:  # never let the thread die silently: the status bar says why
            log.exception("the sync loop stopped")
        finally:
            if client is not None:
                client.close()

    def _connect(self) -> ClosableClient | None:
        """The client, or None when the till is not enrolled (then it never syncs)."""
        error: str | None = None
        try:
            url = get_sync_setting(self._app.uow, SERVER_URL)
            token = device_token(self._keystore(), self._current_device())
        except DomainError as e:  # no credential store
            url = token = None
            error = error_text(e)
        if url is None or token is None:
            self._emit(SyncState.NOT_ENROLLED, error=error)
            return None
        return self._client_factory(url, token)

    def _loop(self, client: ClosableClient | None) -> None:
        enrolled = client is not None
        failures = 0
        state = SyncState.STARTING if enrolled else SyncState.NOT_ENROLLED
        error: str | None = None
        next_retry: datetime | None = None
        due = time.monotonic() if enrolled else float("inf")
        while True:
            with self._cond:
                while not (self._stopping or self._closing or self._poked) \
                        and time.monotonic() < due:
                    self._cond.wait(min(due - time.monotonic(), 3600.0))
                if self._stopping:
                    return
                closing, self._closing = self._closing, False
                poked, self._poked = self._poked, False
                self._closing_busy = closing
            if closing:
                report = self._close_day(client or _NoServer())
                if enrolled and report is not None:
                    if report.error is None:
                        failures, state, error, next_retry = 0, SyncState.ONLINE, None, None
                        due = time.monotonic() + self.interval
                    elif self._close_revoked:
                        state, error = SyncState.REVOKED, report.error
                    else:
                        state, error = SyncState.OFFLINE, report.error
                self._emit(state, error=error, next_retry=next_retry)
                with self._cond:
                    self._closing_busy = False
                continue
            if poked and time.monotonic() < due:
                if state is SyncState.ONLINE:
                    due = min(due, time.monotonic() + self.debounce)
                self._emit(state, error=error, next_retry=next_retry)
                continue
            if client is None:  # not enrolled: a poke only refreshes the count
                continue
            if state is SyncState.REVOKED:  # the till may have been enrolled again meanwhile
                client.close()
                client = self._connect()
                if client is None:  # its token is gone from the key store: NOT_ENROLLED
                    enrolled, state, due = False, SyncState.NOT_ENROLLED, float("inf")
                    continue
            try:
                report = sync_once(self._app, client, keystore=self._keystore())
                if report.reidentity is not None:
                    self._notice = report.reidentity
            except Exception as e:
                if isinstance(e, DomainError) and _revoked(e):  # retrying soon cannot help
                    log.warning("HQ refused this till's token: revoked or retired")
                    failures, state = 0, SyncState.REVOKED
                    error = error_text(e)
                    due = time.monotonic() + self.revoked_retry
                    next_retry = self._app.uow.clock.now() + timedelta(
                        seconds=self.revoked_retry)
                    self._emit(state, error=error, next_retry=next_retry)
                    continue
                if not isinstance(e, DomainError):
                    log.exception("sync round failed")
                else:
                    log.info("sync round failed: %s", type(e).__name__)
                failures += 1
                delay = backoff_delay(failures, self._rng, self.policy)
                due = time.monotonic() + delay
                state = SyncState.OFFLINE
                error = error_text(e) if isinstance(e, DomainError) else type(e).__name__
                next_retry = self._app.uow.clock.now() + timedelta(seconds=delay)
            else:
                failures, state, error, next_retry = 0, SyncState.ONLINE, None, None
                due = time.monotonic() + self.interval
                if report.changes:
                    self.pulled.emit(report.changes)
            self._emit(state, error=error, next_retry=next_retry)

    def _close_day(self, client: Client) -> DayReport | None:
        pending = self._pending()
        self.closing_progress.emit("push", 0, pending)

        def progress(step: str, done: int) -> None:
            self.closing_progress.emit(step, done, pending if step == "push" else 0)

        remembering = _Remembering(client)
        try:
            report = close_day(self._app, remembering, progress=progress,
                               keystore=self._keystore())
        except Exception as e:
            log.exception("closing time failed")
            self.closing_failed.emit(e)
            return None
        self._close_revoked = remembering.error is not None and _revoked(remembering.error)
        if self._app.backups is not None:  # the day's copy, as it closes (docs/rules.md)
            self._app.backups.closing()
        self.closing_progress.emit("report", 1, 1)
        if report.error is not None and remembering.error is not None:
            report = replace(report, error=error_text(remembering.error))
        if report.sync is not None and report.sync.changes:
            self.pulled.emit(report.sync.changes)
        self.day_closed.emit(report)
        return report

    def _pending(self) -> int:
        return pending_count(self._app.uow, device_id=self._current_device())

    def _current_device(self) -> str:
        """This till's device now: a round may have given it a new identity (a fork)."""
        ident = self._app.identity
        return ident.device_id if ident is not None else self._device_id

    def _emit(self, state: SyncState, *, error: str | None = None,
              next_retry: datetime | None = None) -> None:
        try:
            pending, last = self._pending(), last_sync_at(self._app.uow)
            held = held_count(self._app.uow)
        except Exception:  # the database is closing under us (logout): report what we have
            log.debug("no sync figures", exc_info=True)
            pending, last, held = 0, None, 0
        self.status_changed.emit(SyncStatus(state, pending, last, next_retry, error, held,
                                            self._notice))
