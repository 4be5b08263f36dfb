"""Money never moves on Enter (issue 17): every dialog of an action that gives money or points
away or blocks them, and that the clerk who did it cannot undo (a sale's refund, a stored-value
payment's or top-up's refund, a gift exchange, an adjustment, a freeze), filled in as a clerk
would and then hit with Enter over and over: nothing is written. The same dialog then moves
the money on a deliberate Ctrl+Enter on its confirmation, with the figures shown (so these
tests can fail)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from pos_member.permissions import Clerk, Role
from pos_member.services import points, sales
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from tests.factories import PINS, Till
from tests.ui.conftest import open_dialog, settle
from ui.confirm import ConfirmDialog
from ui.gift_dialog import GiftDialog
from ui.points_adjust_dialog import AdjustDialog
from ui.refund_dialog import RefundDialog
from ui.stored_value_ledger import LedgerDialog
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("cheap_hash")

MANAGER_CODE = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering
MEMBER_PIN = "739182"
ENTERS = 7  # an odd number: the last Enter leaves a confirmation open, if Enter opens one


def _scan(qtbot: QtBot, window: TillWindow, code: str) -> None:
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClicks(window.scan, code)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def _hammer_enter(qtbot: QtBot, window: TillWindow, dialog: QDialog) -> None:
    """Enter, again and again, on whatever has the focus: the dialog's field, or the
    confirmation it opened; until the dialog closes (the ledger's Enter is Close)."""
    for _ in range(ENTERS):
        settle(qtbot, window)
        if window.dialog is not dialog:
            break
        confirming = getattr(dialog, "confirming", None)
        target: QWidget = confirming if confirming is not None else dialog
        focus = target.focusWidget() or target
        qtbot.keyClick(focus, Qt.Key.Key_Return)
    settle(qtbot, window)


def _confirmation(qtbot: QtBot, window: TillWindow, dialog: QDialog) -> ConfirmDialog:
    settle(qtbot, window)
    qtbot.waitUntil(lambda: getattr(dialog, "confirming", None) is not None)
    confirm = dialog.confirming  # type: ignore[attr-defined]
    assert isinstance(confirm, ConfirmDialog)
    assert not confirm.go.isDefault() and not confirm.go.autoDefault()
    assert confirm.back.isDefault()
    return confirm


def _confirm(qtbot: QtBot, window: TillWindow, confirm: ConfirmDialog) -> None:
    qtbot.waitUntil(confirm.isActiveWindow)
    qtbot.keyClick(confirm.focusWidget() or confirm, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)


def test_a_sale_refund_needs_ctrl_enter_on_its_figures(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="R-1",
                      amount_fen=20_000, member_id=m.id)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F4, RefundDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(dialog.bill, "R-1")
    qtbot.keyClicks(dialog.amount, "50")
    qtbot.keyClicks(dialog.manager, MANAGER_CODE)
    qtbot.keyClicks(dialog.pin, PINS[Role.MANAGER])
    dialog.pin.setFocus()
    before = till.dump()
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before and dialog.result is None
    confirm = _confirmation(qtbot, window, dialog)
    figures = confirm.figures.text()
    assert "¥50.00" in figures and "¥200.00" in figures  # the refund and the bill
    assert "300 → 250" in figures  # 100 welcome + 200 earned; 50 taken back
    _confirm(qtbot, window, confirm)
    qtbot.waitUntil(lambda: dialog.result is not None)
    assert dialog.result.refund_fen == 5_000  # type: ignore[union-attr]
    assert points.points_summary(till.uow, member_id=m.id).balance == 250


def _funded(till: Till) -> object:
    m = till.register(phone="13900002222")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id=str(uuid.uuid4()))  # ¥1,000 and its ¥150 bonus
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin=MEMBER_PIN)
    return m


def _ledger(qtbot: QtBot, window: TillWindow, m: object, rows: int) -> LedgerDialog:
    _scan(qtbot, window, m.member_no)  # type: ignore[attr-defined]
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == rows)
    return dialog


def _reopen(qtbot: QtBot, window: TillWindow, rows: int) -> LedgerDialog:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == rows)
    settle(qtbot, window)
    return dialog


