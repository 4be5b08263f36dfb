"""Coupons at the till as a cashier and a manager use them (issue 18): the card lists the
member's coupons, head office's marked as such; Ctrl+Shift+K withdraws one with a reason and
the manager's PIN (a wrong PIN withdraws nothing), after which the checkout refuses it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_member.errors import CouponAlreadyUsed
from pos_member.permissions import Role
from pos_member.services import coupon_redeem, coupons
from tests.factories import PINS, Till, hq_coupon
from tests.ui.conftest import confirm, open_dialog, settle
from tests.ui.test_points_ui import MANAGER_CODE, card_text, scan
from ui.coupon_withdraw_dialog import CouponWithdrawDialog
from ui.till import TillWindow


def test_the_card_marks_hq_s_offer_and_a_manager_withdraws_it(
        qtbot: QtBot, window: TillWindow, till: Till) -> None:
    m = till.register()  # the welcome pack: two coupons
    key = hq_coupon(till, m.id)
    scan(qtbot, window, m.member_no)
    assert "3" in card_text(window)
    [hq_line] = [line for line in window.card_view.toolTip().splitlines() if "总部优惠" in line]
    assert "10元代金券" in hq_line

    dialog = open_dialog(qtbot, window, Qt.Key.Key_K, CouponWithdrawDialog,
                         Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: dialog.coupon.count() == 3)
    dialog.coupon.setCurrentIndex(dialog.coupon.findData(key))
    dialog.reason.setText("重复发放")
    qtbot.keyClicks(dialog.manager, MANAGER_CODE)
    qtbot.keyClicks(dialog.pin, "000000")  # wrong
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    confirm(qtbot, dialog)
    qtbot.waitUntil(dialog.message.isVisible)
    settle(qtbot, window)
    assert key in [c.key for c in coupons.usable(till.uow, member_id=m.id)]
    qtbot.keyClicks(dialog.pin, PINS[Role.MANAGER])
    with qtbot.waitSignal(dialog.withdrawn):
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        confirm(qtbot, dialog)
    settle(qtbot, window)
    assert window.dialog is None
    assert key not in [c.key for c in coupons.usable(till.uow, member_id=m.id)]
    qtbot.waitUntil(lambda: "总部优惠" not in window.card_view.toolTip())
    code = coupons.code_of(till.uow.cipher, key)
    with pytest.raises(CouponAlreadyUsed):
        coupon_redeem.plan(till.uow, till.cashier, codes=[code], member_id=m.id,
                           bill_fen=50_00, redeem_points=0)
