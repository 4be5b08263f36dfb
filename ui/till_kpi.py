"""The till's recruitment features: F11 opens the dashboard (manager) or the guide's own
progress, and a guide's status bar shows today's target and progress."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel

from pos_member.changes import Area, Changes
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, Role
from pos_member.services import kpi
from pos_member.services.kpi import Dashboard, TrendDay
from pos_member.services.kpi_report import SavedReport, export_day_report
from ui.host import TillAction, TillHost, permitted
from ui.i18n import translate
from ui.kpi_dashboard_dialog import KPI_AREAS, DashboardDialog
from ui.kpi_texts import REFRESH_MS, progress_line
from ui.my_progress import MyProgressDialog


def report_path(host: TillHost, day: date) -> Path:
    return host.app.db.path.parent / "reports" / f"recruitment-{day.isoformat()}.xlsx"


def open_dashboard(host: TillHost) -> None:
    """F11: the dashboard for a manager, own progress for a guide, a refusal otherwise."""
    clerk, uow, hours = host.clerk, host.uow, host.app.opening_hours
    if clerk.may(Action.VIEW_KPI):
        store_name = host.identity.store_name

        def load() -> tuple[Dashboard, dict[int, tuple[TrendDay, ...]]]:
            return (kpi.dashboard(uow, clerk=clerk, hours=hours), kpi.trends(uow, clerk=clerk))

        def export(shown: date | None) -> SavedReport:
            day = shown or uow.clock.today()  # the day on the screen (docs/rules.md)
            return export_day_report(
                uow,
                clerk=clerk,
                path=report_path(host, day),
                store_name=store_name,
                day=day,
                hours=hours,
                tr=lambda s: translate("kpi_report", s),
            )

        plan = (lambda: open_plan(host, dialog)) if clerk.may(Action.MANAGE_KPI) else None
        dialog = DashboardDialog(ops=host.ops, load=load, export=export, plan=plan,
                                 parent=host.window())
        host.on_changed(dialog.refresh_from)  # a bound slot: gone with the dialog
        host.open_dialog(dialog)
        return
    if clerk.role is Role.GUIDE:
        host.open_dialog(
            MyProgressDialog(
                ops=host.ops,
                load=lambda: kpi.my_progress(uow, clerk=clerk, hours=hours),
                parent=host.window(),
            )
        )
        return
    permitted(host, Action.VIEW_KPI)


def open_plan(host: TillHost, dashboard: DashboardDialog) -> None:
    from ui.kpi_plan_dialog import PlanDialog

    dialog = PlanDialog(ops=host.ops, uow=host.uow, clerk=host.clerk, parent=dashboard)
    # New targets or roster: the dashboard (and every other screen of the figures) reloads.
    dialog.changed.connect(lambda: host.notify_changed(Changes.of(Area.TARGETS)))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dashboard.plan_dialog = dialog
    dialog.open()


def attach_progress(host: TillHost) -> QLabel | None:
    """For a guide: a status-bar line with today's target and progress, kept up to date."""
    clerk: Clerk = host.clerk
    if clerk.role is not Role.GUIDE:
        return None
    label = QLabel()
    label.setObjectName("myProgress")
    host.add_status_widget(label)
    uow, hours = host.uow, host.app.opening_hours

    def reload() -> None:
        host.ops.run(
            lambda: kpi.my_progress(uow, clerk=clerk, hours=hours),
            lambda g: label.setText(progress_line(g)),
            lambda _e: None,
        )

    host.on_changed(lambda changes: reload() if changes.touches(*KPI_AREAS) else None)
    timer = QTimer(label)
    timer.setInterval(REFRESH_MS)
    timer.timeout.connect(reload)
    timer.start()
    reload()
    return label


def register(host: TillHost) -> None:
    """F11 for a manager (the dashboard) or a guide (own progress; and the status-bar line)."""
    manager = host.clerk.may(Action.VIEW_KPI)
    label = (QT_TRANSLATE_NOOP("TillWindow", "F11 Dashboard") if manager
             else QT_TRANSLATE_NOOP("TillWindow", "F11 My progress"))
    host.add_action(TillAction("dashboard", label, lambda: open_dashboard(host), ("F11",),
                               visible=manager or host.clerk.role is Role.GUIDE))
    attach_progress(host)
