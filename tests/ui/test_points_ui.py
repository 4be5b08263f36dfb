"""Points at the till, driven by the keyboard as a cashier would: F4 sale with points redeemed,
Shift+F4 partial refund, F7 ledger, Ctrl+F7 adjustment with the manager's PIN, Ctrl+G gifts."""

from __future__ import annotations

import sqlite3
import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from pos_member.errors import PointsReasonRequired
from pos_member.permissions import Role
from pos_member.services import points, sales
from pos_member.stored_value_errors import ApprovalRefused
from tests.factories import PINS, Till
from tests.ui.conftest import confirm, settle
from ui.gift_dialog import GiftDialog
from ui.i18n import error_text, translate
from ui.points_adjust_dialog import AdjustDialog
from ui.points_ledger_dialog import LedgerDialog
from ui.points_view import receipt_lines
from ui.refund_dialog import RefundDialog
from ui.sale_dialog import SaleDialog
from ui.till import TillWindow

MANAGER_CODE = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering


def scan(qtbot: QtBot, window: TillWindow, code: str) -> None:
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClicks(window.scan, code)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def dump(till: Till) -> str:
    """Every row of every table."""
    con = sqlite3.connect(till.path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


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
    qtbot.waitUntil(lambda: dialog.redeem_max == 100)
    assert "123" in dialog.explain.text()
    dialog.redeem.setFocus()
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
    qtbot.keyClick(refund.amount, Qt.Key.Key_Tab)
    qtbot.keyClicks(refund.manager, MANAGER_CODE)
    qtbot.keyClick(refund.manager, Qt.Key.Key_Tab)
    qtbot.keyClicks(refund.pin, PINS[Role.MANAGER])
    qtbot.keyClick(refund.pin, Qt.Key.Key_Return)  # the figures, to confirm
    with qtbot.waitSignal(refund.refunded) as got:
        confirm(qtbot, refund)
    assert got.args[0].clawed_points == 61 and got.args[0].restored_points == 30
    qtbot.keyClick(refund.ok, Qt.Key.Key_Return)
    settle(qtbot, window)

    qtbot.keyClick(window, Qt.Key.Key_F7)
    ledger = window.dialog
    assert isinstance(ledger, LedgerDialog)
    settle(qtbot, window)
    assert ledger.table.rowCount() == 5  # welcome, redeem, earn, claw-back, restore
    assert ledger.table.item(0, 3).text() == str(100 - 60 + 122 - 61 + 30)


def test_the_points_box_takes_what_is_typed_or_says_why_not(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    """Issue 17: 6000 typed against a 1,495-point balance silently became 600. Now the box
    keeps 6000, the dialog says the most this bill takes and why, and nothing is recorded."""
    m = till.register()  # 100 welcome points
    points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager,
                         txn_id=str(uuid.uuid4()), member_id=m.id, points=1_395,
                         reason="test balance")
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "P-1")
    qtbot.keyClicks(dialog.amount, "5000")  # half the bill is far more than the balance
    qtbot.waitUntil(lambda: dialog.redeem_max == 1_495)
    assert "1495" in dialog.cap.text()  # the real maximum, not half the bill
    before = dump(till)
    qtbot.keyClicks(dialog.redeem, "6000")
    qtbot.keyClick(dialog.redeem, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert dialog.redeem.text() == "6000" and dialog.result is None
    assert dialog.message.isVisible()
    assert "6000" in dialog.message.text() and "1495" in dialog.message.text()
    assert dump(till) == before
    # Half the bill is the smaller: said so.
    dialog.amount.setText("20")
    qtbot.waitUntil(lambda: dialog.redeem_max == 1_000)
    qtbot.waitUntil(lambda: "1000" in dialog.message.text())
    dialog.redeem.setText("1000")  # fixed: the line goes, the sale goes through
    qtbot.waitUntil(lambda: not dialog.message.isVisible())
    with qtbot.waitSignal(dialog.recorded) as got:
        qtbot.keyClick(dialog.redeem, Qt.Key.Key_Return)
    assert got.args[0].redeem_points == 1_000


def test_the_receipt_lists_each_line_once_and_names_the_multipliers(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from datetime import datetime, time

    day = till.uow.rules.points.member_day
    now = till.clock.local()
    till.clock.set(datetime.combine(now.date().replace(day=day), time(12, 0),
                                    tzinfo=till.clock.zone))
    m = till.register()
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "MD-1")
    qtbot.keyClicks(dialog.amount, "100")
    with qtbot.waitSignal(dialog.recorded):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    lines = dialog.explain.text().splitlines()
    assert len(lines) == len(set(lines))  # each line once
    earned = [line for line in lines if line.startswith("本单积分")]
    assert len(earned) == 1, lines
    assert "会员日 2 倍" in earned[0] and "等级" not in earned[0], earned


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
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: window.dialog is None, timeout=10_000)
    settle(qtbot, window)
    assert points.points_summary(till.uow, member_id=m.id).balance == 150


