"""F4: ring up a sale for the member on screen (or a walk-in), with the points it earns and
the points to redeem shown while the cashier types. The core call runs through ``Operations``
(off the GUI thread); a refusal is shown in the dialog and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.money import format_yuan, parse_yuan
from pos_member.permissions import Role
from pos_member.services.member_cards import MemberCard
from pos_member.services.sales import SaleQuote, SaleResult
from pos_member.services.staff import StaffInfo
from ui.dialog_parts import accept_buttons, message_label, show_error_in
from ui.operations import Operations
from ui.points_view import explain_earn, receipt_lines


class SaleDialog(QDialog):
    """F4: bill number, amount in yuan (parsed to fen exactly), guide, categories, points to
    redeem (any amount up to the cap shown). The points to be earned are shown, with the
    multipliers, while the cashier types; Enter records the sale and shows the receipt."""

    recorded = Signal(object)  # SaleResult

    def __init__(self, *, ops: Operations, card: MemberCard | None, guides: list[StaffInfo],
                 quote: Callable[[int, int], SaleQuote],
                 record: Callable[..., SaleResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.card, self._quote, self._record = ops, card, quote, record
        self.txn_id = str(uuid.uuid4())  # one dialog, one till transaction: retries repeat it
        self.result: SaleResult | None = None
        self.setWindowTitle(self.tr("Ring up a sale (F4)"))
        self.setMinimumWidth(560)
        who = (self.tr("Member %1 · %2").replace("%1", card.member_no).replace(
            "%2", card.phone_masked) if card else self.tr("Walk-in customer (no member)"))
        self.who = QLabel(who)
        self.who.setObjectName("dialogTitle")
        self.bill = QLineEdit()
        self.bill.setMaxLength(32)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.guide = QComboBox()
        self.guide.addItem("—", None)
        for g in guides:
            if g.role is Role.GUIDE and g.active:
                self.guide.addItem(f"{g.name} ({g.code})", g.id)
        self.categories = QLineEdit()
        self.categories.setPlaceholderText(self.tr("optional, separated by commas"))
        self.redeem = QSpinBox()
        self.redeem.setRange(0, 0)
        self.redeem.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.redeem.setEnabled(card is not None)
        self.cap = QLabel()
        self.explain = QLabel()
        self.explain.setObjectName("pointsExplain")
        self.explain.setWordWrap(True)
        self.message = message_label()
        form = QFormLayout()
        form.addRow(self.tr("&Bill number"), self.bill)
        form.addRow(self.tr("&Amount (¥)"), self.amount)
        form.addRow(self.tr("&Guide"), self.guide)
        form.addRow(self.tr("&Categories"), self.categories)
        form.addRow(self.tr("&Redeem points"), self.redeem)
        form.addRow("", self.cap)
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                item.widget().setBuddy(form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget())
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Record sale (Enter)"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addLayout(form)
        layout.addWidget(self.explain)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self._requote)
        self.amount.textChanged.connect(self._timer.start)
        self.redeem.valueChanged.connect(self._timer.start)
        self.bill.setFocus()

    def _fen(self) -> int | None:
        text = self.amount.text().strip()
        if not text:
            return None
        try:
            return parse_yuan(text)
        except DomainError:
            return None

    def _requote(self) -> None:
        fen = self._fen()
        if fen is None or fen <= 0:
            self.explain.setText("")
            self.cap.setText("")
            return
        wanted = self.redeem.value()
        self.ops.run(lambda: self._quote(fen, wanted), self._show_quote,
                     lambda e: show_error_in(self.message, e))

    def _show_quote(self, q: SaleQuote) -> None:
        if self.result is not None:
            return
        self.message.hide()
        top = min(q.cap_points, q.spendable) // q.redeem_step * q.redeem_step
        self.redeem.blockSignals(True)
        self.redeem.setRange(0, top)
        self.redeem.setSingleStep(q.redeem_step)
        self.redeem.blockSignals(False)
        if self.card is not None:
            self.cap.setText(self.tr("Up to %1 points (half the bill); the member can spend %2")
                             .replace("%1", str(q.cap_points)).replace("%2", str(q.spendable)))
        text = self.tr("To pay: %1").replace("%1", format_yuan(q.paid_fen))
        if q.earn is not None:
            text += "\n" + self.tr("Points: %1").replace("%1", explain_earn(q.earn))
        self.explain.setText(text)

    def submit(self) -> None:
        if self.result is not None:
            self.accept()
            return
        try:
            fen = parse_yuan(self.amount.text().strip())
        except DomainError as e:
            show_error_in(self.message, e)
            self.amount.setFocus()
            return
        cats = tuple(c.strip() for c in self.categories.text().replace("，", ",").split(",")
                     if c.strip())
        kw: dict[str, Any] = dict(txn_id=self.txn_id, bill_no=self.bill.text(), amount_fen=fen,
                                  member_id=self.card.id if self.card else None,
                                  guide_id=self.guide.currentData(), categories=cats,
                                  redeem_points=self.redeem.value())
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._record(**kw), self._done, self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        show_error_in(self.message, error)

    def _done(self, result: SaleResult) -> None:
        self.result = result
        self.message.hide()
        for w in (self.bill, self.amount, self.guide, self.categories, self.redeem):
            w.setEnabled(False)
        lines = receipt_lines(result)
        if result.earn is not None:
            lines.insert(0, self.tr("Points: %1").replace("%1", explain_earn(result.earn)))
        self.explain.setText("\n".join(lines))
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # recorded: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setFocus()
        self.recorded.emit(result)
