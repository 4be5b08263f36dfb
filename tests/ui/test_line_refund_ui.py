"""Shift+F4 of a bill the main POS reported with lines (issue 17): the bill picked from the
member's bills lists its lines; Space checks one, Enter shows the figures — that line's share,
its stored value back first — and only Ctrl+Enter refunds it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_member.services.line_refunds import bill_lines
from pos_member.services.stored_value_ledger import get_balance
from tests.core.test_line_refunds import _sold
from tests.factories import Till
from tests.ui.conftest import confirm, settle
from ui.refund_dialog import RefundDialog

pytestmark = pytest.mark.usefixtures("cheap_hash")


def test_a_line_of_a_pos_bill_is_refunded_from_the_bill(qtbot: QtBot, open_till: object,
                                                        till: Till) -> None:
    m = _sold(till)  # lines a ¥60, b ¥30, c ¥10; ¥50 stored value + ¥50 cash
    window = open_till(till.manager)  # type: ignore[operator]
    before = get_balance(till.uow, m.id).total_fen  # type: ignore[attr-defined]
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)  # type: ignore[attr-defined]
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, RefundDialog))
    dialog = window.dialog
    assert isinstance(dialog, RefundDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Down)  # the bill B-1 picked: its lines load
    assert dialog.bill.text() == "B-1"
    qtbot.waitUntil(lambda: dialog.lines_table.rowCount() == 3)
    assert dialog.lines_table.isVisible()
    dialog.lines_table.setFocus()
    dialog.lines_table.setCurrentCell(1, 0)  # line b
    qtbot.keyClick(dialog.lines_table, Qt.Key.Key_Space)
    assert dialog.checked_lines() == [("b", 3_000)]
    qtbot.keyClick(dialog.lines_table, Qt.Key.Key_Return)  # the figures, nothing refunded yet
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    figures = dialog.confirming.figures.text()
    assert "¥30.00" in figures and "储值 ¥30.00" in figures, figures
    assert get_balance(till.uow, m.id).total_fen == before  # type: ignore[attr-defined]
    with qtbot.waitSignal(dialog.refunded):
        confirm(qtbot, dialog)
    assert get_balance(till.uow, m.id).total_fen == before + 3_000  # type: ignore[attr-defined]
    assert [x.left_fen for x in bill_lines(till.uow, till.cashier, bill_no="B-1")] == [
        6_000, 0, 1_000]


def test_an_amount_with_one_checked_line_refunds_that_part_of_it(
        qtbot: QtBot, open_till: object, till: Till) -> None:
    _sold(till)
    window = open_till(till.manager)  # type: ignore[operator]
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, RefundDialog))
    dialog = window.dialog
    assert isinstance(dialog, RefundDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(dialog.bill, "B-1")
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Tab)  # the bill typed: its lines load
    qtbot.waitUntil(lambda: dialog.lines_table.rowCount() == 3)
    for row in (0, 1):
        dialog.lines_table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.amount, "10")
    dialog.submit()  # two lines and an amount: said, nothing asked
    assert dialog.message.isVisible() and dialog.confirming is None
    dialog.lines_table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    with qtbot.waitSignal(dialog.refunded):
        confirm(qtbot, dialog)
    assert [x.left_fen for x in bill_lines(till.uow, till.cashier, bill_no="B-1")] == [
        5_000, 3_000, 1_000]
