"""The F10 pay dialog: the connection is read when the cashier pays, widgets are read on the
GUI thread only, and an SMS code head office refuses pays nothing."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

import ui.till_stored_value as svu
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.stored_value_errors import SmsCodeInvalid
from tests.factories import PINS, Till
from tests.ui.conftest import open_dialog, settle
from ui.stored_value_ui import PayDialog
from ui.till import TillWindow

PIN = "739182"


pytestmark = pytest.mark.usefixtures("cheap_hash")


class Connection:
    """The till's connection to head office, as the test switches it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, online: bool) -> None:
        self.online = online
        monkeypatch.setattr(svu, "_online", lambda window: self.online)


class FakeHq:
    """Head office's SMS codes: one code per send, spent when verified."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, str, int, str]] = {}
        self.sent = 0

    def sms_send(self, *, member_id: str, phone: str, amount_fen: int, txn_id: str) -> str:
        self.sent += 1
        cid = f"c{self.sent}"
        self.codes[cid] = ("246810", member_id, amount_fen, txn_id)
        return cid

    def sms_verify(self, *, challenge_id: str, member_id: str, amount_fen: int, txn_id: str,
                   code: str) -> str:
        if self.codes.pop(challenge_id, None) != (code, member_id, amount_fen, txn_id):
            raise SmsCodeInvalid()
        return challenge_id


def _member(till: Till, amount: int = 100000) -> str:
    m = till.register(phone="13900001111")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount, method="cash",
           txn_id="t")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    return m.member_no


def _open_pay(qtbot: QtBot, window: TillWindow, member_no: str) -> PayDialog:
    qtbot.keyClicks(window.scan, member_no)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    settle(qtbot, window)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    settle(qtbot, window)
    return dialog


def _pay(qtbot: QtBot, window: TillWindow, dialog: PayDialog, amount: str,
         secret: str) -> None:
    qtbot.keyClicks(dialog.amount, amount)
    qtbot.keyClicks(dialog.secret, secret)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None or dialog.error.isVisible(), timeout=10000)


def test_going_online_after_the_dialog_opened_pays_as_online(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    link = Connection(monkeypatch, online=False)
    member_no = _member(till)
    dialog = _open_pay(qtbot, window, member_no)
    link.online = True
    _pay(qtbot, window, dialog, "600", PIN)  # over the offline cap of ¥500
    assert window.dialog is None, dialog.error.text()
    card = window.card_view.card
    assert card is not None and get_balance(till.uow, card.id).total_fen == 115000 - 60000


def test_going_offline_after_the_dialog_opened_keeps_the_offline_cap(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    link = Connection(monkeypatch, online=True)
    member_no = _member(till)
    dialog = _open_pay(qtbot, window, member_no)
    link.online = False
    _pay(qtbot, window, dialog, "600", PIN)
    assert window.dialog is dialog
    assert "500" in dialog.error.text()  # the cap, in the refusal
    card = window.card_view.card
    assert card is not None and get_balance(till.uow, card.id).total_fen == 115000


def test_the_sms_choice_follows_the_connection(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    link = Connection(monkeypatch, online=False)
    window.sv_sms = FakeHq()  # type: ignore[attr-defined]
    dialog = _open_pay(qtbot, window, _member(till))
    assert not dialog.factor_sms.isEnabled()
    link.online = True
    dialog.refresh_online()  # what the sync worker's status signal calls
    assert dialog.factor_sms.isEnabled()


def test_a_wrong_sms_code_pays_nothing_and_the_right_one_pays(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    Connection(monkeypatch, online=True)
    window.sv_sms = FakeHq()  # type: ignore[attr-defined]
    dialog = _open_pay(qtbot, window, _member(till, 10000))
    qtbot.keyClicks(dialog.amount, "20")
    qtbot.keyClick(dialog, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: dialog.challenge_id == "c1")
    counts = till.table_counts()
    qtbot.keyClicks(dialog.secret, "135791")
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy)
    assert window.dialog is dialog and dialog.error.isVisible()
    assert till.table_counts() == counts
    qtbot.keyClick(dialog, Qt.Key.Key_F4)  # the fake spent the code: a new one
    qtbot.waitUntil(lambda: dialog.challenge_id == "c2")
    qtbot.keyClicks(dialog.secret, "246810")
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    card = window.card_view.card
    assert card is not None and get_balance(till.uow, card.id).total_fen == 9000


def test_the_managers_number_and_pin_are_read_on_the_gui_thread(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    Connection(monkeypatch, online=True)
    dialog = _open_pay(qtbot, window, _member(till, 200000))
    readers: list[threading.Thread] = []
    for field in (dialog.manager_code, dialog.manager_pin):
        text = field.text
        field.text = lambda text=text: (readers.append(threading.current_thread()),  # type: ignore[method-assign]
                                        text())[1]
    qtbot.keyClicks(dialog.manager_code, "1201")
    qtbot.keyClicks(dialog.manager_pin, PINS[till.manager.role])
    _pay(qtbot, window, dialog, "1000", PIN)
    assert window.dialog is None, dialog.error.text()
    assert readers and set(readers) == {threading.main_thread()}
