"""The recruitment dashboard (F11): the manager's view, the guide's own progress, live updates,
the .xlsx export, and the targets-and-roster screen refusing bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from pos_member.changes import Area, Changes
from pos_member.permissions import Clerk
from pos_member.services.kpi import GuideDay, SalesFigures
from pos_member.services.member_cards import Channel
from pos_member.services.targets import set_month_target, set_rosters
from tests.factories import Till
from tests.ui.conftest import settle
from ui.kpi_dashboard_dialog import DashboardDialog
from ui.kpi_plan_dialog import PlanDialog
from ui.kpi_texts import guide_status, percent_text, yuan_text
from ui.my_progress import MyProgressDialog
from ui.till import TillWindow
from ui.till_kpi import report_path

DAY = date(2026, 11, 25)


@pytest.fixture
def planned(till: Till) -> Till:
    """Wednesday 16:00 local; target 138 for November (4 today), the factory's guide on shift."""
    till.clock.set(datetime.combine(DAY, time(16, 0), tzinfo=till.clock.zone))
    set_month_target(till.uow, clerk=till.manager, month="2026-11", target=138)
    set_rosters(till.uow, clerk=till.manager, rosters={DAY: [till.guide.staff_id]})
    return till


def open_dashboard(qtbot: QtBot, window: TillWindow) -> DashboardDialog:
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: isinstance(window.dialog, DashboardDialog))
    dialog = window.dialog
    assert isinstance(dialog, DashboardDialog)
    qtbot.waitUntil(lambda: dialog.board is not None)
    settle(qtbot, window)
    return dialog


def cell(dialog: DashboardDialog, row: int, col: int) -> str:
    return dialog.table.item(row, col).text()


def test_f11_shows_the_manager_each_guide_against_target(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    planned.register(channel=Channel.GUIDE, guide_id=planned.guide.staff_id)
    dialog = open_dashboard(qtbot, open_till(planned.manager))
    assert dialog.table.rowCount() == 1
    assert planned.guide.name in cell(dialog, 0, 0)
    assert cell(dialog, 0, 2) == "1 / 4"
    assert dialog.trends[7][-1].registrations == 1 and len(dialog.trends[30]) == 30


def test_the_dashboard_moves_when_the_till_registers_a_member(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    window = open_till(planned.manager)
    dialog = open_dashboard(qtbot, window)
    assert cell(dialog, 0, 2) == "0 / 4"
    card = planned.register(channel=Channel.GUIDE, guide_id=planned.guide.staff_id)
    # what the register dialog's signal does
    window.notify_changed(Changes.of(Area.MEMBERS, members=(card.id,)))
    qtbot.waitUntil(lambda: cell(dialog, 0, 2) == "1 / 4")


def test_ctrl_e_exports_the_day_report(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                                       planned: Till) -> None:
    for _ in range(2):
        planned.register(channel=Channel.GUIDE, guide_id=planned.guide.staff_id)
    window = open_till(planned.manager)
    dialog = open_dashboard(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(dialog, "exported", None) is not None)
    wb = load_workbook(dialog.exported)
    assert len(wb.worksheets) == 2
    guides = list(wb.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3], r[4]) for r in guides] == [(planned.guide.name, 4, 2)]


def test_a_dashboard_left_open_past_midnight_exports_the_day_it_shows(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    """The manager sees the 25th at 00:10 on the 26th (not refreshed yet): Ctrl+E saves the
    25th's report, the figures on the screen, not an empty new day (docs/rules.md,
    "Recruitment KPIs")."""
    for _ in range(2):
        planned.register(channel=Channel.GUIDE, guide_id=planned.guide.staff_id)
    window = open_till(planned.manager)
    dialog = open_dashboard(qtbot, window)
    dialog.timer.stop()  # no refresh comes between: the screen still shows the 25th
    planned.clock.set(datetime.combine(date(2026, 11, 26), time(0, 10),
                                       tzinfo=planned.clock.zone))
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(dialog, "exported", None) is not None)
    assert dialog.exported == report_path(window, DAY)
    guides = list(load_workbook(dialog.exported).worksheets[1].iter_rows(min_row=2,
                                                                          values_only=True))
    assert [(r[1], r[3], r[4]) for r in guides] == [(planned.guide.name, 4, 2)]


