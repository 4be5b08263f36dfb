"""The till's recruitment features: F11 opens the dashboard (manager) or the guide's own
progress, and a guide's status bar shows today's target and progress."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel

from pos_member.errors import DomainError
from pos_member.permissions import Action, Clerk, Role
from pos_member.services import kpi
from pos_member.services.kpi import Dashboard, TrendDay
from pos_member.services.kpi_report import export_day_report
from ui.i18n import translate
from ui.kpi_dashboard_dialog import DashboardDialog
from ui.kpi_texts import REFRESH_MS, progress_line
from ui.my_progress import MyProgressDialog

if TYPE_CHECKING:
    from ui.till import TillWindow


def report_path(window: TillWindow, day: date) -> Path:
    return window.app.db.path.parent / "reports" / f"recruitment-{day.isoformat()}.xlsx"


def open_dashboard(window: TillWindow) -> None:
    """F11: the dashboard for a manager, own progress for a guide, a refusal otherwise."""
    clerk, uow, hours = window.clerk, window.uow, window.app.opening_hours
    if clerk.may(Action.VIEW_KPI):
        store_name = window.identity.store_name

        def load() -> tuple[Dashboard, dict[int, tuple[TrendDay, ...]]]:
            return (kpi.dashboard(uow, clerk=clerk, hours=hours), kpi.trends(uow, clerk=clerk))

        def export() -> Path:
            day = uow.clock.now().astimezone().date()
            path = report_path(window, day)
            export_day_report(
                uow,
                clerk=clerk,
                path=path,
                store_name=store_name,
                day=day,
                hours=hours,
                tr=lambda s: translate("kpi_report", s),
            )
            return path

        plan = (lambda: open_plan(window, dialog)) if clerk.may(Action.MANAGE_KPI) else None
        dialog = DashboardDialog(ops=window.ops, load=load, export=export, plan=plan, parent=window)
        window.kpi_changed.connect(dialog.refresh)
        window._open_dialog(dialog)
        return
    if clerk.role is Role.GUIDE:
        window._open_dialog(
            MyProgressDialog(
                ops=window.ops,
                load=lambda: kpi.my_progress(uow, clerk=clerk, hours=hours),
                parent=window,
            )
        )
        return
    from pos_member.permissions import require

    try:
        require(clerk, Action.VIEW_KPI)
    except DomainError as e:
        window.show_error(e)


def open_plan(window: TillWindow, dashboard: DashboardDialog) -> None:
    from ui.kpi_plan_dialog import PlanDialog

    dialog = PlanDialog(ops=window.ops, uow=window.uow, clerk=window.clerk, parent=dashboard)
    dialog.changed.connect(dashboard.refresh)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dashboard.plan_dialog = dialog
    dialog.open()


def attach_progress(window: TillWindow) -> QLabel | None:
    """For a guide: a status-bar line with today's target and progress, kept up to date."""
    clerk: Clerk = window.clerk
    if clerk.role is not Role.GUIDE:
        return None
    label = QLabel()
    label.setObjectName("myProgress")
    window.statusBar().addWidget(label)
    uow, hours = window.uow, window.app.opening_hours

    def reload() -> None:
        window.ops.run(
            lambda: kpi.my_progress(uow, clerk=clerk, hours=hours),
            lambda g: label.setText(progress_line(g)),
            lambda _e: None,
        )

    window.kpi_changed.connect(reload)
    timer = QTimer(label)
    timer.setInterval(REFRESH_MS)
    timer.timeout.connect(reload)
    timer.start()
    reload()
    return label
