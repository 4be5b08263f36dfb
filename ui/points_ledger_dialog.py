"""F7: the member's points ledger (积分流水), read only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.services.member_cards import MemberCard
from pos_member.services.points import LedgerLine
from ui.operations import Operations
from ui.points_view import ledger_row
from ui.screen_fit import open_at


class LedgerDialog(QDialog):
    """F7: the member's points ledger (积分流水), newest first, with the running balance."""

    def __init__(self, *, ops: Operations, card: MemberCard,
                 load: Callable[[], list[LedgerLine]], zone: tzinfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = zone  # the store's: the lines' times are shown in it
        self.setWindowTitle(self.tr("Points ledger of %1 (F7)").replace("%1", card.member_no))
        self.table = QTableWidget(0, 8)
        # The note says why: the reason of an adjustment, the gift taken, the lot's expiry date.
        self.table.setHorizontalHeaderLabels([
            self.tr("When"), self.tr("What"), self.tr("Points"), self.tr("Balance"),
            self.tr("Receipt"), self.tr("Store"), self.tr("Clerk"), self.tr("Note")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.empty = QLabel(self.tr("No points yet."))
        self.empty.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        open_at(self, 900, 480)
        ops.run(load, self.show_lines)

    def show_lines(self, lines: list[LedgerLine]) -> None:
        self.empty.setVisible(not lines)
        self.table.setRowCount(len(lines))
        for r, line in enumerate(lines):
            for c, text in enumerate(ledger_row(line, self._zone)):
                item = QTableWidgetItem(text)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setFocus()
