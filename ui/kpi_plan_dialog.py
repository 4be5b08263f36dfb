"""Targets and roster (Ctrl+T in the dashboard, manager): the month's recruitment target, who
is on shift each day (a grid: guides × days, Space ticks a cell), and a day's split by hand.

Every save is one core call on the thread pool; a refusal is shown in the dialog's message line
and nothing changes. The grid's header shows each day's target, so a day with a target and
nobody ticked is visible before saving.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.db.uow import UnitOfWork
from pos_member.errors import DomainError
from pos_member.permissions import Clerk
from pos_member.services import targets
from pos_member.services.targets import DayPlan, MonthPlan
from ui.i18n import error_text, translate
from ui.kpi_texts import weekday_text
from ui.operations import Operations
from ui.screen_fit import open_at


def next_month(month: str, step: int) -> str:
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + mon - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class PlanDialog(QDialog):
    changed = Signal()  # something was saved

    def __init__(
        self,
        *,
        ops: Operations,
        uow: UnitOfWork,
        clerk: Clerk,
        month: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops, self.uow, self.clerk = ops, uow, clerk
        self.month = month or targets.month_of(uow.clock.today())
        self.plan: MonthPlan | None = None
        self.setObjectName("planDialog")
        self.setWindowTitle(translate("PlanDialog", "Recruitment targets and roster"))

        top, form = self._month_rows()

        self.grid = QTableWidget()
        self.grid.setObjectName("rosterGrid")
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.horizontalHeader().setDefaultSectionSize(44)
        self.grid.horizontalHeader().setMinimumSectionSize(40)
        self.grid.cellDoubleClicked.connect(lambda r, c: self.toggle(r, c))
        hint = QLabel(
            translate(
                "PlanDialog",
                "Roster: tick who is on shift (Space); the header shows each day's "
                "target. Rows of numbers are each guide's share.",
            )
        )
        hint.setObjectName("hintLabel")
        hint.setWordWrap(True)

        self.message = QLabel()
        self.message.setObjectName("errorLabel")
        self.message.setWordWrap(True)
        self.message.hide()
        self.save_roster = QPushButton(translate("PlanDialog", "Save &roster"))
        self.save_roster.clicked.connect(self.on_save_roster)
        self.adjust = QPushButton(translate("PlanDialog", "&Adjust the selected day's split…"))
        self.adjust.clicked.connect(self.on_adjust)
        close = QPushButton(translate("PlanDialog", "Esc Close"))
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        for b in (self.save_roster, self.adjust):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.message)
        layout.addLayout(bar)
        for b in self.findChildren(QPushButton):  # Enter in the target field saves the target,
            b.setAutoDefault(False)  # it must not also press a button
        for keys, slot in (
            ("PgUp", lambda: self.go(-1)),
            ("PgDown", lambda: self.go(1)),
            ("Space", self.toggle_current),
            ("Ctrl+S", self.on_save_roster),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        open_at(self, 1120, 560)  # the roster grid scrolls on a 1024×768 screen
        self.load()

    def _month_rows(self) -> tuple[QHBoxLayout, QFormLayout]:
        """The month with PgUp/PgDown, and the month's target with its save button."""
        self.month_label = QLabel()
        self.month_label.setObjectName("kpiTitle")
        prev_b = QPushButton(translate("PlanDialog", "PgUp Previous month"))
        next_b = QPushButton(translate("PlanDialog", "PgDown Next month"))
        prev_b.clicked.connect(lambda: self.go(-1))
        next_b.clicked.connect(lambda: self.go(1))
        top = QHBoxLayout()
        top.addWidget(self.month_label, 1)
        top.addWidget(prev_b)
        top.addWidget(next_b)

        self.target = QLineEdit()
        self.target.setObjectName("monthTarget")
        self.target.setPlaceholderText(translate("PlanDialog", "e.g. 300"))
        self.target.setMaximumWidth(160)
        self.save_target = QPushButton(translate("PlanDialog", "Save &target"))
        self.save_target.clicked.connect(self.on_save_target)
        self.target.returnPressed.connect(self.on_save_target)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.target)
        row.addWidget(self.save_target)
        row.addStretch(1)
        label = QLabel(translate("PlanDialog", "New-member target for the &month:"))
        label.setBuddy(self.target)
        form.addRow(label, row)
        return top, form

    # -- loading ----------------------------------------------------------------------------
    def go(self, step: int) -> None:
        self.month = next_month(self.month, step)
        self.load()

    def load(self) -> None:
        month, uow, clerk = self.month, self.uow, self.clerk
        self.ops.run(
            lambda: targets.month_plan(uow, clerk=clerk, month=month),
            self.show_plan,
            self.show_error,
        )

    def show_plan(self, plan: MonthPlan) -> None:
        self.plan = plan
        self.month_label.setText(translate("PlanDialog", "Month %1").replace("%1", plan.month))
        self.target.setText("" if plan.target is None else str(plan.target))
        guides, days = plan.guides, plan.days
        self.grid.clear()
        self.grid.setRowCount(len(guides))
        self.grid.setColumnCount(len(days))
        self.grid.setVerticalHeaderLabels([f"{g.name} ({g.code})" for g in guides])
        self.grid.setHorizontalHeaderLabels(
            [f"{d.day.day}\n{weekday_text(d.day)}\n{d.day_target}" for d in days]
        )
        for c, d in enumerate(days):
            for r, g in enumerate(guides):
                item = QTableWidgetItem()
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setCheckState(
                    Qt.CheckState.Checked if g.id in d.roster else Qt.CheckState.Unchecked
                )
                if g.id in d.split:
                    item.setText(str(d.split[g.id]))
                if d.adjusted:
                    item.setToolTip(translate("PlanDialog", "Adjusted by hand"))
                self.grid.setItem(r, c, item)
        self.grid.resizeRowsToContents()
        today = self.uow.clock.today()
        if days and guides and days[0].day <= today <= days[-1].day:  # start at today
            self.grid.setCurrentCell(0, (today - days[0].day).days)

    # -- saving -----------------------------------------------------------------------------
    def show_error(self, error: Exception) -> None:
        text = (
            error_text(error)
            if isinstance(error, DomainError)
            else translate("PlanDialog", "Unexpected error (%1); nothing was changed.").replace(
                "%1", type(error).__name__
            )
        )
        self.message.setText(text)
        self.message.show()

    def _saved(self, _result: object = None) -> None:
        self.message.hide()
        self.changed.emit()
        self.load()

    def on_save_target(self) -> None:
        month, uow, clerk, text = self.month, self.uow, self.clerk, self.target.text()
        self.ops.run(
            lambda: targets.set_month_target(uow, clerk=clerk, month=month, target=text),
            self._saved,
            self.show_error,
        )

    def rosters(self) -> dict[date, list[str]]:
        """The grid as the core takes it."""
        if self.plan is None:
            return {}
        out: dict[date, list[str]] = {}
        for c, d in enumerate(self.plan.days):
            out[d.day] = [
                g.id
                for r, g in enumerate(self.plan.guides)
                if self.grid.item(r, c).checkState() == Qt.CheckState.Checked
            ]
        return out

    def on_save_roster(self) -> None:
        rosters, uow, clerk = self.rosters(), self.uow, self.clerk
        self.ops.run(
            lambda: targets.set_rosters(uow, clerk=clerk, rosters=rosters),
            self._saved,
            self.show_error,
        )

    def toggle(self, row: int, col: int) -> None:
        item = self.grid.item(row, col)
        if item is not None:
            item.setCheckState(
                Qt.CheckState.Unchecked
                if item.checkState() == Qt.CheckState.Checked
                else Qt.CheckState.Checked
            )

    def toggle_current(self) -> None:
        self.toggle(self.grid.currentRow(), self.grid.currentColumn())

    def on_adjust(self) -> None:
        if self.plan is None or self.grid.currentColumn() < 0:
            self.message.setText(translate("PlanDialog", "Select a day in the roster first."))
            self.message.show()
            return
        day = self.plan.days[self.grid.currentColumn()]
        names = {g.id: f"{g.name} ({g.code})" for g in self.plan.guides}
        dialog = SplitDialog(day=day, names=names, parent=self)
        dialog.submitted.connect(self._submit_split)
        self.split_dialog = dialog
        dialog.open()

    def _submit_split(self, day: date, values: dict[str, int]) -> None:
        uow, clerk = self.uow, self.clerk
        dialog = self.split_dialog
        self.ops.run(
            lambda: targets.adjust_split(uow, clerk=clerk, day=day, targets=values),
            lambda _p: (dialog.accept(), self._saved()),
            dialog.show_error,
        )


