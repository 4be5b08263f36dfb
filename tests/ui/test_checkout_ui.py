"""One checkout at the till (issue 17), driven as a cashier with a customer waiting: the member's
code scanned, F4, the bill number and amount, points to redeem, the part paid from stored value
verified by the member's dynamic code scanned from their phone, the rest in cash, one receipt.

Every key the cashier presses goes through ``key`` and is counted, except the characters of the
bill number, the amounts and the points (``figures``) and what the scanner sends (``scanner``: a
device, not the cashier): ``control_keys``, at most 6 (bench/checkout.py prints it;
POS_MEMBER_CONTROL_KEYS_OUT names a file to write it to)."""

from __future__ import annotations

import os
from datetime import datetime, time

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from pos_member.services import points
from pos_member.services.member_auth import provision_totp
from pos_member.services.purchases import purchases
from pos_member.services.stored_value import top_up
from pos_member.services.stored_value_ledger import get_balance
from tests.factories import Till
from tests.ui.conftest import settle
from ui.sale_dialog import SaleDialog
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("cheap_hash")


def test_a_members_sale_paid_partly_by_stored_value_is_one_checkout_of_six_keys(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    till.clock.set(datetime.combine(till.clock.local().date().replace(day=10), time(11, 0),
                                    tzinfo=till.clock.zone))  # not the member day
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id="seed")  # ¥1,000 + ¥150 bonus
    secret = provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                            member_id=m.id).secret
    pressed: list[str] = []  # the cashier's control keys, in order

    def scanner(widget: QWidget, text: str) -> None:
        """What the scanner sends (a device: not the cashier's keys)."""
        qtbot.keyClicks(widget, text)
        qtbot.keyClick(widget, Qt.Key.Key_Return)

    def figures(widget: QWidget, text: str) -> None:
        """The bill number, an amount or the points: not counted."""
        qtbot.keyClicks(widget, text)

    def key(widget: QWidget, k: Qt.Key) -> None:
        pressed.append(k.name)
        qtbot.keyClick(widget, k)

    with qtbot.waitSignal(window.card_shown):
        scanner(window.scan, m.qr_payload)  # the member's code from their phone
    settle(qtbot, window)
    key(window, Qt.Key.Key_F4)  # 1
    qtbot.waitUntil(lambda: isinstance(window.dialog, SaleDialog))
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.waitUntil(dialog.isActiveWindow)
    settle(qtbot, window)
    figures(dialog.bill, "A-1")
    key(dialog.bill, Qt.Key.Key_Tab)  # 2
    figures(dialog.amount, "300")
    key(dialog.amount, Qt.Key.Key_Tab)  # 3
    assert dialog.redeem.hasFocus()
    figures(dialog.redeem, "100")
    key(dialog.redeem, Qt.Key.Key_Tab)  # 4
    assert dialog.tenders.sv_amount.hasFocus()
    figures(dialog.tenders.sv_amount, "200")
    key(dialog.tenders.sv_amount, Qt.Key.Key_Tab)  # 5
    assert dialog.tenders.secret.hasFocus()
    assert dialog.tenders.totp.isChecked()  # the member has a dynamic code, no PIN
    code = pyotp.TOTP(secret).at(int(till.clock.now().timestamp()))
    with qtbot.waitSignal(dialog.recorded, timeout=10_000) as got:
        scanner(dialog.tenders.secret, code)  # the dynamic code; the scanner's Enter pays
    key(dialog.ok, Qt.Key.Key_Return)  # 6: the receipt read, done
    qtbot.waitUntil(lambda: window.dialog is None)
    settle(qtbot, window)
    sale = got.args[0]
    assert (sale.bill_fen, sale.redeem_points, sale.paid_fen) == (30_000, 100, 29_900)
    assert get_balance(till.uow, m.id).total_fen == 95_000
    # ¥299 paid; the ¥26.08 of bonus money in the ¥200 from stored value earns nothing.
    assert sale.earn.earned == (29_900 - 2_608) // 100
    assert points.points_summary(till.uow, member_id=m.id).balance == 100 - 100 + 272
    [bill] = purchases(till.uow, clerk=till.cashier, member_id=m.id)
    assert bill.tenders == (("stored_value", 20_000), ("cash", 9_900))
    assert len(pressed) <= 6, pressed
    out = os.environ.get("POS_MEMBER_CONTROL_KEYS_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(str(len(pressed)))


def test_the_receipt_says_how_the_bill_was_paid(qtbot: QtBot, window: TillWindow,
                                                till: Till) -> None:
    m = till.register()
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, SaleDialog))
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    qtbot.keyClicks(dialog.bill, "C-2")
    qtbot.keyClicks(dialog.amount, "88")
    dialog.tenders.rest_method.setCurrentIndex(1)  # bank card
    with qtbot.waitSignal(dialog.recorded):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    lines = dialog.explain.text().splitlines()
    assert "支付方式：银行卡 ¥88.00" in lines, lines
    [bill] = purchases(till.uow, clerk=till.cashier, member_id=m.id)
    assert bill.tenders == (("card", 8_800),)


