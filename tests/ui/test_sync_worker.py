"""The till's background sync against a real server on loopback: the window never freezes while
the server is slow or unreachable, the status follows the server going away and coming back,
backoff grows and is capped, and closing time (F12) is the manager's."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.bootstrap import App, bootstrap
from pos_member.clock import FakeClock
from pos_member.crypto import MemoryKeyStore
from pos_member.permissions import Clerk, Role
from pos_member.services.members import register_member
from pos_member.services.outbox import SERVER_URL, pending_count, put_setting
from pos_member.services.staff import create_staff
from sync.client import SyncClient
from sync.engine import enrol
from sync.server import services
from sync.server.app import create_app
from sync.server.context import ServerContext
from sync.server.db import open_server_database
from tests.factories import PINS, Till, migrated_database, new_phone
from tests.server.live import migrated, serve
from tests.ui.conftest import settle, show_active
from ui.app import TillController
from ui.close_day_dialog import CloseDayDialog
from ui.sync_worker import (
    REQUEST_TIMEOUT,
    BackoffPolicy,
    SyncState,
    SyncStatus,
    SyncWorker,
    backoff_delay,
)
from ui.till import TillWindow

FAST = BackoffPolicy(base=0.05, cap=0.2, floor=0.01)  # retries within the test's patience


# --- a real server on loopback that can stop and start again on the same port -----------------


@dataclass
class HQ:
    """The server, store 1 (一号店) created; ``stop`` and ``start`` keep its port."""

    database_url: str
    ctx: ServerContext
    port: int = 0
    _running: list[AbstractContextManager[str]] = field(default_factory=list)

    def code(self) -> str:
        return services.issue_enrolment_code(self.ctx, store_number=1).code

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        running = serve(create_app(self.database_url, clock=FakeClock()), port=self.port)
        self.port = int(running.__enter__().rsplit(":", 1)[1])
        self._running.append(running)

    def stop(self) -> None:
        while self._running:
            self._running.pop().__exit__(None, None, None)


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[HQ]:
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    migrated(url)
    ctx = ServerContext(db=open_server_database(url), clock=FakeClock())
    services.create_store(ctx, number=1, name="一号店")
    hq = HQ(url, ctx)
    hq.start()
    yield hq
    hq.stop()
    ctx.db.dispose()


@pytest.fixture
def enrolled(tmp_path: Path, hq: HQ) -> Iterator[Till]:
    """A till enrolled with the server, with a manager and a cashier."""
    keystore, clock = MemoryKeyStore(), FakeClock()
    app = bootstrap(migrated_database(tmp_path / "till.sqlite"), keystore=keystore, clock=clock)
    with SyncClient(hq.base_url) as client:
        enrol(app, client, keystore, code=hq.code(), device_name="收银台",
              server_url=hq.base_url)
    assert app.identity is not None
    system = app.identity.system_clerk()
    clerks: dict[Role, Clerk] = {}
    for i, role in enumerate((Role.MANAGER, Role.CASHIER)):
        info = create_staff(app.uow, clerk=system, code=f"1{i}01", name=f"{role.value}-{i}",
                            role=role, secret=PINS[role])
        clerks[role] = Clerk(info.id, info.name, role, app.identity.store_id,
                             app.identity.device_id)
    yield Till(app, clock, keystore, clerks, tmp_path / "till.sqlite")
    app.close()


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def point_at(app: App, url: str) -> None:
    with app.uow.begin() as tx:
        put_setting(tx.session, SERVER_URL, url)
        tx.commit()


@pytest.fixture
def workers() -> Iterator[Callable[..., SyncWorker]]:
    """Builds started workers and stops every one at the end (no thread outlives a test)."""
    made: list[SyncWorker] = []

    def make(till: Till, **kw: object) -> SyncWorker:
        kw.setdefault("interval", 0.2)
        kw.setdefault("debounce", 0.05)
        kw.setdefault("policy", FAST)
        worker = SyncWorker(till.app, lambda: till.keystore, **kw)  # type: ignore[arg-type]
        made.append(worker)
        worker.start()
        return worker

    yield make
    for worker in made:
        assert worker.stop(), "the sync thread did not end"


def wait_status(qtbot: QtBot, worker: SyncWorker, ok: Callable[[SyncStatus], bool],
                timeout: int = 10_000) -> SyncStatus:
    qtbot.waitUntil(lambda: ok(worker.status), timeout=timeout)
    return worker.status


def offline_rounds(worker: SyncWorker) -> Callable[[], int]:
    """How many OFFLINE statuses ``worker`` has emitted since this call (failed rounds)."""
    seen: list[SyncStatus] = []
    worker.status_changed.connect(
        lambda s: seen.append(s) if s.state is SyncState.OFFLINE else None)
    return lambda: len(seen)


def loop_turns(qtbot: QtBot, count: Callable[[], int], turns: int = 20) -> list[int]:
    """Runs the event loop until a 10 ms timer on the GUI thread has fired ``turns`` times (an
    event, not a fixed time); what ``count()`` said at each tick."""
    seen: list[int] = []
    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(lambda: seen.append(count()))
    probe.start()
    qtbot.waitUntil(lambda: len(seen) >= turns, timeout=30_000)
    probe.stop()
    return seen


# --- the event loop stays responsive ------------------------------------------------------------
# Each test waits for events only: the GUI thread's timer must fire while the worker is busy
# (waiting for an answer, or waiting to retry); were that work done on the GUI thread, no tick
# could come until it ended.


def test_the_event_loop_keeps_turning_while_the_worker_waits_to_retry_a_refused_connection(
    qtbot: QtBot, qapp: QApplication, enrolled: Till, workers: Callable[..., SyncWorker]
) -> None:
    point_at(enrolled.app, f"http://127.0.0.1:{free_port()}")
    hour = BackoffPolicy(base=3600, cap=3600, floor=3600)
    worker = workers(enrolled, policy=hour)
    failed = offline_rounds(worker)
    qtbot.waitUntil(lambda: failed() >= 1, timeout=30_000)  # refused; next try in an hour
    assert set(loop_turns(qtbot, failed)) == {1}  # every tick while the worker waits
    assert worker.status.state is SyncState.OFFLINE


class _HeldHandler(BaseHTTPRequestHandler):
    """Holds every request until the test lets it go, then answers 503."""

    arrived: threading.Event
    release: threading.Event

    def do_GET(self) -> None:
        self._held()

    def do_POST(self) -> None:
        self._held()

    def _held(self) -> None:
        self.arrived.set()
        self.release.wait(timeout=60)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class HeldServer:
    url: str
    arrived: threading.Event  # a request came in and is being held
    release: threading.Event  # set by the test: answer it (and every later one) with 503


@pytest.fixture
def held_server() -> Iterator[HeldServer]:
    """A loopback HTTP server that holds each request until the test releases it."""
    arrived, release = threading.Event(), threading.Event()
    handler = type("Handler", (_HeldHandler,), {"arrived": arrived, "release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HeldServer(f"http://127.0.0.1:{server.server_address[1]}", arrived, release)
    release.set()
    server.shutdown()
    server.server_close()


def test_the_event_loop_keeps_turning_while_the_server_holds_a_request(
    qtbot: QtBot, qapp: QApplication, enrolled: Till, held_server: HeldServer,
    workers: Callable[..., SyncWorker]
) -> None:
    point_at(enrolled.app, held_server.url)
    worker = workers(enrolled)
    failed = offline_rounds(worker)
    qtbot.waitUntil(held_server.arrived.is_set, timeout=30_000)
    assert set(loop_turns(qtbot, failed)) == {0}  # every tick while the request was held
    held_server.release.set()
    qtbot.waitUntil(lambda: failed() >= 1, timeout=30_000)
    status = wait_status(qtbot, worker, lambda s: s.state is SyncState.OFFLINE)
    assert status.error is not None


# --- online, offline, online --------------------------------------------------------------------


def register(till: Till) -> None:
    assert till.app.identity is not None
    register_member(till.app.uow, clerk=till.cashier, phone=new_phone(), privacy_consent=True)


def test_the_status_follows_the_server_going_away_and_coming_back(
    qtbot: QtBot, qapp: QApplication, hq: HQ, enrolled: Till,
    workers: Callable[..., SyncWorker]
) -> None:
    worker = workers(enrolled)
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE and s.pending == 0)
    hq.stop()
    offline = wait_status(qtbot, worker, lambda s: s.state is SyncState.OFFLINE)
    assert offline.next_retry is not None and offline.error
    hq.start()
    back = wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    assert back.last_sync is not None and back.error is None


def test_a_registration_is_uploaded_soon_after_it_is_made(
    qtbot: QtBot, qapp: QApplication, enrolled: Till, workers: Callable[..., SyncWorker]
) -> None:
    worker = workers(enrolled, interval=3600)  # only the nudge can sync it in time
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    seen: list[SyncStatus] = []
    worker.status_changed.connect(seen.append)
    register(enrolled)
    assert pending_count(enrolled.uow, device_id=enrolled.app.identity.device_id) > 0
    waiting = pending_count(enrolled.uow, device_id=enrolled.app.identity.device_id)
    worker.sync_now()  # (a registration writes its welcome points too: 2 events)
    qtbot.waitUntil(lambda: [s.pending for s in seen][-2:] == [waiting, 0])
    assert pending_count(enrolled.uow, device_id=enrolled.app.identity.device_id) == 0


def test_registrations_made_offline_wait_and_go_up_when_the_server_is_back(
    qtbot: QtBot, qapp: QApplication, hq: HQ, enrolled: Till,
    workers: Callable[..., SyncWorker]
) -> None:
    worker = workers(enrolled)
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    hq.stop()
    wait_status(qtbot, worker, lambda s: s.state is SyncState.OFFLINE)
    register(enrolled)
    worker.sync_now()
    waiting = wait_status(qtbot, worker, lambda s: s.pending > 0)
    assert waiting.state is SyncState.OFFLINE
    hq.start()
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE and s.pending == 0)


def test_a_till_that_is_not_enrolled_says_so_and_never_connects(
    qtbot: QtBot, qapp: QApplication, till: Till, workers: Callable[..., SyncWorker]
) -> None:
    made: list[str] = []

    def client(url: str, token: str) -> SyncClient:
        made.append(url)
        return SyncClient(url, token)

    worker = workers(till, client_factory=client)
    wait_status(qtbot, worker, lambda s: s.state is SyncState.NOT_ENROLLED)
    with qtbot.waitSignal(worker.status_changed, timeout=60_000):  # the poke was handled
        worker.sync_now()
    assert made == []
    assert worker.status.state is SyncState.NOT_ENROLLED


def test_stopping_ends_the_thread(qtbot: QtBot, qapp: QApplication, enrolled: Till) -> None:
    # Synced, the worker waits an hour for its next round: only the stop can end that wait
    # within stop()'s own (a request timeout and 2 s).
    worker = SyncWorker(enrolled.app, lambda: enrolled.keystore, interval=3600)
    worker.start()
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    assert worker.stop()
    assert not worker.is_running()


# --- backoff ------------------------------------------------------------------------------------


def test_backoff_doubles_from_five_seconds_up_to_five_minutes() -> None:
    policy = BackoffPolicy()
    assert [policy.ceiling(n) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_backoff_is_fully_jittered_below_its_ceiling() -> None:
    rng, policy = random.Random(7), BackoffPolicy()
    for failures in range(1, 40):
        delays = [backoff_delay(failures, rng, policy) for _ in range(200)]
        ceiling = policy.ceiling(failures)
        assert all(policy.floor <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 2  # spread out, not a fixed step


def test_backoff_grows_with_failures_and_never_passes_the_cap() -> None:
    rng = random.Random(42)
    means = [sum(backoff_delay(n, rng) for _ in range(500)) / 500 for n in range(1, 12)]
    assert means[:6] == sorted(means[:6])
    assert max(means) <= 300
    assert backoff_delay(10_000, rng) <= 300


def test_no_failure_means_no_wait() -> None:
    assert backoff_delay(0, random.Random(1)) == 0


def test_the_same_seed_gives_the_same_delays() -> None:
    first = [backoff_delay(n, random.Random(3)) for n in range(1, 8)]
    assert first == [backoff_delay(n, random.Random(3)) for n in range(1, 8)]


# --- the till window ----------------------------------------------------------------------------


@pytest.fixture
def till_window(qtbot: QtBot, zh_app: QApplication, enrolled: Till,
                workers: Callable[..., SyncWorker]) -> Callable[[Clerk], TillWindow]:
    def open_for(clerk: Clerk) -> TillWindow:
        worker = workers(enrolled)
        window = TillWindow(app=enrolled.app, clerk=clerk, sync=worker)
        qtbot.addWidget(window)
        show_active(qtbot, window)
        settle(qtbot, window)
        return window

    return open_for


def test_the_status_bar_shows_online_and_the_pending_count(
    qtbot: QtBot, till_window: Callable[[Clerk], TillWindow], enrolled: Till
) -> None:
    window = till_window(enrolled.cashier)
    online = "同步：在线 · 待上传 0 条 · 上次 "
    qtbot.waitUntil(lambda: window.status_sync.text().startswith(online))
    assert window.status_sync.property("kind") == "online"


def test_the_status_bar_turns_amber_when_events_wait_offline(
    qtbot: QtBot, till_window: Callable[[Clerk], TillWindow], enrolled: Till, hq: HQ
) -> None:
    window = till_window(enrolled.cashier)
    qtbot.waitUntil(lambda: window.status_sync.property("kind") == "online")
    hq.stop()
    register(enrolled)
    waiting = pending_count(enrolled.uow, device_id=enrolled.app.identity.device_id)
    window.sync.sync_now()  # type: ignore[union-attr]
    qtbot.waitUntil(
        lambda: window.status_sync.text().startswith(f"离线，{waiting} 条待上传（下次重试 "),
        timeout=10_000)
    assert window.status_sync.property("kind") == "offline"


def test_f12_as_manager_closes_the_day_and_shows_the_report(
    qtbot: QtBot, till_window: Callable[[Clerk], TillWindow], enrolled: Till
) -> None:
    register(enrolled)
    window = till_window(enrolled.manager)
    qtbot.keyClick(window, Qt.Key.Key_F12)
    dialog = window.dialog
    assert isinstance(dialog, CloseDayDialog)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert dialog.report is not None and dialog.report.ok
    assert dialog.verdict.property("ok") == "yes"
    assert dialog.verdict.text() == "日结完成：全部事件已保存到总部。"
    assert dialog.report.summary.total_registrations == 1


def test_f12_with_the_server_down_shows_a_red_report_of_what_is_unacknowledged(
    qtbot: QtBot, till_window: Callable[[Clerk], TillWindow], enrolled: Till, hq: HQ
) -> None:
    window = till_window(enrolled.manager)
    qtbot.waitUntil(lambda: window.status_sync.property("kind") == "online")
    hq.stop()
    register(enrolled)
    qtbot.keyClick(window, Qt.Key.Key_F12)
    dialog = window.dialog
    assert isinstance(dialog, CloseDayDialog)
    # A background round caught in flight by the stop may wait out its request timeout first.
    qtbot.waitUntil(lambda: dialog.report is not None,
                    timeout=int((REQUEST_TIMEOUT + 10) * 1000))
    assert dialog.report is not None and not dialog.report.ok
    assert dialog.verdict.property("ok") == "no"
    assert dialog.verdict.text().startswith("日结未完成：")
    assert dialog.retry.isVisible()


def test_f12_as_cashier_is_refused_and_closes_nothing(
    qtbot: QtBot, till_window: Callable[[Clerk], TillWindow], enrolled: Till
) -> None:
    window = till_window(enrolled.cashier)
    progress: list[object] = []
    window.sync.closing_progress.connect(lambda *a: progress.append(a))  # type: ignore[union-attr]
    qtbot.keyClick(window, Qt.Key.Key_F12)
    qtbot.waitUntil(window.banner.isVisible)  # the refusal
    assert window.dialog is None
    assert window.banner.isVisible()
    assert window.banner.text() == "您的角色（收银员）无权日结。"
    assert progress == []
    assert not window.buttons["close_day"].isVisible()


# --- the controller starts and stops the worker -------------------------------------------------


def test_logging_out_stops_the_sync_thread(qtbot: QtBot, zh_app: QApplication,
                                           enrolled: Till) -> None:
    controller = TillController(lambda: enrolled.app, "一号店", "zh_CN",
                                keystore=lambda: enrolled.keystore)
    controller.start()
    qtbot.waitUntil(lambda: controller.app is not None)
    controller.open_till(enrolled.manager)
    worker = controller.sync
    assert worker is not None and worker.is_running()
    qtbot.waitUntil(lambda: worker.status.state is SyncState.ONLINE, timeout=10_000)
    controller.logout()
    assert not worker.is_running()
    assert controller.sync is None
    controller.login.ops.wait()
    controller.login.close()