def test_enter_in_the_stored_value_ledger_refunds_nothing(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    """The report: Enter in the ledger refunded a ¥1,000 top-up and its bonus at once."""
    window = open_till(till.manager)
    m = _funded(till)
    dialog = _ledger(qtbot, window, m, rows=1)
    assert dialog.lines[dialog.table.currentRow()].kind == "topup"
    before = till.dump()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert till.dump() == before
    assert window.dialog is None  # Enter is Close here
    dialog = _reopen(qtbot, window, rows=1)
    dialog.buttons["refund"].click()
    confirm = _confirmation(qtbot, window, dialog)
    figures = confirm.figures.text()
    assert "¥1,000.00" in figures and "¥150.00" in figures  # cash back, bonus taken back
    assert "¥1,150.00 → ¥0.00" in figures
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before


def test_a_stored_value_refund_needs_ctrl_enter_on_its_figures(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    window = open_till(till.manager)
    m = _funded(till)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=11_500,  # type: ignore[attr-defined]
        txn_id=str(uuid.uuid4()), factor=PinFactor(MEMBER_PIN), online=True)
    dialog = _ledger(qtbot, window, m, rows=2)
    assert dialog.lines[dialog.table.currentRow()].kind == "payment"
    before = till.dump()
    dialog.buttons["refund"].click()
    confirm = _confirmation(qtbot, window, dialog)
    assert "¥115.00" in confirm.figures.text()
    assert "¥1,035.00 → ¥1,150.00" in confirm.figures.text()
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before and window.dialog is None  # back, then Close
    # The top-up below it: part of its principal is spent, so it is refused before any
    # confirmation, and the refusal says why.
    dialog = _reopen(qtbot, window, rows=2)
    dialog.table.selectRow(1)
    dialog.buttons["refund"].click()
    qtbot.waitUntil(dialog.error.isVisible)
    assert dialog.confirming is None and till.dump() == before
    dialog.reject()
    dialog = _reopen(qtbot, window, rows=2)
    dialog.table.selectRow(0)
    dialog.buttons["refund"].click()
    _confirm(qtbot, window, _confirmation(qtbot, window, dialog))
    qtbot.waitUntil(lambda: get_balance(till.uow, m.id).total_fen == 115_000)  # type: ignore[attr-defined]


def test_a_freeze_needs_ctrl_enter(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                                   till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_till(till.manager)
    m = _funded(till)
    dialog = _ledger(qtbot, window, m, rows=1)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("lost", True)))
    before = till.dump()
    dialog.buttons["freeze"].click()
    confirm = _confirmation(qtbot, window, dialog)
    assert "¥1,150.00" in confirm.figures.text() and "lost" in confirm.figures.text()
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before and not get_balance(till.uow, m.id).frozen  # type: ignore[attr-defined]
    dialog = _reopen(qtbot, window, rows=1)
    dialog.buttons["freeze"].click()
    _confirm(qtbot, window, _confirmation(qtbot, window, dialog))
    qtbot.waitUntil(lambda: get_balance(till.uow, m.id).frozen)  # type: ignore[attr-defined]


def test_a_gift_exchange_needs_ctrl_enter(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="G-1",
                      amount_fen=50_000, member_id=m.id)  # 600 points
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_G, GiftDialog,
                         Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(dialog.ok.isEnabled)
    before = till.dump()
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before and dialog.result is None
    confirm = _confirmation(qtbot, window, dialog)
    assert "600 → 100" in confirm.figures.text()
    _confirm(qtbot, window, confirm)
    qtbot.waitUntil(lambda: dialog.result is not None)
    assert points.points_summary(till.uow, member_id=m.id).balance == 100


def test_an_adjustment_needs_ctrl_enter(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F7, AdjustDialog,
                         Qt.KeyboardModifier.ControlModifier)
    dialog.points.setValue(-40)
    qtbot.keyClicks(dialog.reason, "typed twice")
    qtbot.keyClicks(dialog.manager, MANAGER_CODE)
    qtbot.keyClicks(dialog.pin, PINS[Role.MANAGER])
    dialog.pin.setFocus()
    before = till.dump()
    _hammer_enter(qtbot, window, dialog)
    assert till.dump() == before
    confirm = _confirmation(qtbot, window, dialog)
    assert "-40" in confirm.figures.text() and "100 → 60" in confirm.figures.text()
    _confirm(qtbot, window, confirm)
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    assert points.points_summary(till.uow, member_id=m.id).balance == 60


def test_the_line_under_the_figures_is_the_callers_or_none(qtbot: QtBot) -> None:
    """A caller with no customer at the counter gives its own line, or none; the keys stay."""
    parent = QWidget()
    qtbot.addWidget(parent)
    lines = {check: ConfirmDialog(parent, title="t", lines=["1"], action="Go",
                                  check=check).hint.text().splitlines()
             for check in ("Only members who agreed.", None)}
    keys = QCoreApplication.translate(  # the till runs in Chinese
        "ConfirmDialog", "Ctrl+Enter confirms; Enter or Esc goes back and changes nothing.")
    customer = QCoreApplication.translate("ConfirmDialog", "Check the figures with the customer.")
    assert lines == {"Only members who agreed.": ["Only members who agreed.", keys], None: [keys]}
    default = ConfirmDialog(parent, title="t", lines=["1"], action="Go").hint.text()
    assert default.splitlines() == [customer, keys]
