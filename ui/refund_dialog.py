"""Shift+F4: a refund by bill number, all that is left on the bill or a part, approved by a
manager's staff number and PIN (a logged-in manager may leave them empty). Enter shows what the
refund will do in figures (``quote``); only a deliberate Ctrl+Enter there refunds
(``ui.confirm``). The core calls run through ``Operations``; a refusal is shown in the dialog
and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from pos_member.errors import DomainError
from pos_member.money import parse_yuan
from pos_member.services.sale_refunds import RefundQuote, RefundResult
from ui.confirm import ask
from ui.dialog_parts import accept_buttons, clear_on_edit, message_label, show_error_in
from ui.operations import Operations
from ui.points_view import refund_lines, refund_quote_lines


class RefundDialog(QDialog):
    """Shift+F4: a refund by bill number, all that is left or a part."""

    refunded = Signal(object)  # RefundResult

    def __init__(self, *, ops: Operations, quote: Callable[..., RefundQuote],
                 refund: Callable[..., RefundResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._quote, self._refund = ops, quote, refund
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
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.info)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.bill.setFocus()

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
        kw = dict(txn_id=self.txn_id, bill_no=bill, amount_fen=fen,
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._quote(bill_no=bill, amount_fen=fen),
                     lambda q: self._confirm(q, kw), self._failed)

    def _confirm(self, quote: RefundQuote, kw: dict[str, object]) -> None:
        """The figures, and the refund only on a deliberate confirmation."""
        self.ok.setEnabled(True)

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._refund(**kw), self._done, self._failed)

        ask(self, title=self.tr("Refund on bill %1?").replace("%1", quote.bill_no),
            lines=refund_quote_lines(quote), action=self.tr("Refund"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        show_error_in(self.message, error)

    def _done(self, result: RefundResult) -> None:
        self.result = result
        self.message.hide()
        self.bill.setEnabled(False)
        self.amount.setEnabled(False)
        self.manager.setEnabled(False)
        self.pin.clear()
        self.pin.setEnabled(False)
        self.info.setText("\n".join(refund_lines(result)))
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # recorded: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setFocus()
        self.refunded.emit(result)
