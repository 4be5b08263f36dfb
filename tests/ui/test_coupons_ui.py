"""Coupons at the till as a cashier and a manager use them (issue 18): the card lists the
member's coupons, head office's marked as such; Ctrl+Shift+K withdraws one with a reason and
the manager's PIN (a wrong PIN withdraws nothing), after which the checkout refuses it; online,
F4 asks HQ about a coupon this till did not issue and refuses one HQ holds a bill for."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from pos_member.errors import CouponAlreadyUsed
from pos_member.permissions import Role
from pos_member.rules_config import default_rules_path
from pos_member.services import coupon_redeem, coupons
from sync.server import coupon_bulk, services
from sync.server.models import CouponUse
from tests.factories import PINS, Till, hq_coupon, table_counts
from tests.sync import harness
from tests.ui.conftest import confirm, online_window, open_dialog, settle, show_active
from tests.ui.test_points_ui import MANAGER_CODE, card_text, scan
from ui.coupon_withdraw_dialog import CouponWithdrawDialog
from ui.sale_dialog import SaleDialog
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


def test_online_the_checkout_asks_hq_before_redeeming_head_office_s_coupon(
        qtbot: QtBot, zh_app: QApplication, stores: tuple[harness.Till, harness.Till]) -> None:
    """HQ's coupon (``issue-coupons``), which this till did not issue, already redeemed at
    another store as far as HQ knows: online, F4 with it scanned is refused with where and
    when, and nothing is written. At another store's till, offline, the member's coupon is
    not known: the cashier is told they are kept at the member's home store."""
    here, there = stores
    central = here.central
    member = here.register()[0]
    here.sync()
    services.publish_rules(central.ctx, path=default_rules_path())
    coupon_bulk.issue_coupons(central.ctx, template="CPN-10", reason="店庆", store=1,
                              batch="ui-1")
    here.sync()
    [offer] = [c for c in coupons.usable(here.app.uow, member_id=member.id)
               if c.source == coupons.HQ]
    store_2 = next(s for s in services.list_stores(central.ctx) if s.number == 2)
    with central.ctx.db.write() as conn:  # a bill at store 2 that this till has not pulled
        conn.execute(insert(CouponUse).values(
            key=offer.key, member_id=member.id, sale_id="s-2", bill_no="B-2",
            store_id=store_2.id, event_id="e-2", used_at=central.clock.now()))
    with online_window(qtbot, here) as window:
        scan(qtbot, window, member.member_no)
        before = table_counts(here.path)
        dialog = open_dialog(qtbot, window, Qt.Key.Key_F4, SaleDialog)
        qtbot.keyClicks(dialog.bill, "H-1")
        qtbot.keyClicks(dialog.amount, "150")
        dialog.take_coupon(offer.qr)  # scanned while the checkout is open
        settle(qtbot, window)
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "总部记录显示此券已于" in dialog.message.text(),
                        timeout=10_000)
        assert "store 2" in dialog.message.text() and dialog.result is None
        settle(qtbot, window)
        assert table_counts(here.path) == before
    there.sync()  # the other store knows the member from the chain's directory only
    elsewhere = TillWindow(app=there.app, clerk=there.clerk)
    qtbot.addWidget(elsewhere)
    show_active(qtbot, elsewhere)
    with qtbot.waitSignal(elsewhere.card_shown):
        elsewhere.lookup(member.member_no)
    settle(qtbot, elsewhere)
    qtbot.keyClicks(elsewhere.scan, offer.qr)  # offline: HQ cannot describe it
    qtbot.keyClick(elsewhere.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(elsewhere.dialog, SaleDialog))
    away = elsewhere.dialog
    assert isinstance(away, SaleDialog)
    qtbot.keyClicks(away.amount, "150")
    qtbot.waitUntil(lambda: "开卡门店（store 1）" in away.message.text())
    assert away.result is None
