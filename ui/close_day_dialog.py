"""Closing time (日结, F12): progress while the sync thread pushes and pulls everything, then
the day's report — red when anything stays unacknowledged.

The dialog only listens: closing time runs on :class:`ui.sync_worker.SyncWorker`'s thread, and
``again`` asks it to run once more (the window checks the clerk's permission each time).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sync.engine import DayReport
from ui.i18n import error_text
from ui.sync_view import report_view, step_text
from ui.sync_worker import SyncWorker

STEPS = ("push", "pull", "report")


class CloseDayDialog(QDialog):
    def __init__(self, *, worker: SyncWorker, again: Callable[[], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._again = again
        self.report: DayReport | None = None
        self.setObjectName("closeDayDialog")
        self.setWindowTitle(self.tr("Close the day (F12)"))
        self.setMinimumWidth(560)

        self.heading = QLabel(self.tr("Closing the day: sending everything to head office…"))
        self.heading.setObjectName("reportTitle")
        self.heading.setWordWrap(True)
        self.steps: dict[str, QLabel] = {}
        steps_box = QVBoxLayout()
        for step in STEPS:
            label = QLabel()
            label.setObjectName("closeStep")
            steps_box.addWidget(label)
            self.steps[step] = label
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy until the push knows its size
        self.progress.setTextVisible(False)

        self.figures = QFrame()
        self.figures.setObjectName("reportFigures")
        self.grid = QGridLayout(self.figures)
        self.grid.setColumnStretch(0, 1)
        self.grid.setVerticalSpacing(8)
        self.grid.setHorizontalSpacing(24)
        self.figures.hide()
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.verdict.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.retry = QPushButton(self.tr("Close the day &again"))
        self.retry.clicked.connect(self._run_again)
        self.buttons.addButton(self.retry, QDialogButtonBox.ButtonRole.ActionRole)
        self.retry.hide()  # after addButton, which shows it

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(steps_box)
        layout.addWidget(self.progress)
        layout.addWidget(self.figures)
        layout.addWidget(self.verdict)
        layout.addWidget(self.buttons)

        worker.closing_progress.connect(self.on_progress)
        worker.day_closed.connect(self.show_report)
        worker.closing_failed.connect(self.show_failure)
        self._running(True)
        self.on_progress("push", 0, worker.status.pending)

    def _running(self, running: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setEnabled(not running)
        self.progress.setVisible(running)
        self.retry.setEnabled(not running)

    def on_progress(self, step: str, done: int, total: int) -> None:
        current = STEPS.index(step) if step in STEPS else len(STEPS)
        for i, name in enumerate(STEPS):
            label = self.steps[name]
            if i == current:
                label.setText("▶  " + step_text(name, done, total))
                label.setProperty("state", "current")
            elif i < current:
                label.setText("✓  " + label.text()[3:])  # keeps the step's last figures
                label.setProperty("state", "done")
            else:
                label.setText("○  " + step_text(name, 0, 0))
                label.setProperty("state", "waiting")
            label.style().unpolish(label)
            label.style().polish(label)
        if step == "push" and total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        else:
            self.progress.setRange(0, 0)

    def show_report(self, report: DayReport) -> None:
        self.report = report
        view = report_view(report)
        for i in range(len(STEPS)):
            self.steps[STEPS[i]].hide()
        self._running(False)
        self.heading.setText(view.title)
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        for row, (label, value) in enumerate(view.rows):
            name, figure = QLabel(label), QLabel(value)
            name.setObjectName("reportLabel")
            figure.setObjectName("reportValue")
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row == view.alert_row:
                name.setProperty("alert", "yes")
                figure.setProperty("alert", "yes")
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(figure, row, 1)
        self.figures.show()
        self._verdict(view.verdict, ok=view.ok)
        self.retry.setVisible(not view.ok)
        self.adjustSize()

    def show_failure(self, error: Exception) -> None:
        self._running(False)
        text = error_text(error) if hasattr(error, "message") else self.tr(
            "Closing the day failed (%1); nothing was lost.").replace("%1", type(error).__name__)
        self._verdict(text, ok=False)  # type: ignore[arg-type]
        self.retry.setVisible(True)

    def _verdict(self, text: str, *, ok: bool) -> None:
        self.verdict.setText(text)
        self.verdict.setProperty("ok", "yes" if ok else "no")
        self.verdict.style().unpolish(self.verdict)
        self.verdict.style().polish(self.verdict)
        self.verdict.show()

    def _run_again(self) -> None:
        if self._again():
            self.figures.hide()
            self.verdict.hide()
            self.retry.hide()
            self.heading.setText(self.tr("Closing the day: sending everything to head office…"))
            for label in self.steps.values():
                label.show()
            self._running(True)
            self.on_progress("push", 0, 0)
