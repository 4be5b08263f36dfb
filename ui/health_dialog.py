"""The store manager's programme-health screen (Shift+F11, issue 19): a period to choose, one
line per tier and the store's total (members, 活跃度, 复购率, ARPU, 客单价, member sales share,
points 兑换率, 储值负债, churn), the monthly cohorts' 7/30/90-day 留存率, and two charts (the
rates by tier, retention by month: ``ui.health_charts``); exported to .xlsx (Ctrl+E).

The report is computed off the GUI thread (:class:`ui.operations.Operations`): ``load(start,
end)`` runs on the pool and a refusal (a reversed period, one not begun) shows on the status
line, the figures on screen left as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.services.insight import RETENTION_DAYS, HealthReport
from pos_member.services.insight_report import (
    COHORT_COLUMNS,
    COLUMNS,
    names_of,
    row_values,
)
from pos_member.services.kpi_report import SavedReport
from ui.dialog_parts import StatusLine, key_buttons
from ui.health_charts import fill_charts
from ui.i18n import error_text, translate
from ui.kpi_chart import TrendChart
from ui.kpi_texts import STYLE
from ui.member_card import ElidedLabel
from ui.operations import Operations
from ui.screen_fit import open_at

CONTEXT = "insight_report"


def cell_text(value: object, fmt: str | None) -> str:
    """A figure as the workbook shows it: counts with separators, yuan, percentages."""
    if value is None:
        return "—"
    if fmt is None:
        return str(value)
    if "%" in fmt:
        return f"{Decimal(str(value)) * 100:.1f}%"
    if "¥" in fmt:
        return f"¥{Decimal(str(value)):,.2f}"
    return f"{int(str(value)):,}"


def _table(name: str, columns: tuple[tuple[str, str | None], ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([translate(CONTEXT, c) for c, _ in columns])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    head = table.horizontalHeader()
    head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.verticalHeader().setDefaultSectionSize(30)
    table.setMinimumHeight(32 + 3 * 30)
    return table


class HealthDialog(QDialog):
    """``load(start, end)`` returns the report (thread pool); ``export(report)`` writes it and
    returns where it went; ``stores`` and ``tiers`` name ids and tier codes."""

    def __init__(self, *, ops: Operations, load: Callable[[date, date], HealthReport],
                 export: Callable[[HealthReport], SavedReport], today: date,
                 stores: Mapping[str, str], tiers: Mapping[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._load, self._export = ops, load, export
        self.stores, self.tiers = stores, tiers
        self.report: HealthReport | None = None
        self.exported: Path | None = None
        self._asked = 0  # refreshes asked for: only the newest one's result is shown
        self.setObjectName("healthDialog")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(translate("HealthDialog", "Programme health (Shift+F11)"))
        self.title = QLabel(translate("HealthDialog", "Membership programme health"))
        self.title.setObjectName("kpiTitle")
        self.start = self._date_edit("healthStart", today.replace(day=1))
        self.end = self._date_edit("healthEnd", today)
        period = QHBoxLayout()
        period.addWidget(QLabel(translate("HealthDialog", "From")))
        period.addWidget(self.start)
        period.addWidget(QLabel(translate("HealthDialog", "to")))
        period.addWidget(self.end)
        period.addStretch(1)
        self.table = _table("healthTable", COLUMNS)
        self.cohorts = _table("cohortTable", COHORT_COLUMNS)
        cohort_title = ElidedLabel()  # one line beside the charts: the rest in its tooltip
        cohort_title.set_full_text(translate("HealthDialog", "留存率 of each month's new members "
                                                             "(bought again within 7/30/90 days)"))
        cohort_title.setObjectName("kpiSubtitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addLayout(period)
        layout.addWidget(self.table, 3)
        self.rates_chart, self.retention_chart = TrendChart(), TrendChart()
        for chart in (self.rates_chart, self.retention_chart):
            chart.setMinimumWidth(220)  # the smallest dialog keeps room for the cohorts
        self.rates_chart.setObjectName("healthRatesChart")
        self.retention_chart.setObjectName("healthRetentionChart")
        cohort_box = QVBoxLayout()
        cohort_box.addWidget(cohort_title)
        cohort_box.addWidget(self.cohorts, 1)
        lower = QHBoxLayout()  # the cohorts and the two charts side by side: 768 pixels high
        lower.addLayout(cohort_box, 5)
        lower.addWidget(self.rates_chart, 4)
        lower.addWidget(self.retention_chart, 4)
        layout.addLayout(lower, 2)
        layout.addLayout(self._button_bar())
        for keys, slot in (("F5", self.refresh), ("Ctrl+E", self.export)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        open_at(self, 1180, 760)
        self.refresh()

    def _date_edit(self, name: str, day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.dateChanged.connect(lambda _d: self.refresh())
        return edit

    def _button_bar(self) -> QHBoxLayout:
        self.status_line = StatusLine("kpiStatusLine")  # a saved report's path: long
        self.buttons = key_buttons("health", (
            ("refresh", translate("HealthDialog", "F5 Refresh"), self.refresh),
            ("export", translate("HealthDialog", "Ctrl+E Export (.xlsx)"), self.export),
            ("close", translate("HealthDialog", "Esc Close"), self.reject),
        ))
        bar = QHBoxLayout()
        for b in self.buttons.values():
            bar.addWidget(b)
        bar.addWidget(self.status_line, 1)
        return bar

    def period(self) -> tuple[date, date]:
        return self.start.date().toPython(), self.end.date().toPython()  # type: ignore[return-value]

    # -- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Computes the report for the chosen period off the GUI thread. Asked again while
        one runs (a date changed), only the newest request's result is shown."""
        self._asked += 1
        asked = self._asked
        self.status_line.setText(translate("HealthDialog", "Calculating…"))
        start, end = self.period()
        self.ops.run(lambda: self._load(start, end),
                     lambda report: self._loaded(asked, report),
                     lambda error: self._failed(asked, error))

    def _loaded(self, asked: int, report: HealthReport) -> None:
        if asked != self._asked:
            return  # the period changed while this one was computed: its own run follows
        self.report = report
        self._fill(report)
        self.status_line.setText(
            translate("HealthDialog", "%1 to %2").replace("%1", report.start.isoformat())
            .replace("%2", report.end.isoformat()))

    def _failed(self, asked: int, error: Exception) -> None:
        if asked != self._asked:
            return
        self.status_line.setText(
            error_text(error) if isinstance(error, DomainError)
            else translate("HealthDialog", "Could not calculate (%1).").replace(
                "%1", type(error).__name__))

    def _fill(self, report: HealthReport) -> None:
        tr = lambda s: translate(CONTEXT, s)  # noqa: E731
        self.table.setRowCount(len(report.rows))
        for r, row in enumerate(report.rows):
            values = (*names_of(row, self.stores, self.tiers, tr), *row_values(row))
            self._put(self.table, r, values, COLUMNS, bold=row.tier is None)
        lines = [(row, c) for row in report.rows for c in row.cohorts]
        self.cohorts.setRowCount(len(lines))
        for r, (row, c) in enumerate(lines):
            values = (*names_of(row, self.stores, self.tiers, tr), c.month, c.members,
                      *(c.rate(d) for d in RETENTION_DAYS))
            self._put(self.cohorts, r, values, COHORT_COLUMNS, bold=row.tier is None)
        fill_charts(report, self.rates_chart, self.retention_chart, stores=self.stores,
                    tiers=self.tiers)

    @staticmethod
    def _put(table: QTableWidget, r: int, values: tuple[object, ...],
             columns: tuple[tuple[str, str | None], ...], *, bold: bool) -> None:
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for c, (value, (_, fmt)) in enumerate(zip(values, columns, strict=True)):
            item = QTableWidgetItem(cell_text(value, fmt))
            if fmt:
                item.setTextAlignment(right)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            table.setItem(r, c, item)

    # -- actions ----------------------------------------------------------------------------
    def export(self) -> None:
        report = self.report
        if report is None:
            return
        self.status_line.setText(translate("HealthDialog", "Exporting…"))
        self.ops.run(lambda: self._export(report), self._exported,
                     lambda error: self._failed(self._asked, error))

    def _exported(self, saved: SavedReport) -> None:
        self.exported = saved.path
        if saved.instead_of is None:
            text = translate("HealthDialog", "Report saved: %1").replace("%1", str(saved.path))
        else:
            text = (translate("HealthDialog", "%1 is open in another program; the report was "
                                              "saved as %2")
                    .replace("%1", saved.instead_of.name).replace("%2", str(saved.path)))
        self.status_line.setText(text)
