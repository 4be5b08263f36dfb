"""A guide's own progress: the F11 dialog (target, registrations, pace, 会销比 today) and the
status-bar line the till shows all day."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from pos_member.services.kpi import GuideDay
from ui.i18n import translate
from ui.kpi_texts import STYLE, guide_status, percent_text, set_state
from ui.operations import Operations


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
        set_state(self.bar, "state", status.kind)
        self.status.setText(status.text)
        set_state(self.status, "kind", {"met": "good", "behind": "bad"}.get(status.kind, "info"))
        self.ratio.setText(
            translate("Dashboard", "My 会销比 today: %1 (%2 of %3 sales)")
            .replace("%1", percent_text(g.sales.ratio_permille))
            .replace("%2", str(g.sales.member_sales))
            .replace("%3", str(g.sales.sales))
        )
