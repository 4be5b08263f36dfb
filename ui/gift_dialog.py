"""Ctrl+G: gifts and coupons of the rules' catalogue for the member's points."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.rules_config import CatalogueItem
from pos_member.services.member_cards import MemberCard
from pos_member.services.points import PointsOpResult, PointsSummary
from ui.confirm import ask
from ui.dialog_parts import accept_buttons, message_label, show_error_in
from ui.operations import Operations


class GiftDialog(QDialog):
    """Ctrl+G: exchange points for a gift or coupon of the rules' catalogue. The items and
    their point prices in a list (Up/Down, or the item's number); Enter exchanges the one
    selected: the points before and after are shown, and only a deliberate Ctrl+Enter there
    exchanges (``ui.confirm``). What the member cannot afford now is shown greyed with the
    points missing, and refused with a message, changing nothing. One dialog, one till
    transaction: a retry returns the first exchange."""

    exchanged = Signal(object)  # PointsOpResult

    def __init__(self, *, ops: Operations, card: MemberCard, catalogue: tuple[CatalogueItem, ...],
                 load: Callable[[], PointsSummary], exchange: Callable[..., PointsOpResult],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.items, self._exchange = ops, catalogue, exchange
        self.txn_id = str(uuid.uuid4())
        self.spendable: int | None = None  # not loaded yet
        self.result: PointsOpResult | None = None
        self.confirming: QDialog | None = None
        self.setWindowTitle(self.tr("Gifts and coupons for points (Ctrl+G)"))
        self.setMinimumWidth(560)
        self.who = QLabel(self.tr("Member %1 · %2").replace("%1", card.member_no).replace(
            "%2", card.phone_masked))
        self.who.setObjectName("dialogTitle")
        self.balance = QLabel(self.tr("Loading the member's points…"))
        self.table = QTableWidget(len(catalogue), 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("No."), self.tr("Item"), self.tr("Kind"), self.tr("Points")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        kinds = {"gift": self.tr("Gift"), "coupon": self.tr("Coupon")}
        for r, item in enumerate(catalogue):
            cells = [str(r + 1), item.name, kinds.get(item.kind, item.kind), str(item.points)]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c in (0, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
        self.table.setMinimumHeight(min(8, max(3, len(catalogue))) * 30 + 30)
        self.empty = QLabel(self.tr("No gifts or coupons in the catalogue."))
        self.empty.setVisible(not catalogue)
        self.table.setVisible(bool(catalogue))
        self.hint = QLabel(self.tr("↑/↓ or the item's number to choose, Enter to check"))
        self.hint.setObjectName("hintLabel")
        self.info = QLabel()
        self.info.setObjectName("dialogDone")
        self.info.setWordWrap(True)
        self.info.hide()
        self.message = message_label()
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Check (Enter)"))
        self.ok.setEnabled(False)  # until the member's points are known
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addWidget(self.balance)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.hint)
        layout.addWidget(self.info)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.table.itemSelectionChanged.connect(self.message.hide)
        self.table.installEventFilter(self)
        if catalogue:
            self.table.selectRow(0)
        self.table.setFocus()
        ops.run(load, self.show_points, lambda e: show_error_in(self.message, e))

    def show_points(self, summary: PointsSummary) -> None:
        self.spendable = min(summary.spendable, max(0, summary.balance))
        text = self.tr("Points the member can spend now: %1").replace("%1", str(self.spendable))
        if summary.pending:
            text += self.tr(" (%1 pending)").replace("%1", str(summary.pending))
        self.balance.setText(text)
        muted = QColor("#9aa5b1")  # the till's disabled grey
        for r, item in enumerate(self.items):
            if item.points > self.spendable:
                for c in range(self.table.columnCount()):
                    self.table.item(r, c).setForeground(muted)
                self.table.item(r, 3).setText(self.tr("%1 (%2 short)").replace(
                    "%1", str(item.points)).replace("%2", str(item.points - self.spendable)))
        self.ok.setEnabled(bool(self.items))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The item's number picks it (the table would search its current column instead)."""
        if watched is self.table and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            text = event.text()
            if self.result is None and text.isdigit() and 1 <= int(text) <= len(self.items):
                self.table.selectRow(int(text) - 1)
                return True
        return super().eventFilter(watched, event)

    def selected(self) -> CatalogueItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows else None

    def submit(self) -> None:
        if self.result is not None:
            self.accept()
            return
        item = self.selected()
        if item is None or self.spendable is None:
            return
        if item.points > self.spendable:
            self.message.setProperty("kind", "error")
            self.message.setText(self.tr(
                "Not enough points for %1: it takes %2, the member can spend %3 now.").replace(
                "%1", item.name).replace("%2", str(item.points)).replace(
                "%3", str(self.spendable)))
            self.message.show()
            return
        spendable = self.spendable

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._exchange(txn_id=self.txn_id, item_code=item.code),
                         lambda r: self._done(item, r), self._failed)

        ask(self, title=self.tr("Exchange points for %1?").replace("%1", item.name),
            lines=[self.tr("Points: −%1").replace("%1", str(item.points)),
                   self.tr("Points the member can spend: %1 → %2").replace(
                       "%1", str(spendable)).replace("%2", str(spendable - item.points))],
            action=self.tr("Exchange"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        show_error_in(self.message, error)

    def _done(self, item: CatalogueItem, result: PointsOpResult) -> None:
        self.result = result
        self.message.hide()
        self.table.setEnabled(False)
        self.hint.hide()
        self.info.setText(self.tr(
            "Exchanged: %1 for %2 points. Points balance: %3. Hand it over to the member.")
            .replace("%1", item.name).replace("%2", str(-result.points)).replace(
            "%3", str(result.balance)))
        self.info.show()
        self.balance.setText(self.tr("Points balance: %1").replace("%1", str(result.balance)))
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # done: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setDefault(True)
        self.ok.setFocus()
        self.exchanged.emit(result)
