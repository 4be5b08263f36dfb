"""The store manager's recall list (召回名单, Ctrl+Shift+F11, issue 19): the store's members away
for the dormant threshold or more, most valuable or longest away first, with the suggested
action; exported to .xlsx (Ctrl+E). Loaded off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.services.kpi_report import SavedReport
from pos_member.services.recall import COLUMNS, RecallEntry, RecallOrder, entry_values
from ui.health_dialog import cell_text
from ui.i18n import error_text, translate
from ui.kpi_texts import STYLE
from ui.member_card import ElidedLabel
from ui.operations import Operations
from ui.screen_fit import open_at


class RecallDialog(QDialog):
    """``load(order)`` returns the list (thread pool); ``export(entries)`` writes it."""

    def __init__(self, *, ops: Operations, load: Callable[[RecallOrder], list[RecallEntry]],
                 export: Callable[[list[RecallEntry]], SavedReport],
                 tiers: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._load, self._export, self.tiers = ops, load, export, tiers
        self.entries: list[RecallEntry] | None = None
        self.exported: Path | None = None
        self.order = RecallOrder.VALUE
        self.setObjectName("recallDialog")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(translate("RecallDialog", "Recall list (Ctrl+Shift+F11)"))
        title = QLabel(translate("RecallDialog", "召回名单: members away for a while"))
        title.setObjectName("kpiTitle")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("recallTable")
        self.table.setHorizontalHeaderLabels([translate("recall", c) for c, _ in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.status_line = ElidedLabel()  # a saved file's path: long, and never widens
        self.status_line.setObjectName("kpiStatusLine")
        self.status_line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, slot in (
            ("value", translate("RecallDialog", "F2 Most valuable first"),
             lambda: self.sort(RecallOrder.VALUE)),
            ("away", translate("RecallDialog", "F3 Longest away first"),
             lambda: self.sort(RecallOrder.AWAY)),
            ("export", translate("RecallDialog", "Ctrl+E Export (.xlsx)"), self.export),
            ("close", translate("RecallDialog", "Esc Close"), self.reject),
        ):
            b = QPushButton(text)
            b.setObjectName(f"recall_{key}")
            b.setAutoDefault(False)
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[key] = b
        bar.addWidget(self.status_line, 1)
        for keys, slot in (("F2", lambda: self.sort(RecallOrder.VALUE)),
                           ("F3", lambda: self.sort(RecallOrder.AWAY)),
                           ("Ctrl+E", self.export)):
            QShortcut(QKeySequence(keys), self, activated=slot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        open_at(self, 1100, 700)
        self.refresh()

    def sort(self, order: RecallOrder) -> None:
        self.order = order
        self.refresh()

    def refresh(self) -> None:
        order = self.order
        self.status_line.set_full_text(translate("RecallDialog", "Loading…"))
        self.ops.run(lambda: self._load(order), self._loaded, self._failed)

    def _loaded(self, entries: list[RecallEntry]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            for c, (value, (_, fmt)) in enumerate(zip(
                    entry_values(e, self.tiers, translate), COLUMNS, strict=True)):
                text = str(value) if c == 2 else cell_text(
                    value, None if fmt is None else ("¥" if "¥" in fmt else "#"))
                item = QTableWidgetItem(text)
                if fmt and c != 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.status_line.set_full_text(translate("RecallDialog", "%1 members").replace(
            "%1", str(len(entries))))

    def _failed(self, error: Exception) -> None:
        self.status_line.set_full_text(
            error_text(error) if isinstance(error, DomainError)
            else translate("RecallDialog", "Could not load (%1).").replace(
                "%1", type(error).__name__))

    def export(self) -> None:
        entries = self.entries
        if entries is None:
            return
        self.ops.run(lambda: self._export(entries), self._exported, self._failed)

    def _exported(self, saved: SavedReport) -> None:
        self.exported = saved.path
        self.status_line.set_full_text(translate("RecallDialog", "Saved: %1").replace(
            "%1", str(saved.path)))
