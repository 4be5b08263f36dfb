"""The programme-health screen (Shift+F11, issue 19): the manager's figures for a period, a
reversed period refused on the status line with the figures left alone, the .xlsx export; a
cashier is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from openpyxl import load_workbook
from PySide6.QtCore import QCoreApplication, QDate, Qt
from pytestqt.qtbot import QtBot

from pos_member.permissions import Clerk
from pos_member.services import rfm, sales
from pos_member.services.outbox import pending_events
from tests.factories import Till
from tests.ui.conftest import confirm, settle, show_active
from ui.health_dialog import HealthDialog
from ui.recall_dialog import RecallDialog
from ui.till import TillWindow

DAY = date(2026, 11, 25)


def open_health(qtbot: QtBot, window: TillWindow) -> HealthDialog:
    qtbot.keyClick(window, Qt.Key.Key_F11, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, HealthDialog))
    dialog = window.dialog
    assert isinstance(dialog, HealthDialog)
    qtbot.waitUntil(lambda: dialog.report is not None)
    settle(qtbot, window)
    return dialog


def test_shift_f11_shows_the_store_s_programme_health(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    till.clock.set(datetime.combine(DAY, time(16, 0), tzinfo=till.clock.zone))
    card = till.register()
    till.register()
    sales.record_sale(till.uow, till.cashier, txn_id="h-1", bill_no="H-1", amount_fen=300_00,
                      member_id=card.id)
    sales.record_sale(till.uow, till.cashier, txn_id="h-2", bill_no="H-2", amount_fen=100_00)
    window = open_till(till.manager)
    dialog = open_health(qtbot, window)
    assert dialog.period() == (date(2026, 11, 1), DAY)
    total = dialog.table.rowCount() - 1  # the store's line comes after its tiers'
    texts = [dialog.table.item(total, c).text() for c in range(dialog.table.columnCount())]
    # Two members, both new, one active; ARPU ¥150; member sales ¥300 of ¥400.
    assert texts[2:5] == ["2", "2", "1"]
    assert texts[7] == "¥150.00" and texts[10] == "75.0%"
    # The charts: 活跃度 1 of 2 (500‰) for the tier and the store; November's cohort.
    rates = dialog.rates_chart
    assert len(rates.labels) == dialog.table.rowCount() and rates.lines[0].values[-1] == 500
    assert dialog.retention_chart.labels == ["2026-11"]

    shown = texts
    dialog.start.setDate(QDate(2026, 11, 30))  # after the end: refused, figures kept
    qtbot.waitUntil(lambda: "swap" in dialog.status_line.text()
                    or "对调" in dialog.status_line.text())
    assert [dialog.table.item(total, c).text()
            for c in range(dialog.table.columnCount())] == shown

    dialog.start.setDate(QDate(2026, 11, 1))
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.start == date(2026, 11, 1))
    settle(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.exported is not None)
    assert dialog.exported is not None
    sheet = load_workbook(dialog.exported).worksheets[0]
    assert any(row[2] == 2 for row in sheet.iter_rows(min_row=4, values_only=True))


def test_a_cashier_is_refused(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                              till: Till) -> None:
    window = open_till(till.cashier)
    qtbot.keyClick(window, Qt.Key.Key_F11, Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    assert not isinstance(window.dialog, HealthDialog)


def test_the_card_shows_the_member_s_stage_tags_and_suggested_action(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    start = datetime.combine(DAY - timedelta(days=60), time(12), tzinfo=till.clock.zone)
    till.clock.set(start)
    card = till.register()
    for i, ago in enumerate((50, 40, 30)):  # usual gap 10 days, 30 days since: warning
        till.clock.set(datetime.combine(DAY - timedelta(days=ago), time(12),
                                        tzinfo=till.clock.zone))
        sales.record_sale(till.uow, till.cashier, txn_id=f"c-{i}", bill_no=f"C-{i}",
                          amount_fen=120_00, member_id=card.id)
    till.clock.set(datetime.combine(DAY, time(12), tzinfo=till.clock.zone))
    rfm.nightly(till.uow, clerk=till.manager)  # the store day's scores (the jobs would too)
    window = open_till(till.cashier)
    with qtbot.waitSignal(window.card_shown):
        window.lookup(card.member_no)
    qtbot.waitUntil(lambda: window.card_view.insight.full_text != "")
    text = window.card_view.insight.full_text
    assert "活跃" in text and "流失预警" in text and "提醒积分余额" in text
    assert "一般挽留客户 R1F1M1" in text  # the only buyer: at every cut, above none
    qtbot.keyClick(window, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)  # do it
    qtbot.waitUntil(lambda: "提醒积分余额" in window.banner.text())
    assert "未重复" in window.banner.text()  # no marketing consent: no message


def test_ctrl_shift_f11_lists_the_members_away_and_exports_them(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    till.clock.set(datetime.combine(DAY - timedelta(days=100), time(12), tzinfo=till.clock.zone))
    away, recent = till.register(marketing_consent=True), till.register()
    sales.record_sale(till.uow, till.cashier, txn_id="r-1", bill_no="R-1", amount_fen=88_00,
                      member_id=away.id)
    till.clock.set(datetime.combine(DAY, time(12), tzinfo=till.clock.zone))
    sales.record_sale(till.uow, till.cashier, txn_id="r-2", bill_no="R-2", amount_fen=10_00,
                      member_id=recent.id)
    window = open_till(till.manager)
    qtbot.keyClick(window, Qt.Key.Key_F11,
                   Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialog, RecallDialog))
    dialog = window.dialog
    assert isinstance(dialog, RecallDialog)
    qtbot.waitUntil(lambda: dialog.entries is not None)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 0).text() == away.member_no
    assert dialog.table.item(0, 3).text() == "100" and dialog.table.item(0, 4).text() == "¥88.00"
    assert dialog.coupon.currentData() == "WINBACK-20"  # the rules' win-back coupon first
    dialog.table.selectAll()  # the manager picks the members, then F4
    qtbot.keyClick(dialog, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    assert "¥20.00" in dialog.confirming.figures.text()  # one member, ¥20 off
    customer = QCoreApplication.translate("ConfirmDialog", "Check the figures with the customer.")
    assert customer in dialog.confirming.hint.text()  # a coupon: the money actions' line
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: bool(dialog.campaigns))
    assert dialog.campaigns is not None and dialog.campaigns[0].contacted == 1
    assert "1" in dialog.status_line.full_text  # sent 1 coupon
    show_active(qtbot, dialog)  # the confirmation has closed (offscreen: activate by hand)
    dialog.coupon.setCurrentIndex(dialog.coupon.findData("recall.miss_you"))  # a plain message
    qtbot.keyClick(dialog, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: dialog.confirming is not None)
    assert "好久不见" in dialog.confirming.figures.text()  # the text the member will get
    hint = dialog.confirming.hint.text()  # no customer at the counter: who gets it, and the keys
    assert customer not in hint and "Ctrl+Enter" in hint and QCoreApplication.translate(
        "RecallDialog", "Only members who agreed to marketing get it,\n"
        "at most the day's marketing messages each.") in hint
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: "1" in dialog.status_line.full_text and dialog.pending is None)
    assert any(e["type"] == "member.recall_messaged" for e in pending_events(
        till.uow, device_id=till.manager.device_id, limit=1_000))
    show_active(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_F5)
    assert dialog.tabs.currentIndex() == 1 and dialog.results.item(0, 2).text() == "1"
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.exported is not None)
    assert len(load_workbook(dialog.exported).worksheets) == 2  # the list, the campaigns
