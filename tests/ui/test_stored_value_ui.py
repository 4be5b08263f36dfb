"""Stored value at the till, driven by keyboard as a cashier would."""

from __future__ import annotations

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_member.services.member_auth import provision_totp, set_member_pin
from pos_member.services.stored_value import top_up
from pos_member.services.stored_value_ledger import get_balance
from tests.factories import PINS, Till
from tests.ui.conftest import confirm, open_dialog, settle
from ui.stored_value_ledger import LedgerDialog
from ui.stored_value_ui import PayDialog, TopUpDialog
from ui.till import TillWindow

PIN = "739182"


pytestmark = pytest.mark.usefixtures("cheap_hash")


def _scan(qtbot: QtBot, window: TillWindow, member_no: str) -> None:
    qtbot.keyClicks(window.scan, member_no)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    settle(qtbot, window)


def _type(qtbot: QtBot, widget: object, text: str) -> None:
    widget.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(widget, text)


def test_f8_tops_up_with_a_preset_showing_its_bonus(qtbot: QtBot, window: TillWindow,
                                                    till: Till) -> None:
    m = till.register()
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F8, TopUpDialog)
    assert "¥60.00" in dialog.preset_buttons[1].text()
    qtbot.keyClick(dialog, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.bonus.text() == "¥60.00")  # the core's quote, off the GUI
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert get_balance(till.uow, m.id).total_fen == 56000
    assert "¥560.00" in window.banner.text()
    qtbot.waitUntil(lambda: window.card_view.tile_text(1)[1] == "¥560.00")
    caption = window.card_view.tile_text(1)[0]  # the split beside the caption
    assert "¥500.00" in caption and "¥60.00" in caption


def test_a_top_up_sends_the_members_notification_at_once(qtbot: QtBot, window: TillWindow,
                                                         till: Till) -> None:
    from pos_member.services.notifications import LogChannel, deliver_due

    sent: list[str] = []
    channel = LogChannel()
    window.notify_members = lambda: sent.extend(
        str(n) for n in [deliver_due(till.uow, channel=channel).sent])
    m = till.register()
    assert deliver_due(till.uow, channel=channel).sent == 1  # the welcome pack's arrival
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F8, TopUpDialog)
    qtbot.keyClick(dialog, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.bonus.text() == "¥10.00")  # type: ignore[union-attr]
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.dialog is None)
    qtbot.waitUntil(lambda: bool(sent))
    assert sent == ["1"]  # the top-up's, as soon as it was committed


def test_bad_amount_is_told_and_changes_nothing(qtbot: QtBot, window: TillWindow,
                                                till: Till) -> None:
    m = till.register()
    _scan(qtbot, window, m.member_no)
    counts = till.table_counts()
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F8, TopUpDialog)
    _type(qtbot, dialog.amount, "0")  # type: ignore[union-attr]
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # type: ignore[union-attr]
    settle(qtbot, window)
    qtbot.waitUntil(lambda: dialog.error.isVisible())  # type: ignore[union-attr]
    assert window.dialog is dialog
    assert till.table_counts() == counts


def _funded(till: Till, amount: int = 10000) -> object:
    m = till.register(phone="13900001111")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount, method="cash",
           txn_id="t")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    return m


def test_f10_pays_with_the_pin_and_shows_the_split(qtbot: QtBot, window: TillWindow,
                                                   till: Till) -> None:
    m = _funded(till)
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    settle(qtbot, window)
    qtbot.keyClicks(dialog.amount, "55")
    assert "¥50.00" in dialog.split.text() and "¥5.00" in dialog.split.text()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Tab)
    dialog.secret.setFocus()
    qtbot.keyClicks(dialog.secret, "000001")  # wrong first
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert get_balance(till.uow, m.id).total_fen == 11000  # type: ignore[attr-defined]
    qtbot.keyClicks(dialog.secret, PIN)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert get_balance(till.uow, m.id).total_fen == 5500  # type: ignore[attr-defined]