def test_an_adjustment_without_a_reason_is_refused_before_the_managers_pin(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_F7, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, AdjustDialog)
    qtbot.keyClicks(dialog.points, "50")
    dialog.manager.setFocus()  # the reason left empty
    qtbot.keyClicks(dialog.manager, f"1{list(Role).index(Role.MANAGER)}01")
    qtbot.keyClick(dialog.manager, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.pin, PINS[till.manager.role])
    before = dump(till)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.dialog is dialog and dialog.message.isVisible()
    assert dialog.message.text() == error_text(PointsReasonRequired())
    assert dump(till) == before  # not even the manager's login is written


def test_the_receipt_says_how_many_points_the_daily_cap_left_unearned(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "CAP-1")
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.amount, "6000")  # 6,000 + the 100 bonus; the cap is 5,000
    with qtbot.waitSignal(dialog.recorded) as got:
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    result = got.args[0]
    assert (result.earn.earned, result.earn.not_earned) == (5_000, 1_100)
    line = translate("PointsView", "Not earned (daily cap of the member reached): %1"
                     ).replace("%1", "1100")
    assert line in receipt_lines(result)
    assert line in dialog.explain.text().splitlines()


def test_ctrl_g_exchanges_a_gift_once_and_refuses_what_the_member_cannot_afford(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="G-1",
                      amount_fen=50_000, member_id=m.id)  # 100 welcome + 500 = 600 points
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, GiftDialog)
    qtbot.waitUntil(lambda: dialog.ok.isEnabled())
    assert "600" in dialog.balance.text()
    assert dialog.table.rowCount() == len(till.uow.rules.points.catalogue) == 2
    assert dialog.table.item(0, 3).text() == "500"  # the bag: affordable
    assert "600" in dialog.table.item(1, 3).text()  # the coupon: 1,200, 600 short

    before = till.table_counts()
    dialog.table.setCurrentCell(0, 1)  # the name column: typing searches names there
    qtbot.keyClick(dialog.table, Qt.Key.Key_2)  # the coupon, by its number
    assert dialog.selected().code == "CPN-10"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert dialog.message.isVisible() and "1200" in dialog.message.text()
    assert dialog.result is None and till.table_counts() == before

    qtbot.keyClick(dialog.table, Qt.Key.Key_Up)  # back to the bag
    assert dialog.selected().code == "GIFT-BAG"
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    with qtbot.waitSignal(dialog.exchanged) as got:
        confirm(qtbot, dialog)
    assert (got.args[0].points, got.args[0].balance) == (-500, 100)
    assert "100" in dialog.info.text() and not dialog.message.isVisible()
    # The same till transaction again (a retry after a lost answer): the first result, no
    # second gift.
    again = points.redeem_for_item(till.uow, clerk=till.cashier, txn_id=dialog.txn_id,
                                   member_id=m.id, item_code="GIFT-BAG")
    assert again.repeated and again.balance == 100
    qtbot.keyClick(dialog.ok, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert window.dialog is None
    assert points.points_summary(till.uow, member_id=m.id).balance == 100
    assert [line.kind for line in points.ledger(till.uow, clerk=till.cashier, member_id=m.id)
            ].count(points.GIFT) == 1


def test_ctrl_g_without_a_member_on_screen_opens_nothing(qtbot: QtBot, window: TillWindow
                                                         ) -> None:
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert window.dialog is None


def test_ctrl_g_with_an_empty_catalogue_says_so(qtbot: QtBot, window: TillWindow, till: Till
                                                ) -> None:
    from dataclasses import replace

    rules = till.uow.rules
    till.uow.rules = replace(rules, points=replace(rules.points, catalogue=()))
    m = till.register()
    scan(qtbot, window, m.member_no)
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, GiftDialog)
    settle(qtbot, window)
    assert dialog.empty.isVisibleTo(dialog) and not dialog.table.isVisibleTo(dialog)
    before = till.table_counts()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    settle(qtbot, window)
    assert not dialog.ok.isEnabled() and till.table_counts() == before


def test_a_refund_without_the_managers_pin_is_refused_in_the_dialog_and_writes_nothing(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    """Issue 13: any role could refund a sale. The cashier's refund needs a manager's number
    and PIN; a wrong PIN is told in the dialog, the bill stays as it was."""
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="T-7",
                      amount_fen=5_000, member_id=m.id)
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.ShiftModifier)
    refund = window.dialog
    assert isinstance(refund, RefundDialog)
    qtbot.keyClicks(refund.bill, "T-7")
    qtbot.keyClick(refund.bill, Qt.Key.Key_Return)
    confirm(qtbot, refund)
    qtbot.waitUntil(lambda: refund.message.isVisible())
    assert refund.result is None
    qtbot.keyClicks(refund.manager, MANAGER_CODE)
    qtbot.keyClicks(refund.pin, "000000")
    qtbot.keyClick(refund.pin, Qt.Key.Key_Return)
    confirm(qtbot, refund)
    qtbot.waitUntil(lambda: refund.message.isVisible() and refund.ok.isEnabled())
    assert refund.result is None and refund.pin.text() == ""
    assert refund.message.text() == error_text(ApprovalRefused())
    con = sqlite3.connect(till.path)
    try:
        refunded = con.execute("SELECT refunded_fen FROM sales WHERE bill_no='T-7'").fetchone()
        events = con.execute("SELECT count(*) FROM events WHERE type='sale.refunded'").fetchone()
    finally:
        con.close()
    assert (refunded, events) == ((0,), (0,))
