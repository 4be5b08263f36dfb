"""An SMS-verified balance payment at the till against the real central server on loopback:
F10, Ctrl+3, F4 has HQ text the code, the cashier types what the member received, Enter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

import ui.till_stored_value as svu
from pos_member.clock import FakeClock
from pos_member.services.stored_value import top_up
from pos_member.services.stored_value_ledger import get_balance
from sync.client import SyncClient
from sync.server.app import create_app
from tests.factories import Till
from tests.server.factories import Device, LiveServer
from tests.server.live import migrated, serve
from tests.server.sms_fakes import FakeSms, register_member
from tests.ui.conftest import open_dialog, settle
from ui.stored_value_ui import PayDialog
from ui.till import TillWindow


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[tuple[FakeSms, SyncClient, Device]]:
    url = f"sqlite:///{tmp_path / 'hq.sqlite'}"
    migrated(url)
    app = create_app(url, clock=FakeClock())
    sms = FakeSms()
    app.state.sms_sender = sms
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        live = LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=FakeClock(),
                          http=http)
        device = live.enrol()
        with SyncClient(base_url, device.enrolment.token) as client:
            yield sms, client, device


def test_a_cashier_takes_a_balance_payment_with_the_code_hq_texted(
        qtbot: QtBot, window: TillWindow, till: Till, hq: tuple[FakeSms, SyncClient, Device],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sms, client, device = hq
    monkeypatch.setattr(svu, "_online", lambda w: True)
    window.sv_sms = client  # type: ignore[attr-defined]
    m = till.register(phone="13912345678")
    register_member(device, m.id, "13912345678")  # HQ texts only members it saw registered
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000, method="cash",
           txn_id="seed")
    qtbot.keyClicks(window.scan, m.member_no)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    qtbot.keyClicks(dialog.amount, "22")
    qtbot.keyClick(dialog, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog, Qt.Key.Key_F4)  # HQ texts the code
    qtbot.waitUntil(lambda: len(sms.sent) == 1)
    assert sms.sent[0].phone.endswith("13912345678") and "¥22.00" in sms.sent[0].text
    qtbot.waitUntil(lambda: bool(dialog.challenge_id))
    qtbot.keyClicks(dialog.secret, sms.sent[0].code)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert get_balance(till.uow, m.id).total_fen == 11_000 - 2_200
