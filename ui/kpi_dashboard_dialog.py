"""The store manager's recruitment dashboard (F11): today's registrations per guide against
their split target (progress bars, 达标 marks, pace alerts), 会销比 and member sales share, the 7-
and 30-day trends, and the day's report (.xlsx, Ctrl+E).

Figures are computed off the GUI thread (:class:`ui.operations.Operations`); the dialog reloads
when a change touches members, sales or targets (made at this till, or pulled from the store's
other tills) and every minute (the pace moves with the clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

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
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.changes import Area, Changes
from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.services.kpi import Dashboard, TrendDay
from pos_member.services.kpi_report import SavedReport
from ui.dialog_parts import StatusLine, key_buttons
from ui.i18n import error_text, translate
from ui.kpi_chart import BLUE, GREEN, LIGHT_GREEN, ORANGE, Series, TrendChart
from ui.kpi_texts import (
    REFRESH_MS,
    STYLE,
    alert_text,
    guide_status,
    percent_text,
    set_state,
    weekday_text,
    yuan_text,
)
from ui.operations import Operations
from ui.screen_fit import ScrollBody, open_at

# What the recruitment figures are made of: a change to any of these reloads them.
KPI_AREAS = (Area.MEMBERS, Area.SALES, Area.TARGETS)


class Tile(QFrame):
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
        set_state(self.value, "state", state)
        set_state(self.note, "state", note_state)
        if progress is not None:
            done, target = progress
            self.bar.setRange(0, max(target, 1))
            self.bar.setValue(min(done, max(target, 1)))
            self.bar.show()


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
    ``export(day)`` writes that day's .xlsx and returns its path: the day on the screen, even
    when the store's day has changed since (left open past midnight: docs/rules.md,
    "Recruitment KPIs"), today's before anything is shown; ``plan`` opens the target and roster
    screen (None: not allowed)."""

    def __init__(
        self,
        *,
        ops: Operations,
        load: Callable[[], tuple[Dashboard, dict[int, tuple[TrendDay, ...]]]],
        export: Callable[[date | None], SavedReport],
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

        self.title = QLabel()
        self.title.setObjectName("kpiTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("kpiSubtitle")
        self.tiles = [Tile() for _ in range(4)]
        tiles = QHBoxLayout()
        for t in self.tiles:
            tiles.addWidget(t, 1)
        self.alert = QLabel()
        self.alert.setObjectName("kpiAlert")
        self.alert.setWordWrap(True)

        self.table = self._guide_table()

        self.chart7 = TrendChart()
        self.chart30 = TrendChart()
        self.chart_ratio = TrendChart()
        charts = QGridLayout()
        for i, c in enumerate((self.chart7, self.chart30, self.chart_ratio)):
            charts.addWidget(c, 0, i)
            charts.setColumnStretch(i, 1)

        bar = self._button_bar(plan is not None)

        # The figures scroll when the screen is too small for them; the buttons stay in view.
        body = ScrollBody()
        body.setObjectName("kpiBody")
        content = QVBoxLayout(body)
        content.setContentsMargins(18, 14, 18, 0)
        content.setSpacing(10)
        content.addWidget(self.title)
        content.addWidget(self.subtitle)
        content.addLayout(tiles)
        content.addWidget(self.alert)
        content.addWidget(self.table, 2)
        content.addLayout(charts, 3)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("kpiScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 12)
        layout.setSpacing(10)
        layout.addWidget(self.scroll, 1)
        bar.setContentsMargins(18, 0, 18, 0)
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
        open_at(self, 1180, 820)  # 1008×720 on a 1024×768 screen (ui/screen_fit.py)
        self.refresh()

    def _button_bar(self, may_plan: bool) -> QHBoxLayout:
        """F5 refresh, Ctrl+E export, Ctrl+T targets (when allowed), Esc close; the status line
        on the right."""
        self.status_line = StatusLine("kpiStatusLine")  # a saved report's path: long
        self.buttons = key_buttons("kpi", (
            ("refresh", translate("Dashboard", "F5 Refresh"), self.refresh),
            ("export", translate("Dashboard", "Ctrl+E Export day report (.xlsx)"), self.export),
            ("plan", translate("Dashboard", "Ctrl+T Targets and roster"), self.open_plan),
            ("close", translate("Dashboard", "Esc Close"), self.reject),
        ))
        bar = QHBoxLayout()
        for b in self.buttons.values():
            bar.addWidget(b)
        self.buttons["plan"].setVisible(may_plan)
        bar.addWidget(self.status_line, 1)
        return bar

    @staticmethod
    def _guide_table() -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setObjectName("kpiTable")
        table.setHorizontalHeaderLabels([translate("Dashboard", c) for c in COLUMNS])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        head = table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setMinimumSectionSize(90)
        table.verticalHeader().setDefaultSectionSize(34)
        table.setMinimumHeight(36 + 3 * 34)  # the header and three guides, on any screen
        return table

    def refresh_from(self, changes: Changes) -> None:
        """Reloads when a change (made here or pulled from another till) touches the figures."""
        if changes.touches(*KPI_AREAS):
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
        set_state(self.alert, "kind", kind)
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
            set_state(bar, "state", status.kind)
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
        day = self.board.day if self.board is not None else None  # what the manager sees
        self.ops.run(lambda: self._export(day), self._exported, self._failed)

    def _exported(self, saved: SavedReport) -> None:
        self.exported = saved.path
        if saved.instead_of is None:
            text = translate("Dashboard", "Day report saved: %1").replace("%1", str(saved.path))
        else:  # the previous one is open in Excel
            text = (translate("Dashboard", "%1 is open in another program; the day report was "
                                           "saved as %2")
                    .replace("%1", saved.instead_of.name).replace("%2", str(saved.path)))
        self.status_line.setText(text)

    def open_plan(self) -> None:
        if self._plan is not None:
            self._plan()