class SplitDialog(QDialog):
    """One day's per-guide targets; the running total must equal the day's target to save."""

    submitted = Signal(object, object)  # day, {staff id: target}

    def __init__(
        self, *, day: DayPlan, names: dict[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.day = day
        self.setWindowTitle(
            translate("PlanDialog", "Split of %1").replace("%1", day.day.isoformat())
        )
        self.boxes: dict[str, QSpinBox] = {}
        form = QFormLayout()
        for sid in day.roster:
            box = QSpinBox()
            box.setRange(0, 10_000)
            box.setValue(day.split.get(sid, 0))
            box.valueChanged.connect(self._update_total)
            form.addRow(names.get(sid, sid), box)
            self.boxes[sid] = box
        self.total = QLabel()
        self.message = QLabel()
        self.message.setObjectName("errorLabel")
        self.message.setWordWrap(True)
        self.message.hide()
        save = QPushButton(translate("PlanDialog", "&Save split"))
        save.setDefault(True)
        save.clicked.connect(self._submit)
        cancel = QPushButton(translate("PlanDialog", "Esc Cancel"))
        cancel.clicked.connect(self.reject)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(save)
        bar.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.total)
        layout.addWidget(self.message)
        layout.addLayout(bar)
        self._update_total()

    def _update_total(self) -> None:
        total = sum(b.value() for b in self.boxes.values())
        self.total.setText(
            translate("PlanDialog", "Total %1 of the day's %2")
            .replace("%1", str(total))
            .replace("%2", str(self.day.day_target))
        )

    def _submit(self) -> None:
        self.submitted.emit(self.day.day, {s: b.value() for s, b in self.boxes.items()})

    def show_error(self, error: Exception) -> None:
        self.message.setText(
            error_text(error) if isinstance(error, DomainError) else type(error).__name__
        )
        self.message.show()
