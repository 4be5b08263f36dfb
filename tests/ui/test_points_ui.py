"""Points at the till, driven by the keyboard as a cashier would: F4 sale with points redeemed,
Shift+F4 partial refund, F7 ledger, Ctrl+F7 adjustment with the manager's PIN."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from pos_member.permissions import Role
from pos_member.services import points
from tests.factories import PINS, Till
from tests.ui.conftest import settle
from ui.points_dialogs import AdjustDialog, LedgerDialog, RefundDialog, SaleDialog
from ui.till import TillWindow


def scan(qtbot: QtBot, window: TillWindow, code: str) -> None:
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClicks(window.scan, code)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def card_text(window: TillWindow) -> str:
    return "\n".join(label.text() for label in window.card_view.findChildren(QLabel))


def test_ring_up_redeem_refund_and_show_the_ledger(qtbot: QtBot, window: TillWindow,
                                                   till: Till) -> None:
    m = till.register()
    scan(qtbot, window, m.member_no)
    assert "100" in card_text(window)  # welcome points on the card
    qtbot.keyClick(window, Qt.Key.Key_F4)
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "T-001")
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.amount, "123.45")
    qtbot.waitUntil(lambda: dialog.redeem.maximum() == 100)
    assert "123" in dialog.explain.text()
    dialog.redeem.setFocus()
    dialog.redeem.selectAll()
    qtbot.keyClicks(dialog.redeem, "60")
    with qtbot.waitSignal(dialog.recorded) as got:
        qtbot.keyClick(dialog.redeem, Qt.Key.Key_Return)
    result = got.args[0]
    assert (result.redeem_points, result.paid_fen, result.earn.earned) == (60, 12_285, 122)
    assert "122" in dialog.explain.text()
    qtbot.keyClick(dialog.ok, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.dialog is None
    assert points.points_summary(till.uow, member_id=m.id).balance == 100 - 60 + 122

    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.ShiftModifier)
    refund = window.dialog
    assert isinstance(refund, RefundDialog)
    qtbot.keyClicks(refund.bill, "T-001")
    qtbot.keyClick(refund.bill, Qt.Key.Key_Tab)
    qtbot.keyClicks(refund.amount, "61.43")
    with qtbot.waitSignal(refund.refunded) as got:
        qtbot.keyClick(refund.amount, Qt.Key.Key_Return)
    assert got.args[0].clawed_points == 61 and got.args[0].restored_points == 30
    qtbot.keyClick(refund.ok, Qt.Key.Key_Return)
    settle(qtbot, window)

    qtbot.keyClick(window, Qt.Key.Key_F7)
    ledger = window.dialog
    assert isinstance(ledger, LedgerDialog)
    settle(qtbot, window)
    assert ledger.table.rowCount() == 5  # welcome, redeem, earn, claw-back, restore
    assert ledger.table.item(0, 3).text() == str(100 - 60 + 122 - 61 + 30)


def test_a_bad_amount_is_told_in_the_dialog_and_nothing_is_written(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    scan(qtbot, window, m.member_no)
    before = till.table_counts()
    qtbot.keyClick(window, Qt.Key.Key_F4)
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "T-9")
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.amount, "12.345")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert dialog.message.isVisible() and dialog.result is None
    assert till.table_counts() == before


def test_manager_pin_adjusts_points(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_F7, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, AdjustDialog)
    qtbot.keyClicks(dialog.points, "50")
    qtbot.keyClick(dialog.points, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.reason, "birthday gift")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.manager, f"1{list(Role).index(Role.MANAGER)}01")
    qtbot.keyClick(dialog.manager, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.pin, PINS[till.manager.role])
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None, timeout=10_000)
    settle(qtbot, window)
    assert points.points_summary(till.uow, member_id=m.id).balance == 150
