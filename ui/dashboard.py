"""The store manager's recruitment dashboard (F11) and a guide's own progress.

The manager sees today's registrations per guide against their split target (progress bars,
达标 marks, pace alerts), 会销比 and member sales share, the 7- and 30-day trends, and exports
the day's report (.xlsx, Ctrl+E). A guide pressing F11 sees their own target and progress, and
the till's status bar shows it all day.

Figures are computed off the GUI thread (:class:`ui.operations.Operations`); the dialog reloads
when the till registers a member or records a sale (``TillWindow.kpi_changed``) and every
minute (the pace moves with the clock, and sales arrive from the store's other tills).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, Role
from pos_member.services import kpi
from pos_member.services.kpi import Dashboard, GuideDay, TrendDay
from pos_member.services.kpi_report import export_day_report
from ui.i18n import error_text, translate
from ui.kpi_chart import BLUE, GREEN, LIGHT_GREEN, ORANGE, Series, TrendChart
from ui.operations import Operations

if TYPE_CHECKING:
    from ui.till import TillWindow

REFRESH_MS = 60_000
STYLE = """
#kpiTitle { font-size: 16pt; font-weight: 600; }
#kpiSubtitle { font-size: 11pt; color: #52606d; }
#kpiTile { background: white; border: 1px solid #d9e2ec; border-radius: 10px; }
#kpiTileLabel { font-size: 11pt; color: #52606d; }
#kpiTileValue { font-size: 24pt; font-weight: 700; }
#kpiTileValue[state="bad"] { color: #c81e1e; }
#kpiTileValue[state="good"] { color: #0b6e4f; }
#kpiTileNote { font-size: 10pt; color: #7b8794; }
#kpiTileNote[state="bad"] { color: #c81e1e; font-weight: 600; }
#kpiAlert { font-size: 12pt; padding: 8px 12px; border-radius: 8px; }
#kpiAlert[kind="bad"] { background: #fde8e8; color: #9b1c1c; border: 1px solid #f5b5b5; }
#kpiAlert[kind="good"] { background: #e3f9ef; color: #03543f; border: 1px solid #a6e9c7; }
#kpiAlert[kind="info"] { background: #eef2f5; color: #52606d; border: 1px solid #d9e2ec; }
#kpiTable { font-size: 12pt; background: white; }
#kpiStatusLine { color: #52606d; }
QProgressBar { border: 1px solid #d9e2ec; border-radius: 5px; background: #f0f2f4;
               text-align: center; min-height: 18px; font-size: 10pt; }
