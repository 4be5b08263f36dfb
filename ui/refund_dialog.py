"""Shift+F4: a refund by bill number, all that is left on the bill or a part, approved by a
manager's staff number and PIN (a logged-in manager may leave them empty). The core call runs
through ``Operations``; a refusal is shown in the dialog and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from pos_member.errors import DomainError
from pos_member.money import parse_yuan
from pos_member.services.sale_refunds import RefundResult
from ui.dialog_parts import accept_buttons, message_label, show_error_in
from ui.operations import Operations
from ui.points_view import refund_lines


class RefundDialog(QDialog):
    """Shift+F4: a refund by bill number, all that is left or a part."""

    refunded = Signal(object)  # RefundResult

    def __init__(self, *, ops: Operations, refund: Callable[..., RefundResult],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._refund = ops, refund
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
        form = QFormLayout()
        form.addRow(self.tr("&Bill number"), self.bill)
        form.addRow(self.tr("&Amount (¥)"), self.amount)
        form.addRow(self.tr("&Manager's staff number"), self.manager)
        form.addRow(self.tr("Manager's &PIN"), self.pin)
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Refund (Enter)"))
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
        kw = dict(txn_id=self.txn_id, bill_no=self.bill.text(), amount_fen=fen,
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._refund(**kw), self._done, self._failed)

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
