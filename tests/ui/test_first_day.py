"""What a first-day cashier tripped on (issue 17): the pay dialog says what the member cannot
do before they type (no PIN, no SMS and why, the offline limit); a success is said in green,
not as an error; an error line goes once the input is typed again; the ledgers show no internal
ids; F12 on a till without head office speaks to the manager, not to a command line."""

from __future__ import annotations

import re
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from pos_member.money import format_yuan
from pos_member.services import sales
from pos_member.services.member_auth import set_member_pin
from pos_member.services.sale_refunds import refund_sale
from pos_member.services.stored_value import PinFactor, pay, top_up
from tests.factories import Till
from tests.ui.conftest import open_dialog, settle
from ui.points_ledger_dialog import LedgerDialog as PointsLedger
from ui.stored_value_ledger import LedgerDialog
from ui.stored_value_ui import PayDialog, TopUpDialog
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("cheap_hash")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _scan(qtbot: QtBot, window: TillWindow, code: str) -> None:
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClicks(window.scan, code)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def test_the_pay_dialog_says_no_pin_no_sms_and_the_offline_limit_before_the_pin(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000, method="cash",
           txn_id=str(uuid.uuid4()))
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    settle(qtbot, window)
    notes = dialog.notes.text()
    assert dialog.notes.isVisible() and dialog.secret.text() == ""
    assert "未设置支付密码" in notes  # said before anyone typed a PIN
    assert "短信验证码" in notes and not dialog.factor_sms.isEnabled()  # greyed out, and why
    cap = till.uow.rules.stored_value.offline_daily_cap_fen
    assert format_yuan(cap) in notes  # this window has no head office: offline


def test_the_offline_limit_counts_what_was_paid_offline_today(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id=str(uuid.uuid4()))
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin="739182")
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=3_000, txn_id=str(uuid.uuid4()),
        factor=PinFactor("739182"), online=False)
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, PayDialog)
    settle(qtbot, window)
    cap = till.uow.rules.stored_value.offline_daily_cap_fen
    assert format_yuan(cap - 3_000) in dialog.notes.text()
    assert "未设置支付密码" not in dialog.notes.text()


def test_a_fixed_amount_clears_the_error_line(qtbot: QtBot, window: TillWindow,
                                              till: Till) -> None:
    m = till.register()
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F8, TopUpDialog)
    qtbot.keyClicks(dialog.amount, "0")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.error.isVisible)
    qtbot.keyClicks(dialog.amount, "0")  # 00: typing again
    assert not dialog.error.isVisible()


def test_a_success_in_the_ledger_is_green_not_an_error(
        qtbot: QtBot, open_till: object, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_till(till.manager)  # type: ignore[operator]
    m = till.register()
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: ("739182", True)))
    dialog.buttons["pin"].click()
    qtbot.waitUntil(dialog.notice.isVisible)
    assert dialog.notice.objectName() == "dialogDone" and not dialog.error.isVisible()


def test_the_ledgers_show_no_internal_ids(qtbot: QtBot, open_till: object, till: Till) -> None:
    window = open_till(till.manager)  # type: ignore[operator]
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="U-1",
                      amount_fen=50_000, member_id=m.id)
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="U-2",
                      amount_fen=50_000, member_id=m.id, redeem_points=200)
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=str(uuid.uuid4()),
                bill_no="U-2")  # the redeemed points come back as lots: their ids are no note
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000, method="cash",
           txn_id=str(uuid.uuid4()))
    _scan(qtbot, window, m.member_no)
    points = open_dialog(qtbot, window, Qt.Key.Key_F7, PointsLedger)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: points.table.rowCount() >= 5)
    cells = [points.table.item(r, c).text() for r in range(points.table.rowCount())
             for c in range(points.table.columnCount()) if points.table.item(r, c)]
    assert not [c for c in cells if UUID.search(c)], cells
    points.reject()
    settle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    sv = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                     Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: sv.table.rowCount() == 1)
    cells = [sv.table.item(0, c).text() for c in range(sv.table.columnCount())]
    assert not [c for c in cells if UUID.search(c)], cells


def test_closing_without_head_office_speaks_to_the_manager(
        qtbot: QtBot, open_till: object, till: Till) -> None:
    window = open_till(till.manager)  # type: ignore[operator]
    qtbot.keyClick(window, Qt.Key.Key_F12)
    qtbot.waitUntil(window.banner.isVisible)
    text = window.banner.text()
    assert "pos-member" not in text and "总部" in text, text


def test_an_unknown_phone_is_offered_for_registration_with_the_phone_carried_over(
        qtbot: QtBot, window: TillWindow) -> None:
    from ui.register_dialog import RegisterDialog

    qtbot.keyClicks(window.scan, "13912345678")
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(window.banner.isVisible)
    settle(qtbot, window)
    assert "F2" in window.banner.text() and window.banner.property("kind") == "info"
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F2, RegisterDialog)
    assert dialog.phone.text() == "13912345678"
    dialog.reject()
    settle(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    again = open_dialog(qtbot, window, Qt.Key.Key_F2, RegisterDialog)  # once only
    assert again.phone.text() == ""


def test_ctrl_h_shows_the_members_bills_with_points_and_refunds(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from ui.purchases_dialog import PurchasesDialog

    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="H-1",
                      amount_fen=12_000, member_id=m.id)
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="H-2",
                      amount_fen=20_000, member_id=m.id, redeem_points=100)
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=str(uuid.uuid4()),
                bill_no="H-1", amount_fen=2_000)
    other = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="H-3",
                      amount_fen=5_000, member_id=other.id)
    _scan(qtbot, window, m.member_no)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_H, PurchasesDialog,
                         Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)  # not the other member's
    rows = [[dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
            for r in range(2)]
    assert rows[0][1:5] == ["H-2", "¥200.00", "100", "¥199.00"]
    assert rows[1][1] == "H-1" and rows[1][7] == "¥20.00"
    assert rows[1][6] == str(120 - 20)  # earned, less what the refund took back


def test_a_member_is_found_by_the_phones_last_four_digits_or_by_name(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from ui.member_search import MemberPickDialog

    first = till.register(phone="13900005678", name="王芳")
    till.register(phone="13800001234", name="王芳芳")
    last = till.register(phone="13700005678", name="李娜")
    qtbot.keyClicks(window.scan, "5678")
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(window.dialog, MemberPickDialog))
    pick = window.dialog
    assert isinstance(pick, MemberPickDialog)
    assert [c.member_no for c in pick.cards] == [last.member_no, first.member_no]  # newest first
    assert "王" not in pick.table.item(1, 0).text() or "*" in pick.table.item(1, 0).text()
    qtbot.waitUntil(pick.isActiveWindow)
    qtbot.keyClick(pick.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(window.card_shown):
        qtbot.keyClick(pick.table, Qt.Key.Key_Return)
    assert window.card_view.card.member_no == first.member_no  # type: ignore[union-attr]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    with qtbot.waitSignal(window.card_shown):
        window.scan.insert("李娜")  # one match: the card at once (typed by an input method)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    assert window.card_view.card.member_no == last.member_no  # type: ignore[union-attr]
    window.scan.insert("赵六")
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.banner.isVisible() and window.card_view.card is None)
    assert window.banner.property("kind") == "error"
