"""The till's member-insight features (issue 19): Shift+F11 opens the programme-health report
for the store manager (the recruitment dashboard's permission)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, require
from pos_member.services.insight import HealthReport, programme_health
from pos_member.services.insight_report import write_health_workbook
from pos_member.services.kpi_report import SavedReport
from ui.health_dialog import CONTEXT, HealthDialog
from ui.host import TillAction, TillHost
from ui.i18n import translate


def report_path(host: TillHost, report: HealthReport) -> Path:
    return (host.app.db.path.parent / "reports"
            / f"programme-health-{report.start.isoformat()}-{report.end.isoformat()}.xlsx")


def open_health(host: TillHost) -> None:
    """Shift+F11: the store's programme health, this month so far to start with."""
    clerk, uow = host.clerk, host.uow
    try:
        require(clerk, Action.VIEW_KPI)
    except DomainError as e:
        host.show_error(e)
        return
    store_id = host.identity.store_id
    stores = {store_id: host.identity.store_name}
    tiers = {level.code: level.name for level in uow.rules.tiers.levels}

    def load(start: date, end: date) -> HealthReport:
        return programme_health(uow, clerk=clerk, start=start, end=end, store_id=store_id)

    def export(report: HealthReport) -> SavedReport:
        return write_health_workbook(report, report_path(host, report), stores=stores,
                                     tiers=tiers, tr=lambda s: translate(CONTEXT, s))

    host.open_dialog(HealthDialog(ops=host.ops, load=load, export=export,
                                  today=uow.clock.today(), stores=stores, tiers=tiers,
                                  parent=host.window()))


def register(host: TillHost) -> None:
    """Shift+F11 for a manager; the key only (the back-office row has no room for a button)."""
    host.add_action(TillAction(
        "health", QT_TRANSLATE_NOOP("TillWindow", "Shift+F11 Programme health"),
        lambda: open_health(host), ("Shift+F11",), visible=host.clerk.may(Action.VIEW_KPI),
        button=False))