def test_f10_pays_with_the_dynamic_code(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = _funded(till)
    secret = provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                            member_id=m.id).secret  # type: ignore[attr-defined]
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    qtbot.keyClicks(dialog.amount, "10")
    qtbot.keyClick(dialog, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert dialog.factor_totp.isChecked()
    qtbot.keyClicks(dialog.secret, pyotp.TOTP(secret).at(int(till.clock.now().timestamp())))
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert get_balance(till.uow, m.id).total_fen == 10000  # type: ignore[attr-defined]


class FakeHq:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def sms_send(self, *, member_id: str, phone: str, amount_fen: int, txn_id: str) -> str:
        self.codes["c1"] = "246810"
        return "c1"

    def sms_verify(self, *, challenge_id: str, member_id: str, amount_fen: int, txn_id: str,
                   code: str) -> str:
        from pos_member.stored_value_errors import SmsCodeInvalid
        if self.codes.get(challenge_id) != code:
            raise SmsCodeInvalid()
        return challenge_id


def test_sms_is_offered_only_online(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = _funded(till)
    window.sv_sms = FakeHq()  # type: ignore[attr-defined]
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    assert not window.dialog.factor_sms.isEnabled()  # type: ignore[union-attr]


def test_sms_payment_when_online(qtbot: QtBot, window: TillWindow, till: Till,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.till_stored_value as svu
    monkeypatch.setattr(svu, "_online", lambda w: True)
    m = _funded(till)
    window.sv_sms = FakeHq()  # type: ignore[attr-defined]
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    qtbot.keyClicks(dialog.amount, "20")
    qtbot.keyClick(dialog, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: dialog.challenge_id == "c1")
    qtbot.keyClicks(dialog.secret, "246810")
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert get_balance(till.uow, m.id).total_fen == 9000  # type: ignore[attr-defined]


def test_over_the_limit_a_manager_approves(qtbot: QtBot, window: TillWindow, till: Till,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.till_stored_value as svu
    monkeypatch.setattr(svu, "_online", lambda w: True)
    m = _funded(till, 200000)
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    settle(qtbot, window)
    qtbot.keyClicks(dialog.amount, "1000")
    assert dialog.manager_code.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.secret, PIN)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert get_balance(till.uow, m.id).total_fen == 215000  # type: ignore[attr-defined]
    dialog.error.hide()
    qtbot.keyClicks(dialog.manager_code, "1201")
    qtbot.keyClicks(dialog.manager_pin, PINS[till.manager.role])
    qtbot.keyClicks(dialog.secret, PIN)
    qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None or dialog.error.isVisible(), timeout=10000)
    assert window.dialog is None, dialog.error.text()
    assert get_balance(till.uow, m.id).total_fen == 115000  # type: ignore[attr-defined]


def test_shift_f10_shows_the_split_ledger_and_the_manager_freezes(
        qtbot: QtBot, open_till: object, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_till(till.manager)  # type: ignore[operator]
    m = _funded(till)
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    assert dialog.table.rowCount() == 1
    assert "¥100.00" in dialog.summary.text() and "¥10.00" in dialog.summary.text()
    from PySide6.QtWidgets import QInputDialog
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("lost", True)))
    dialog.buttons['freeze'].click()  # type: ignore[union-attr]
    confirm(qtbot, dialog)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: get_balance(till.uow, m.id).frozen)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: "冻结" in dialog.summary.text() or "FROZEN" in dialog.summary.text())


def test_a_cashier_freezes_with_the_managers_number_and_pin(
        qtbot: QtBot, window: TillWindow, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog
    from sqlalchemy import select

    from pos_member.db.models import Staff

    m = _funded(till)
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, LedgerDialog))
    dialog = window.dialog
    assert isinstance(dialog, LedgerDialog)
    settle(qtbot, window)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("lost", True)))
    before = till.dump()
    dialog.buttons["freeze"].click()  # no manager typed in: refused, nothing changed
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert till.dump() == before
    with till.uow.read() as s:
        number = s.scalar(select(Staff.code).where(Staff.id == till.manager.staff_id))
    dialog.manager_code.setText(number)
    dialog.manager_pin.setText(PINS[till.manager.role])
    dialog.buttons["freeze"].click()
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: get_balance(till.uow, m.id).frozen)  # type: ignore[attr-defined]


def test_day_report_rows_show_balance_movements_with_the_split(zh_app: QApplication) -> None:
    from pos_member.services.stored_value_ledger import DayMovements, Movement
    from ui.sync_view import stored_value_rows

    rows = dict(stored_value_rows(DayMovements(topups=Movement(2, 20000, 2000, 20000),
                                               payments=Movement(1, 5000, 500))))
    assert rows["储值充值"] == "2 笔 · ¥220.00（本金 ¥200.00，赠送 ¥20.00）"
    assert rows["储值消费"] == "1 笔 · ¥55.00（本金 ¥50.00，赠送 ¥5.00）"
    assert len(rows) == 2  # no refund rows on a day without refunds


def test_the_topup_preview_shows_the_bonus_the_core_books(qtbot: QtBot, window: TillWindow,
                                                          till: Till) -> None:
    import dataclasses
    from datetime import date

    rules = dataclasses.replace(till.uow.rules.stored_value, first_topup_bonus_fen=500,
                                birthday_month_bonus_fen=300)
    till.uow.rules = dataclasses.replace(till.uow.rules, stored_value=rules)
    m = till.register(birthday=date(1990, till.clock.local().month, 3))
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F8, TopUpDialog)
    qtbot.keyClicks(dialog.amount, "100")
    # step ¥10 + first top-up ¥5 + birthday month ¥3
    qtbot.waitUntil(lambda: dialog.bonus.text().startswith("¥18.00"))
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None)
    assert get_balance(till.uow, m.id).bonus_fen == 1800


def test_a_cashier_refunds_a_payment_only_with_the_managers_number_and_pin(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from sqlalchemy import select

    from pos_member.db.models import Staff
    from pos_member.services.stored_value import PinFactor, pay

    m = _funded(till)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=3000,  # type: ignore[attr-defined]
        txn_id="p1", factor=PinFactor(PIN), online=True)
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, LedgerDialog))
    dialog = window.dialog
    assert isinstance(dialog, LedgerDialog)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    assert dialog.lines[dialog.table.currentRow()].kind == "payment"
    before = till.dump()
    dialog.buttons["refund"].click()  # no manager typed in: refused, nothing moved
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert till.dump() == before
    with till.uow.read() as s:
        number = s.scalar(select(Staff.code).where(Staff.id == till.manager.staff_id))
    dialog.manager_code.setText(number)
    dialog.manager_pin.setText(PINS[till.manager.role])
    dialog.buttons["refund"].click()
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: get_balance(till.uow, m.id).total_fen == 11000)  # type: ignore[attr-defined]