def test_shift_f4_starts_from_the_members_bills_and_gives_stored_value_back(
        qtbot: QtBot, open_till: object, till: Till) -> None:
    from pos_member.services.checkout import Tender, checkout
    from pos_member.services.member_auth import set_member_pin
    from pos_member.services.stored_value import PinFactor
    from tests.ui.conftest import confirm
    from ui.refund_dialog import RefundDialog

    window = open_till(till.manager)  # type: ignore[operator]
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id="seed")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin="739182")
    checkout(till.uow, till.cashier, txn_id="c-1", bill_no="R-9", amount_fen=30_000,
             member_id=m.id, tenders=(Tender("stored_value", 20_000), Tender("cash", 10_000)),
             factor=PinFactor("739182"), online=True)
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, RefundDialog))
    dialog = window.dialog
    assert isinstance(dialog, RefundDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert dialog.table.item(0, 1).text() == "R-9" and dialog.table.item(0, 3).text() == "¥300.00"
    assert "储值 ¥200.00" in dialog.table.item(0, 4).text()
    qtbot.keyClick(dialog.bill, Qt.Key.Key_Down)  # to the member's bills: the first picked
    assert dialog.bill.text() == "R-9" and dialog.table.hasFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)  # everything left on it: the figures
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    figures = dialog.confirming.figures.text()
    assert "储值 ¥200.00 + 现金 ¥100.00" in figures, figures
    with qtbot.waitSignal(dialog.refunded):
        confirm(qtbot, dialog)
    assert get_balance(till.uow, m.id).total_fen == 115_000
    assert "储值 ¥200.00 + 现金 ¥100.00" in dialog.info.text()


def test_the_stored_value_tender_takes_an_sms_code_when_online_and_says_why_not_offline(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from tests.ui.test_stored_value_ui import FakeHq

    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000, method="cash",
           txn_id="seed")
    hq = FakeHq()
    window.sv_sms = hq  # type: ignore[assignment]
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, SaleDialog))
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    assert not dialog.tenders.sms.isEnabled()  # no head office on this window: offline
    assert "短信验证码" in dialog.tenders.sms_note.text()
    dialog._online = lambda: True  # head office reachable now
    dialog.refresh_online()
    assert dialog.tenders.sms.isEnabled() and not dialog.tenders.sms_note.isVisible()
    qtbot.keyClicks(dialog.bill, "S-1")
    qtbot.keyClicks(dialog.amount, "60")
    qtbot.keyClicks(dialog.tenders.sv_amount, "60")
    dialog.tenders.sms.setChecked(True)
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog.tenders.sv_amount, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: dialog.tenders.challenge_id == "c1" or dialog.message.isVisible())
    assert dialog.tenders.challenge_id == "c1", dialog.message.text()
    qtbot.keyClicks(dialog.tenders.secret, "246810")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.keyClick(dialog.tenders.secret, Qt.Key.Key_Return)
    assert get_balance(till.uow, m.id).total_fen == 10_000 + 1_000 - 6_000


def test_the_stored_value_ledger_names_a_checkouts_bill(
        qtbot: QtBot, open_till: object, till: Till) -> None:
    import uuid

    from pos_member.services.checkout import Tender, checkout
    from pos_member.services.member_auth import set_member_pin
    from pos_member.services.stored_value import PinFactor
    from tests.ui.conftest import open_dialog
    from ui.stored_value_ledger import LedgerDialog

    window = open_till(till.manager)  # type: ignore[operator]
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000, method="cash",
           txn_id=str(uuid.uuid4()))
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin="739182")
    checkout(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no="L-7", amount_fen=5_000,
             member_id=m.id, tenders=(Tender("stored_value", 5_000),),
             factor=PinFactor("739182"), online=True)
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)
    settle(qtbot, window)
    dialog = open_dialog(qtbot, window, Qt.Key.Key_F10, LedgerDialog,
                         Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    refs = [dialog.table.item(r, 8).text() for r in range(2)]
    assert refs[0] == "小票 L-7" and len(refs[1]) == 8, refs  # the top-up: a short reference
    dialog.table.selectRow(0)
    dialog.buttons["refund"].click()  # a checkout's payment: refunded from its bill only
    qtbot.waitUntil(dialog.error.isVisible)
    assert "L-7" in dialog.error.text() and dialog.confirming is None


def test_a_large_stored_value_part_asks_for_a_managers_approval(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()
    with qtbot.waitSignal(window.card_shown):
        window.lookup(m.member_no)
    settle(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: isinstance(window.dialog, SaleDialog))
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog)
    settle(qtbot, window)
    assert not dialog.tenders.manager_code.isVisible()
    limit = till.uow.rules.stored_value.manager_approval_fen
    qtbot.keyClicks(dialog.tenders.sv_amount, str(limit // 100))
    assert dialog.tenders.manager_code.isVisible() and dialog.tenders.manager_pin.isVisible()
