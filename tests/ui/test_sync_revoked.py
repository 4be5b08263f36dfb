# ruff: noqa: F811  (fixtures imported from test_sync_worker are parameters here)
"""A till whose device token HQ revoked says so, distinctly from "offline", and does not keep
retrying: retrying cannot help until HQ enrols it again. Against the real server on loopback."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from pos_member.clock import DEFAULT_TZ
from pos_member.services.enrolment import DEVICE_TOKEN
from pos_member.services.outbox import pending_count
from sync.client import SyncClient
from sync.server import services
from sync.server.models import Device
from tests.factories import Till
from tests.ui.test_sync_worker import (  # noqa: F401 (fixtures)
    HQ,
    enrolled,
    hq,
    register,
    wait_status,
    workers,
)
from ui.sync_view import status_line
from ui.sync_worker import SyncState, SyncStatus, SyncWorker


class Counting:
    """A client factory that counts the clients made and the requests they send."""

    def __init__(self) -> None:
        self.clients = 0
        self.requests = 0

    def __call__(self, url: str, token: str) -> SyncClient:
        self.clients += 1
        client = SyncClient(url, token)
        for name in ("push", "pull"):
            call = getattr(client, name)

            def counted(*a: object, _call: Callable[..., object] = call, **kw: object) -> object:
                self.requests += 1
                return _call(*a, **kw)

            setattr(client, name, counted)
        return client


def revoke(hq: HQ, till: Till) -> None:
    assert till.app.identity is not None
    services.revoke_device(hq.ctx, device_id=till.app.identity.device_id)


def test_a_revoked_token_is_shown_as_revoked_and_not_retried_fast(
    qtbot: QtBot, qapp: QApplication, hq: HQ, enrolled: Till,
    workers: Callable[..., SyncWorker],
) -> None:
    counting = Counting()
    worker = workers(enrolled, client_factory=counting)  # FAST backoff: 0.05-0.2 s
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    revoke(hq, enrolled)
    register(enrolled)
    worker.sync_now()
    revoked = wait_status(qtbot, worker, lambda s: s.state is SyncState.REVOKED)
    assert revoked.pending > 0 and revoked.error
    assert revoked.next_retry is not None
    before = counting.requests
    for _ in range(3):  # local changes do not bring the retry forward
        register(enrolled)
        worker.sync_now()
    assert enrolled.app.identity is not None
    waiting = pending_count(enrolled.app.uow, device_id=enrolled.app.identity.device_id)
    wait_status(qtbot, worker, lambda s: s.pending == waiting)  # the pokes were handled
    # A negative check needs a window; a slow machine only makes it easier to pass, never fail
    # (the next attempt is REVOKED_RETRY = 15 min away): offline, FAST would retry ~12 times.
    qtbot.wait(1500)
    assert counting.requests == before
    now = worker.status
    assert now.state is SyncState.REVOKED and now.pending > revoked.pending
    line = status_line(now)  # (in the language installed: English, or Chinese)
    assert line.kind == "revoked" and str(now.pending) in line.text
    offline = status_line(SyncStatus(SyncState.OFFLINE, now.pending, now.last_sync,
                                     now.next_retry, now.error))
    assert line.text != offline.text and offline.kind != "revoked"


def test_the_server_going_away_is_still_offline_not_revoked(
    qtbot: QtBot, qapp: QApplication, hq: HQ, enrolled: Till,
    workers: Callable[..., SyncWorker],
) -> None:
    worker = workers(enrolled)
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    hq.stop()
    offline = wait_status(qtbot, worker, lambda s: s.state is SyncState.OFFLINE)
    assert status_line(offline).kind != "revoked"


def test_a_till_enrolled_again_resumes_at_the_next_check_without_a_restart(
    qtbot: QtBot, qapp: QApplication, hq: HQ, enrolled: Till,
    workers: Callable[..., SyncWorker],
) -> None:
    counting = Counting()
    worker = workers(enrolled, client_factory=counting, revoked_retry=0.5)
    wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE)
    revoke(hq, enrolled)
    register(enrolled)
    worker.sync_now()
    wait_status(qtbot, worker, lambda s: s.state is SyncState.REVOKED)
    # HQ gives the device a new token (as enrolling it again does) and the till stores it.
    assert enrolled.app.identity is not None
    device_id = enrolled.app.identity.device_id
    token = secrets.token_urlsafe(32)
    with hq.ctx.db.write() as conn:
        conn.execute(update(Device).where(Device.id == device_id).values(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), revoked_at=None))
    enrolled.keystore.put(DEVICE_TOKEN.format(device_id=device_id), token)
    started = time.monotonic()
    back = wait_status(qtbot, worker, lambda s: s.state is SyncState.ONLINE and s.pending == 0)
    assert back.error is None and time.monotonic() - started < 5
    assert counting.clients >= 2  # the token was read again


def test_the_revoked_status_line_names_the_next_check() -> None:
    at = datetime(2026, 1, 5, 9, 45, tzinfo=UTC)
    line = status_line(SyncStatus(SyncState.REVOKED, 2, None, at, "Missing, unknown or "
                                  "revoked device token."))
    assert line.kind == "revoked"
    assert at.astimezone(DEFAULT_TZ).strftime("%H:%M") in line.tooltip  # the store's time
    assert "revoked device token" in line.tooltip


def test_the_revoked_status_reads_in_chinese(zh_app: QApplication) -> None:
    line = status_line(SyncStatus(SyncState.REVOKED, 3, None, None, None))
    assert "撤销" in line.text and "3" in line.text and "总部" in line.tooltip