def test_an_export_over_a_report_held_open_says_where_it_went(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    window = open_till(planned.manager)
    held = report_path(window, planned.uow.clock.today())
    held.mkdir(parents=True)  # a name no file can replace, as Excel's lock on Windows
    (held / "x").write_text("open", encoding="utf-8")
    dialog = open_dashboard(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(dialog, "exported", None) is not None)
    assert dialog.exported == held.with_name(f"{held.stem} (2).xlsx")
    assert held.name in dialog.status_line.text() and "(2)" in dialog.status_line.text()


def test_a_guide_sees_their_own_target_and_progress(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    planned.register(channel=Channel.GUIDE, guide_id=planned.guide.staff_id)
    window = open_till(planned.guide)
    qtbot.waitUntil(lambda: "1 / 4" in window.findChild(QLabel, "myProgress").text())
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: isinstance(window.dialog, MyProgressDialog))
    settle(qtbot, window)
    assert "4" in window.dialog.figure.text() and "1" in window.dialog.figure.text()


def test_a_cashier_has_no_dashboard(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow],
                                    planned: Till) -> None:
    window = open_till(planned.cashier)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.dialog is None and window.banner.isVisible()


def open_plan(qtbot: QtBot, window: TillWindow) -> PlanDialog:
    dialog = open_dashboard(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(dialog, "plan_dialog", None) is not None)
    plan = dialog.plan_dialog
    qtbot.waitUntil(lambda: plan.plan is not None)
    return plan


@pytest.mark.parametrize("typed", ["-5", "12.5", "abc"])
def test_a_bad_month_target_is_refused_and_changes_nothing(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till, typed: str) -> None:
    window = open_till(planned.manager)
    plan = open_plan(qtbot, window)
    before = planned.table_counts()
    plan.target.setText(typed)
    plan.on_save_target()
    qtbot.waitUntil(plan.message.isVisible)
    assert planned.table_counts() == before


def test_a_roster_with_nobody_on_a_day_with_a_target_is_refused(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    window = open_till(planned.manager)
    plan = open_plan(qtbot, window)
    before = planned.table_counts()
    col = DAY.day - 1
    for row in range(plan.grid.rowCount()):
        plan.grid.item(row, col).setCheckState(Qt.CheckState.Unchecked)
    plan.on_save_roster()
    qtbot.waitUntil(plan.message.isVisible)
    assert "2026-11-25" in plan.message.text()
    assert planned.table_counts() == before


def test_the_manager_saves_a_month_target_from_the_keyboard(
        qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], planned: Till) -> None:
    window = open_till(planned.manager)
    plan = open_plan(qtbot, window)
    plan.target.setFocus()
    plan.target.selectAll()
    qtbot.keyClicks(plan.target, "276")
    qtbot.keyClick(plan.target, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: plan.plan is not None and plan.plan.target == 276)
    assert plan.grid.horizontalHeaderItem(DAY.day - 1).text().endswith("\n8")


def test_status_texts_say_met_behind_or_on_pace() -> None:
    def g(regs: int, due: int, *, on: bool = True) -> GuideDay:
        return GuideDay("id", "2001", "王芳", on, 4, regs, due, SalesFigures())

    assert guide_status(g(4, 2)).kind == "met"
    assert guide_status(g(1, 2)).kind == "behind"
    assert guide_status(g(2, 2)).kind == "on_pace"
    assert guide_status(g(0, 0, on=False)).kind == "off"
    assert (percent_text(785), percent_text(None), yuan_text(314700)) == ("78.5%", "—",
                                                                          "¥3,147.00")
