"""Ctrl+H: the member's purchase history (消费记录): their bills, newest first, with the points
each used and earned, what was refunded, and how it was paid where the till knows. Read only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from PySide6.QtCore import QCoreApplication, Qt
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
from shiboken6 import isValid

from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.services.member_cards import MemberCard
from pos_member.services.purchases import Purchase
from ui.operations import Operations
from ui.screen_fit import open_at

TENDER_LABELS = {
    "stored_value": QT_TRANSLATE_NOOP("Tenders", "Stored value"),
    "cash": QT_TRANSLATE_NOOP("Tenders", "Cash"),
    "card": QT_TRANSLATE_NOOP("Tenders", "Bank card"),
    "third_party": QT_TRANSLATE_NOOP("Tenders", "WeChat / Alipay"),
    "points": QT_TRANSLATE_NOOP("Tenders", "Points"),
    "other": QT_TRANSLATE_NOOP("Tenders", "Other"),
}


def tender_text(tenders: tuple[tuple[str, int], ...]) -> str:
    """``储值 ¥50.00 + 现金 ¥38.00``; "—" when the till does not know how it was paid."""
    if not tenders:
        return "—"
    return " + ".join(
        f"{QCoreApplication.translate('Tenders', TENDER_LABELS.get(kind, kind))} "
        f"{format_yuan(fen)}" for kind, fen in tenders)


def purchase_row(p: Purchase, zone: tzinfo) -> list[str]:
    return [
        p.sold_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        p.bill_no,
        format_yuan(p.bill_fen),
        str(p.redeem_points) if p.redeem_points else "—",
        format_yuan(p.paid_fen),
        tender_text(p.tenders),
        str(p.earned - p.clawed),
        format_yuan(p.refunded_fen) if p.refunded_fen else "—",
    ]


class PurchasesDialog(QDialog):
    def __init__(self, *, ops: Operations, card: MemberCard,
                 load: Callable[[], list[Purchase]], zone: tzinfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._zone = zone
        self.setWindowTitle(self.tr("Purchases of %1 (Ctrl+H)").replace("%1", card.member_no))
        self.table = QTableWidget(0, 8)
        self.table.setObjectName("purchases")
        self.table.setHorizontalHeaderLabels([
            self.tr("When"), self.tr("Bill"), self.tr("Amount"), self.tr("Points used"),
            self.tr("Paid"), self.tr("Paid by"), self.tr("Points earned"), self.tr("Refunded")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel(self.tr("No purchases yet."))
        self.empty.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        open_at(self, 960, 480)
        self.purchases: list[Purchase] = []
        ops.run(load, self.show_purchases)

    def show_purchases(self, rows: list[Purchase]) -> None:
        if not isValid(self.table):  # closed meanwhile
            return
        self.purchases = rows
        self.empty.setVisible(not rows)
        self.table.setRowCount(len(rows))
        for r, p in enumerate(rows):
            for c, text in enumerate(purchase_row(p, self._zone)):
                item = QTableWidgetItem(text)
                if c in (2, 3, 4, 6, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        if rows:
            self.table.selectRow(0)
        self.table.setFocus()