QProgressBar::chunk { background: #8fd3b6; border-radius: 4px; }
QProgressBar[state="met"]::chunk { background: #0b6e4f; }
QProgressBar[state="behind"]::chunk { background: #f05252; }
#myTarget { font-size: 30pt; font-weight: 700; }
"""


def percent_text(permille: int | None) -> str:
    """Tenths of a percent as ``78.5%`` (``—`` when there is nothing to divide)."""
    if permille is None:
        return "—"
    return f"{permille // 10}.{permille % 10}%"


def yuan_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


WEEKDAYS = (
    QT_TRANSLATE_NOOP("Dashboard", "Mon"),
    QT_TRANSLATE_NOOP("Dashboard", "Tue"),
    QT_TRANSLATE_NOOP("Dashboard", "Wed"),
    QT_TRANSLATE_NOOP("Dashboard", "Thu"),
    QT_TRANSLATE_NOOP("Dashboard", "Fri"),
    QT_TRANSLATE_NOOP("Dashboard", "Sat"),
    QT_TRANSLATE_NOOP("Dashboard", "Sun"),
)


def weekday_text(day: date) -> str:
    return translate("Dashboard", WEEKDAYS[day.weekday()])


@dataclass(frozen=True, slots=True)
class Status:
    text: str
    kind: str  # "met", "behind", "on_pace", "off"


def guide_status(g: GuideDay) -> Status:
    """What the status column says about a guide: 达标, behind (with what is due), on pace."""
    if not g.on_shift:
        return Status(translate("Dashboard", "Not on shift"), "off")
    if g.met:
        return Status(translate("Dashboard", "✔ Met"), "met")
    if g.behind:
        return Status(
            translate("Dashboard", "⚠ Behind: %1 due by now").replace("%1", str(g.expected_now)),
            "behind",
        )
    return Status(translate("Dashboard", "On pace"), "on_pace")


def alert_text(board: Dashboard) -> tuple[str, str]:
    """The one line under the tiles: who is behind, or that everyone is on pace."""
    behind = board.behind
    if behind:
        names = translate("Dashboard", "、").join(
            translate("Dashboard", "%1 %2/%3")
            .replace("%1", g.name)
            .replace("%2", str(g.registrations))
            .replace("%3", str(g.target))
            for g in behind
        )
        return translate("Dashboard", "Behind the pace of this hour: %1").replace(
            "%1", names
        ), "bad"
    if not board.plan.day_target:
        return translate(
            "Dashboard", "No recruitment target for today: set the month's target (Ctrl+T)."
        ), "info"
    if board.on_shift_count and board.met_count == board.on_shift_count:
        return translate("Dashboard", "Every guide on shift has met today's target."), "good"
    return translate("Dashboard", "Every guide on shift is on pace."), "good"


# -- the manager's dashboard ---------------------------------------------------------------------


class _Tile(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("kpiTile")
        self.label = QLabel()
        self.label.setObjectName("kpiTileLabel")
        self.value = QLabel("—")
        self.value.setObjectName("kpiTileValue")
        self.note = QLabel()
        self.note.setObjectName("kpiTileNote")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.bar.hide()
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 10, 14, 10)
        box.setSpacing(2)
        box.addWidget(self.label)
        box.addWidget(self.value)
        box.addWidget(self.bar)
        box.addWidget(self.note)

    def show_value(
        self,
        label: str,
        value: str,
        note: str,
        *,
        state: str = "",
        note_state: str = "",
        progress: tuple[int, int] | None = None,
    ) -> None:
        self.label.setText(label)
        self.value.setText(value)
        self.note.setText(note)
        _set_state(self.value, "state", state)
        _set_state(self.note, "state", note_state)
        if progress is not None:
            done, target = progress
            self.bar.setRange(0, max(target, 1))
            self.bar.setValue(min(done, max(target, 1)))
            self.bar.show()


def _set_state(widget: QWidget, name: str, value: str) -> None:
    if widget.property(name) != value:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


COLUMNS = (
    QT_TRANSLATE_NOOP("Dashboard", "Guide"),
    QT_TRANSLATE_NOOP("Dashboard", "Progress"),
    QT_TRANSLATE_NOOP("Dashboard", "New / target"),
    QT_TRANSLATE_NOOP("Dashboard", "Due by now"),
    QT_TRANSLATE_NOOP("Dashboard", "Status"),
    QT_TRANSLATE_NOOP("Dashboard", "会销比"),
    QT_TRANSLATE_NOOP("Dashboard", "Member sales share"),
)


class DashboardDialog(QDialog):
    """``load`` returns ``(Dashboard, {7: trend, 30: trend})`` and runs on the thread pool;
    ``export`` writes today's .xlsx and returns its path; ``plan`` opens the target and roster
    screen (None: not allowed)."""

    def __init__(
        self,
        *,
        ops: Operations,
        load: Callable[[], tuple[Dashboard, dict[int, tuple[TrendDay, ...]]]],
        export: Callable[[], Path],
        plan: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops, self._load, self._export, self._plan = ops, load, export, plan
        self.board: Dashboard | None = None
        self.trends: dict[int, tuple[TrendDay, ...]] = {}
        self._loading = self._again = False
        self.setObjectName("dashboardDialog")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(translate("Dashboard", "Recruitment dashboard (F11)"))
        self.resize(1180, 820)

        self.title = QLabel()
        self.title.setObjectName("kpiTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("kpiSubtitle")
        self.tiles = [_Tile() for _ in range(4)]
        tiles = QHBoxLayout()
        for t in self.tiles:
            tiles.addWidget(t, 1)
        self.alert = QLabel()
        self.alert.setObjectName("kpiAlert")
        self.alert.setWordWrap(True)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("kpiTable")
        self.table.setHorizontalHeaderLabels([translate("Dashboard", c) for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(90)
        self.table.verticalHeader().setDefaultSectionSize(34)

        self.chart7 = TrendChart()
        self.chart30 = TrendChart()
        self.chart_ratio = TrendChart()
        charts = QGridLayout()
        for i, c in enumerate((self.chart7, self.chart30, self.chart_ratio)):
            charts.addWidget(c, 0, i)
            charts.setColumnStretch(i, 1)

        self.status_line = QLabel()
        self.status_line.setObjectName("kpiStatusLine")
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for key, text, slot in (
            ("refresh", translate("Dashboard", "F5 Refresh"), self.refresh),
            ("export", translate("Dashboard", "Ctrl+E Export day report (.xlsx)"), self.export),
            ("plan", translate("Dashboard", "Ctrl+T Targets and roster"), self.open_plan),
            ("close", translate("Dashboard", "Esc Close"), self.reject),
        ):
            b = QPushButton(text)
            b.setObjectName(f"kpi_{key}")
            b.setAutoDefault(False)
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[key] = b
        self.buttons["plan"].setVisible(plan is not None)
        bar.addStretch(1)
        bar.addWidget(self.status_line)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(tiles)
        layout.addWidget(self.alert)
        layout.addWidget(self.table, 2)
        layout.addLayout(charts, 3)
        layout.addLayout(bar)
        for keys, slot in (
            ("F5", self.refresh),
            ("Ctrl+E", self.export),
            ("Ctrl+T", self.open_plan),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # -- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reloads off the GUI thread; a refresh asked for while one runs runs once after it."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self.status_line.setText(translate("Dashboard", "Updating…"))
        self.ops.run(self._load, self._loaded, self._failed)

    def _loaded(self, result: tuple[Dashboard, dict[int, tuple[TrendDay, ...]]]) -> None:
        self._loading = False
        self.board, self.trends = result
        self.show_board(self.board, self.trends)
        self.status_line.setText(
            translate("Dashboard", "Updated %1").replace("%1", self.board.now.strftime("%H:%M:%S"))
        )
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, error: Exception) -> None:
        self._loading = self._again = False
        self.status_line.setText(
            error_text(error)
            if isinstance(error, DomainError)
            else translate("Dashboard", "Could not update (%1).").replace(
                "%1", type(error).__name__
            )
        )

    # -- showing ----------------------------------------------------------------------------
    def show_board(self, b: Dashboard, trends: dict[int, tuple[TrendDay, ...]]) -> None:
        self.title.setText(
            translate("Dashboard", "Today's recruitment · %1 %2")
            .replace("%1", b.day.isoformat())
            .replace("%2", weekday_text(b.day))
        )
        gone = b.elapsed_minutes * 100 // max(b.hours.total_minutes, 1)
        roster = (
            ""
            if b.plan.roster_entered
            else translate("Dashboard", " · no roster entered: every guide counts")
        )
        self.subtitle.setText(
            translate("Dashboard", "Now %1 · open %2 (%3% of the day gone)")
            .replace("%1", b.now.strftime("%H:%M"))
            .replace("%2", b.hours.text())
            .replace("%3", str(gone))
            + roster
        )
        day_target = b.plan.day_target
        self.tiles[0].show_value(
            translate("Dashboard", "New members today"),
            f"{b.registrations} / {day_target}",
            translate("Dashboard", "Due by now %1 · month %2 / %3")
            .replace("%1", str(b.store_expected_now))
            .replace("%2", str(b.month_registrations))
            .replace("%3", str(b.month_target) if b.month_target is not None else "—"),
            state="good"
            if day_target and b.registrations >= day_target
            else ("bad" if b.registrations < b.store_expected_now else ""),
            progress=(b.registrations, day_target),
        )
        behind = len(b.behind)
        self.tiles[1].show_value(
            translate("Dashboard", "Guides who met their target (达标)"),
            f"{b.met_count} / {b.on_shift_count}",
            translate("Dashboard", "%1 behind the pace").replace("%1", str(behind))
            if behind
            else translate("Dashboard", "nobody behind"),
            state="good" if b.on_shift_count and b.met_count == b.on_shift_count else "",
            note_state="bad" if behind else "",
        )
        ratio = b.sales.ratio_permille
        self.tiles[2].show_value(
            translate("Dashboard", "会销比 (member-attached sales)"),
            percent_text(ratio),
            translate("Dashboard", "%1 of %2 sales · target %3")
            .replace("%1", str(b.sales.member_sales))
            .replace("%2", str(b.sales.sales))
            .replace("%3", percent_text(b.ratio_target_permille)),
            state="bad" if ratio is not None and ratio < b.ratio_target_permille else "good",
        )
        self.tiles[3].show_value(
            translate("Dashboard", "Member sales share"),
            percent_text(b.sales.share_permille),
            translate("Dashboard", "%1 of %2")
            .replace("%1", yuan_text(b.sales.member_amount_fen))
            .replace("%2", yuan_text(b.sales.amount_fen)),
        )
        text, kind = alert_text(b)
        self.alert.setText(text)
        _set_state(self.alert, "kind", kind)
        self._fill_table(b)
        self._fill_charts(b, trends)

    def _fill_table(self, b: Dashboard) -> None:
        self.table.setRowCount(len(b.guides))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, g in enumerate(b.guides):
            status = guide_status(g)
            name = QTableWidgetItem(f"{g.name}  ({g.code})")
            self.table.setItem(r, 0, name)
            bar = QProgressBar()
            bar.setRange(0, max(g.target, 1))
            bar.setValue(min(g.registrations, max(g.target, 1)))
            bar.setFormat(percent_text(g.progress_permille) if g.target else "")
            _set_state(bar, "state", status.kind)
            self.table.setCellWidget(r, 1, bar)
            cells = (
                f"{g.registrations} / {g.target}" if g.on_shift else str(g.registrations),
                str(g.expected_now) if g.on_shift else "—",
                status.text,
                percent_text(g.sales.ratio_permille),
                percent_text(g.sales.share_permille),
            )
            for c, text in enumerate(cells, start=2):
                item = QTableWidgetItem(text)
                if c != 4:
                    item.setTextAlignment(right)
                if status.kind == "behind" and c == 4:
                    item.setForeground(Qt.GlobalColor.red)
                elif status.kind == "met" and c == 4:
                    item.setForeground(Qt.GlobalColor.darkGreen)
                self.table.setItem(r, c, item)

    def _fill_charts(self, b: Dashboard, trends: dict[int, tuple[TrendDay, ...]]) -> None:
        legend = [
            (translate("Dashboard", "new members"), LIGHT_GREEN, False),
            (translate("Dashboard", "target"), ORANGE, True),
        ]
        for n, chart in ((7, self.chart7), (30, self.chart30)):
            days = trends.get(n, ())
            labels = [f"{d.day.month}/{d.day.day}" for d in days]
            chart.set_bars(
                translate("Dashboard", "New members, last %1 days").replace("%1", str(n)),
                labels,
                [d.registrations for d in days],
                [d.target for d in days],
                legend,
            )
        days = trends.get(30, ())
        self.chart_ratio.set_lines(
            translate("Dashboard", "会销比 and member sales share, 30 days"),
            [f"{d.day.month}/{d.day.day}" for d in days],
            [
                Series(
                    translate("Dashboard", "会销比"), [d.sales.ratio_permille for d in days], GREEN
                ),
                Series(
                    translate("Dashboard", "share"), [d.sales.share_permille for d in days], BLUE
                ),
            ],
            b.ratio_target_permille,
            [
                (translate("Dashboard", "会销比"), GREEN, False),
                (translate("Dashboard", "share"), BLUE, False),
                (translate("Dashboard", "target"), ORANGE, True),
            ],
        )

    # -- actions ----------------------------------------------------------------------------
    def export(self) -> None:
        self.status_line.setText(translate("Dashboard", "Exporting…"))
        self.ops.run(self._export, self._exported, self._failed)

    def _exported(self, path: Path) -> None:
        self.exported = path
        self.status_line.setText(
            translate("Dashboard", "Day report saved: %1").replace("%1", str(path))
        )

    def open_plan(self) -> None:
        if self._plan is not None:
            self._plan()


# -- a guide's own progress ------------------------------------------------------------------------


def progress_line(g: GuideDay | None) -> str:
    """The guide's status-bar line: today's target, progress and pace."""
    if g is None:
        return ""
    if not g.on_shift:
        return translate("Dashboard", "Recruited today: %1 (not on shift)").replace(
            "%1", str(g.registrations)
        )
    text = (
        translate("Dashboard", "My target today: %1 / %2")
        .replace("%1", str(g.registrations))
        .replace("%2", str(g.target))
    )
    return f"{text} · {guide_status(g).text}"


class MyProgressDialog(QDialog):
    """A guide's F11: own target, registrations, pace and 会销比 today."""

    def __init__(
        self, *, ops: Operations, load: Callable[[], GuideDay | None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ops, self._load = ops, load
        self.setObjectName("myProgressDialog")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(translate("Dashboard", "My progress today (F11)"))
        self.setMinimumWidth(460)
        self.heading = QLabel(translate("Dashboard", "New members I recruited today"))
        self.heading.setObjectName("kpiSubtitle")
        self.figure = QLabel("…")
        self.figure.setObjectName("myTarget")
        self.bar = QProgressBar()
        self.status = QLabel()
        self.status.setObjectName("kpiAlert")
        self.ratio = QLabel()
        close = QPushButton(translate("Dashboard", "Esc Close"))
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.heading, self.figure, self.bar, self.status, self.ratio, close):
            layout.addWidget(w)
        self.ops.run(self._load, self.show_progress)

    def show_progress(self, g: GuideDay | None) -> None:
        if g is None:
            self.figure.setText("—")
            return
        self.figure.setText(
            translate("Dashboard", "%1 of %2")
            .replace("%1", str(g.registrations))
            .replace("%2", str(g.target))
        )
        self.bar.setRange(0, max(g.target, 1))
        self.bar.setValue(min(g.registrations, max(g.target, 1)))
        status = guide_status(g)
        _set_state(self.bar, "state", status.kind)
        self.status.setText(status.text)
        _set_state(self.status, "kind", {"met": "good", "behind": "bad"}.get(status.kind, "info"))
        self.ratio.setText(
            translate("Dashboard", "My 会销比 today: %1 (%2 of %3 sales)")
            .replace("%1", percent_text(g.sales.ratio_permille))
            .replace("%2", str(g.sales.member_sales))
            .replace("%3", str(g.sales.sales))
        )


# -- wiring into the till window -------------------------------------------------------------------


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
