"""The scan field routes by content (docs/rules.md, "Scanning"): member → card, coupon → the
checkout, the member's dynamic code → the pay dialog with it filled in, garbage → told."""

from __future__ import annotations

import pyotp
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_member.services import coupons
from pos_member.services.member_auth import provision_totp
from pos_member.services.purchases import purchases
from pos_member.services.stored_value import top_up
from pos_member.services.stored_value_ledger import get_balance
from tests.factories import Till
from tests.ui.conftest import settle
from ui.sale_dialog import SaleDialog
from ui.stored_value_ui import PayDialog
from ui.till import TillWindow

pytestmark = pytest.mark.usefixtures("cheap_hash")


def scan(qtbot: QtBot, window: TillWindow, text: str) -> None:
    qtbot.keyClicks(window.scan, text)
    qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    settle(qtbot, window)


def member_with_totp(till: Till) -> tuple[str, str, pyotp.TOTP]:
    m = till.register(phone="13900002222")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=50000, method="cash",
           txn_id="t1")
    secret = provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                            member_id=m.id).secret
    return m.id, m.member_no, pyotp.TOTP(secret)


def test_a_member_code_shows_the_card(qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register(phone="13900003333")
    scan(qtbot, window, f"PM1:{m.member_no}")
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    assert window.card_view.card.id == m.id  # type: ignore[union-attr]


def test_a_coupon_opens_the_checkout_for_the_member_on_screen_and_is_redeemed(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register(phone="13900003333")
    [code] = [c.qr for c in coupons.usable(till.uow, member_id=m.id)
              if c.name == "新人满100减20"]
    scan(qtbot, window, code)  # no member on screen: told, nothing opens
    assert window.banner.property("kind") == "error" and window.dialog is None
    scan(qtbot, window, m.member_no)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    qtbot.waitUntil(lambda: window.card_view.tile_text(2)[1] == "2")  # the welcome pack
    scan(qtbot, window, code)
    qtbot.waitUntil(lambda: isinstance(window.dialog, SaleDialog))
    dialog = window.dialog
    assert isinstance(dialog, SaleDialog) and dialog.coupon_codes() == (code,)
    qtbot.keyClicks(dialog.bill, "C-1")
    qtbot.keyClicks(dialog.amount, "150")
    qtbot.waitUntil(lambda: dialog.coupon_off == 2_000)
    assert "20.00" in dialog.explain.text()
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert [c.name for c in coupons.usable(till.uow, member_id=m.id)] == ["新人9折券"]
    [bill] = purchases(till.uow, clerk=till.cashier, member_id=m.id)
    assert bill.paid_fen == 13_000


def test_the_dynamic_code_opens_the_pay_dialog_filled_in_and_pays(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    member_id, member_no, totp = member_with_totp(till)
    before = get_balance(till.uow, member_id).total_fen
    scan(qtbot, window, member_no)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    code = totp.at(till.clock.now())
    scan(qtbot, window, code)
    qtbot.waitUntil(lambda: isinstance(window.dialog, PayDialog))
    dialog = window.dialog
    assert isinstance(dialog, PayDialog) and dialog.card.id == member_id
    assert dialog.factor_totp.isChecked() and dialog.secret.text() == code
    qtbot.waitUntil(lambda: dialog.amount.hasFocus())
    qtbot.keyClicks(dialog.amount, "12.50")
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.dialog is None, timeout=10000)
    settle(qtbot, window)
    assert get_balance(till.uow, member_id).total_fen == before - 1250


def test_the_dynamic_code_without_a_card_is_told_and_opens_nothing(
        qtbot: QtBot, window: TillWindow) -> None:
    scan(qtbot, window, "123456")
    assert window.dialog is None
    assert window.banner.isVisible() and window.banner.property("kind") == "error"
    assert window.card_view.card is None


def test_a_code_from_a_scanner_while_another_dialog_is_open_changes_nothing(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    member_id, member_no, totp = member_with_totp(till)
    other = till.register(phone="13900004444")
    scan(qtbot, window, member_no)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    qtbot.keyClick(window, Qt.Key.Key_F8)  # the top-up dialog
    qtbot.waitUntil(lambda: window.dialog is not None)
    window.scan_code(other.member_no)
    window.scan_code(totp.at(till.clock.now()))
    window.scan_code("not a code")
    settle(qtbot, window)
    assert window.card_view.card is not None and window.card_view.card.id == member_id
    assert not isinstance(window.dialog, PayDialog)


def test_an_open_pay_dialog_takes_a_scanned_dynamic_code(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    _, member_no, totp = member_with_totp(till)
    scan(qtbot, window, member_no)
    qtbot.waitUntil(lambda: window.card_view.card is not None)
    qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: isinstance(window.dialog, PayDialog))
    dialog = window.dialog
    assert isinstance(dialog, PayDialog) and dialog.factor_pin.isChecked()
    window.scan_code(totp.at(till.clock.now()))
    assert window.dialog is dialog and dialog.factor_totp.isChecked()
    assert dialog.secret.text() == totp.at(till.clock.now())


@pytest.mark.parametrize("garbage", ["hello world", "12345", "PM9:1", "CP1:"])
def test_garbage_is_told_and_nothing_changes(qtbot: QtBot, window: TillWindow, till: Till,
                                             garbage: str) -> None:
    m = till.register(phone="13900003333")
    scan(qtbot, window, garbage)
    assert window.banner.isVisible() and window.banner.property("kind") == "error"
    assert window.dialog is None and window.card_view.card is None
    assert get_balance(till.uow, m.id).total_fen == 0


def test_ctrl_k_issues_a_coupon_by_hand_with_the_managers_pin(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    from pos_member.permissions import Role
    from tests.factories import PINS
    from tests.ui.conftest import confirm
    from ui.coupon_issue_dialog import CouponIssueDialog

    m = till.register(phone="13900004444")
    scan(qtbot, window, m.member_no)
    qtbot.waitUntil(lambda: window.card_view.tile_text(2)[1] == "2")
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert isinstance(dialog, CouponIssueDialog)
    dialog.template.setCurrentIndex(dialog.template.findData("CPN-10"))
    dialog.reason.setText("配送延误")  # typed by an input method: not key clicks
    qtbot.keyClicks(dialog.manager, f"1{list(Role).index(Role.MANAGER)}01")
    qtbot.keyClicks(dialog.pin, PINS[Role.MANAGER])
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    assert [c.name for c in coupons.usable(till.uow, member_id=m.id)].count("10元代金券") == 0
    confirm(qtbot, dialog)  # only the deliberate Ctrl+Enter issues it
    qtbot.waitUntil(lambda: window.dialog is None, timeout=10_000)
    qtbot.waitUntil(lambda: window.card_view.tile_text(2)[1] == "3")
    assert [c.name for c in coupons.usable(till.uow, member_id=m.id)].count("10元代金券") == 1
