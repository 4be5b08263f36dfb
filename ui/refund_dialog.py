"""Shift+F4: a refund starts from the bill: the member on screen's recent bills with what can
still be refunded and how they were paid (↑/↓ picks one, its number goes into the form), or a
bill found by its number; all that is left on the bill or a part, approved by a manager's staff
number and PIN (a logged-in manager may leave them empty). A checkout's money goes back as it
was taken (stored value first; pos_member.services.bill_refunds). Enter shows what the
refund will do in figures (``quote``); only a deliberate Ctrl+Enter there refunds
(``ui.confirm``). A bill the main POS reported with lines lists them with what is left of
each: Space checks a line, and the checked lines are refunded (what is left of each), or with
an amount typed, that part of the one line checked (pos_member.services.line_refunds). The
core calls run through ``Operations``; a refusal is shown in the dialog and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import tzinfo

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from pos_member.errors import DomainError
from pos_member.money import format_yuan, parse_yuan
from pos_member.services.bill_refunds import BillRefund
from pos_member.services.checkout import Tender
from pos_member.services.line_refunds import BillLine
from pos_member.services.purchases import Purchase
from pos_member.services.sale_refunds import RefundQuote, RefundResult
from ui.confirm import ask
from ui.dialog_parts import accept_buttons, clear_on_edit, message_label, show_error_in
from ui.operations import Operations
from ui.points_view import refund_lines, refund_quote_lines
from ui.purchases_dialog import tender_text
from ui.screen_fit import open_at
from ui.tender_box import TenderBox


class RefundDialog(QDialog):
    """Shift+F4: a refund by bill number, all that is left or a part."""

    refunded = Signal(object)  # RefundResult

    def __init__(self, *, ops: Operations,
                 quote: Callable[..., tuple[RefundQuote, tuple[Tender, ...]]],
                 refund: Callable[..., BillRefund],
                 bills: Callable[[], list[Purchase]] | None = None,
                 lines: Callable[[str], list[BillLine]] | None = None,
                 zone: tzinfo | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._quote, self._refund = ops, quote, refund
        self.bill_list: list[Purchase] = []
        self.confirming: QDialog | None = None
        self.txn_id = str(uuid.uuid4())
        self.result: RefundResult | None = None
        self.setWindowTitle(self.tr("Refund (Shift+F4)"))
        self.setMinimumWidth(480)
        self.bill = QLineEdit()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(self.tr("empty = everything left on the bill"))
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.manager = QLineEdit()
        self.manager.setObjectName("managerCode")
        self.manager.setPlaceholderText(self.tr("empty if you are the manager"))
        self.pin = QLineEdit()
        self.pin.setObjectName("managerPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.message = message_label()
        clear_on_edit(self.message, self.bill, self.amount, self.manager, self.pin)
        form = QFormLayout()
        form.addRow(self.tr("&Bill number"), self.bill)
        form.addRow(self.tr("&Amount (¥)"), self.amount)
        form.addRow(self.tr("&Manager's staff number"), self.manager)
        form.addRow(self.tr("Manager's &PIN"), self.pin)
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Check refund (Enter)"))
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("recentBills")
        self.table.setHorizontalHeaderLabels([
            self.tr("When"), self.tr("Bill"), self.tr("Paid"), self.tr("Can be refunded"),
            self.tr("Paid by")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._picked)
        self.table.setVisible(bills is not None)
        self._zone = zone
        self._lines = lines
        self.line_list: list[BillLine] = []
        self.lines_table = self._lines_table()
        self.lines_label = QLabel(self.tr(
            "Lines of this bill: Space checks a line; the checked lines are refunded (what is "
            "left of each; with an amount, that part of the one checked line)."))
        self.lines_label.setWordWrap(True)
        self.lines_label.hide()
        self.bill.editingFinished.connect(self._load_lines)
        layout = QVBoxLayout(self)
        if bills is not None:
            self.bills_label = QLabel(self.tr(
                "The member's recent bills: ↓ from the bill number to pick one, or type it."))
            layout.addWidget(self.bills_label)
            layout.addWidget(self.table, 1)
            ops.run(bills, self._show_bills, lambda e: None)
        layout.addLayout(form)
        layout.addWidget(self.lines_label)
        layout.addWidget(self.lines_table, 1)
        layout.addWidget(self.info)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.bill.setFocus()
        self.bill.installEventFilter(self)
        if bills is not None:
            self.setMinimumWidth(640)
            open_at(self, 720, 560)

    def _lines_table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setObjectName("billLines")
        table.setHorizontalHeaderLabels([self.tr("Line"), self.tr("Category"), self.tr("Sold"),
                                         self.tr("Left to refund")])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.hide()
        return table

    def _load_lines(self) -> None:
        """The bill's lines, when it has any (a bill the main POS reported with lines)."""
        bill, load = self.bill.text().strip(), self._lines
        if load is None or not bill or self.result is not None:
            return
        self.ops.run(lambda: load(bill), lambda rows: self._show_lines(bill, rows),
                     lambda e: self._show_lines(bill, []))

    def _show_lines(self, bill: str, rows: list[BillLine]) -> None:
        if not isValid(self.lines_table) or bill != self.bill.text().strip():
            return  # closed, or another bill typed meanwhile
        self.line_list = [x for x in rows if x.left_fen > 0]
        table = self.lines_table
        table.setRowCount(len(self.line_list))
        for r, x in enumerate(self.line_list):
            for c, text in enumerate((x.line, x.category, format_yuan(x.sold_fen),
                                      format_yuan(x.left_fen))):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Unchecked)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.setVisible(bool(self.line_list))
        self.lines_label.setVisible(bool(self.line_list))

    def checked_lines(self) -> list[tuple[str, int]]:
        """The checked lines, each with what is left of it."""
        return [(x.line, x.left_fen) for r, x in enumerate(self.line_list)
                if self.lines_table.item(r, 0).checkState() == Qt.CheckState.Checked]

    def _show_bills(self, rows: list[Purchase]) -> None:
        if not isValid(self.table):  # closed meanwhile
            return
        self.bill_list = [p for p in rows if p.refundable_fen > 0]
        self.table.setRowCount(len(self.bill_list))
        zone = self._zone
        for r, p in enumerate(self.bill_list):
            when = p.sold_at.astimezone(zone).strftime("%m-%d %H:%M") if zone else ""
            for c, text in enumerate((when, p.bill_no, format_yuan(p.paid_fen),
                                      format_yuan(p.refundable_fen), tender_text(p.tenders))):
                item = QTableWidgetItem(text)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """↓ in the bill number goes to the member's bills (the first one picked)."""
        if watched is self.bill and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down \
                and self.bill_list and self.result is None:
            self.table.setFocus()
            self.table.selectRow(0)
            return True
        return super().eventFilter(watched, event)

    def _picked(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.result is None:
            self.bill.setText(self.bill_list[rows[0].row()].bill_no)
            self._load_lines()

    def submit(self) -> None:
        if self.result is not None:
            self.accept()
            return
        text = self.amount.text().strip()
        try:
            fen = parse_yuan(text) if text else None
        except DomainError as e:
            show_error_in(self.message, e)
            return
        self.message.hide()
        bill = self.bill.text()
        which: dict[str, object] = {"amount_fen": fen}
        checked = self.checked_lines() if self.lines_table.isVisible() else []
        if checked and fen is not None:  # an amount with lines: a part of one line
            if len(checked) > 1:
                self.message.setProperty("kind", "error")
                self.message.setText(self.tr(
                    "An amount refunds part of one line: check one line, or empty the amount."))
                self.message.show()
                return
            checked = [(checked[0][0], fen)]
        if checked:
            which = {"lines": checked}
        kw = dict(txn_id=self.txn_id, bill_no=bill, manager_code=self.manager.text().strip(),
                  manager_pin=self.pin.text(), **which)
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._quote(bill_no=bill, **which),
                     lambda q: self._confirm(q, kw), self._failed)

    def _confirm(self, got: tuple[RefundQuote, tuple[Tender, ...]],
                 kw: dict[str, object]) -> None:
        """The figures, and the refund only on a deliberate confirmation."""
        if not isValid(self.ok) or not self.isVisible():  # closed meanwhile
            return
        self.ok.setEnabled(True)
        quote, back = got
        lines = refund_quote_lines(quote)
        if back:
            lines.insert(2, self.tr("Given back as: %1").replace(
                "%1", TenderBox.receipt_line(back)))

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._refund(**kw), self._done, self._failed)

        ask(self, title=self.tr("Refund on bill %1?").replace("%1", quote.bill_no),
            lines=lines, action=self.tr("Refund"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        show_error_in(self.message, error)

    def _done(self, done: BillRefund) -> None:
        result = done.refund
        self.result = result
        self.message.hide()
        self.bill.setEnabled(False)
        self.amount.setEnabled(False)
        self.manager.setEnabled(False)
        self.pin.clear()
        self.pin.setEnabled(False)
        lines = refund_lines(result)
        if done.back:
            lines.insert(1, self.tr("Given back as: %1").replace(
                "%1", TenderBox.receipt_line(done.back)))
        if done.stored_value is not None:
            lines.append(self.tr("Stored value now: %1").replace(
                "%1", format_yuan(done.stored_value.balance.total_fen)))
        self.info.setText("\n".join(lines))
        self.table.setEnabled(False)
        self.lines_table.setEnabled(False)
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # recorded: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setFocus()
        self.refunded.emit(result)
