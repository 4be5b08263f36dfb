"""Points at the till: ring up a sale (F4), refund (Shift+F4), the points ledger (F7), a manual
adjustment with the manager's PIN (Ctrl+F7), gifts and coupons for points (Ctrl+G). Every core
call runs through ``Operations`` (off the GUI thread); a refusal is shown in the dialog and
changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.money import format_yuan, parse_yuan
from pos_member.permissions import Role
from pos_member.rules import CatalogueItem
from pos_member.services.member_cards import MemberCard
from pos_member.services.points import LedgerLine, PointsOpResult, PointsSummary
from pos_member.services.sales import RefundResult, SaleQuote, SaleResult
from pos_member.services.staff import StaffInfo
from ui.i18n import error_text
from ui.operations import Operations
from ui.points_view import explain_earn, ledger_row, receipt_lines, refund_lines


def _error(label: QLabel, error: Exception) -> None:
    label.setProperty("kind", "error")
    label.setText(error_text(error) if isinstance(error, DomainError)
                  else type(error).__name__)
    label.show()


def _message_label() -> QLabel:
    """The dialog's error line, hidden until there is something to say."""
    label = QLabel()
    label.setObjectName("dialogError")
    label.setWordWrap(True)
    label.hide()
    return label


def _accept_buttons(dialog: QDialog, text: str
                    ) -> tuple[QDialogButtonBox, QPushButton, QPushButton]:
    """``text`` (the default button, Enter) runs ``dialog.submit``; Cancel (Esc) rejects."""
    buttons = QDialogButtonBox()
    ok = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setDefault(True)
    cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.submit)  # type: ignore[attr-defined]
    buttons.rejected.connect(dialog.reject)
    return buttons, ok, cancel


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
        self.message = _message_label()
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
        self.buttons, self.ok, self.cancel = _accept_buttons(self, self.tr("Record sale (Enter)"))
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
                     lambda e: _error(self.message, e))

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
            _error(self.message, e)
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
        _error(self.message, error)

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
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.message = _message_label()
        form = QFormLayout()
        form.addRow(self.tr("&Bill number"), self.bill)
        form.addRow(self.tr("&Amount (¥)"), self.amount)
        self.buttons, self.ok, self.cancel = _accept_buttons(self, self.tr("Refund (Enter)"))
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
            _error(self.message, e)
            return
        kw = dict(txn_id=self.txn_id, bill_no=self.bill.text(), amount_fen=fen)
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._refund(**kw), self._done, self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        _error(self.message, error)

    def _done(self, result: RefundResult) -> None:
        self.result = result
        self.message.hide()
        self.bill.setEnabled(False)
        self.amount.setEnabled(False)
        self.info.setText("\n".join(refund_lines(result)))
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # recorded: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setFocus()
        self.refunded.emit(result)


class LedgerDialog(QDialog):
    """F7: the member's points ledger (积分流水), newest first, with the running balance."""

    def __init__(self, *, ops: Operations, card: MemberCard,
                 load: Callable[[], list[LedgerLine]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Points ledger of %1 (F7)").replace("%1", card.member_no))
        self.resize(900, 480)
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
        ops.run(load, self.show_lines)

    def show_lines(self, lines: list[LedgerLine]) -> None:
        self.empty.setVisible(not lines)
        self.table.setRowCount(len(lines))
        for r, line in enumerate(lines):
            for c, text in enumerate(ledger_row(line)):
                item = QTableWidgetItem(text)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setFocus()


class AdjustDialog(QDialog):
    """Ctrl+F7: a manual adjustment; a manager enters their staff number and PIN here."""

    adjusted = Signal(object)  # PointsOpResult

    def __init__(self, *, ops: Operations, card: MemberCard,
                 adjust: Callable[..., PointsOpResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._adjust = ops, adjust
        self.txn_id = str(uuid.uuid4())
        self.setWindowTitle(self.tr("Adjust points of %1 (Ctrl+F7)").replace(
            "%1", card.member_no))
        self.setMinimumWidth(480)
        self.points = QSpinBox()
        self.points.setRange(-1_000_000, 1_000_000)
        self.reason = QLineEdit()
        self.reason.setMaxLength(150)
        self.manager = QLineEdit()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = _message_label()
        form = QFormLayout()
        form.addRow(self.tr("&Points (+ or −)"), self.points)
        form.addRow(self.tr("&Reason"), self.reason)
        form.addRow(self.tr("&Manager's staff number"), self.manager)
        form.addRow(self.tr("Manager's &PIN"), self.pin)
        self.buttons, self.ok, self.cancel = _accept_buttons(self, self.tr("Adjust (Enter)"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.points.setFocus()
        self.points.selectAll()

    def submit(self) -> None:
        kw = dict(txn_id=self.txn_id, points=self.points.value(), reason=self.reason.text(),
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._adjust(**kw), self._done, self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        _error(self.message, error)

    def _done(self, result: PointsOpResult) -> None:
        self.adjusted.emit(result)
        self.accept()


class GiftDialog(QDialog):
    """Ctrl+G: exchange points for a gift or coupon of the rules' catalogue. The items and
    their point prices in a list (Up/Down, or the item's number); Enter exchanges the one
    selected. What the member cannot afford now is shown greyed with the points missing, and
    refused with a message, changing nothing. One dialog, one till transaction: a repeated
    Enter or a retry returns the first exchange."""

    exchanged = Signal(object)  # PointsOpResult

    def __init__(self, *, ops: Operations, card: MemberCard, catalogue: tuple[CatalogueItem, ...],
                 load: Callable[[], PointsSummary], exchange: Callable[..., PointsOpResult],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.items, self._exchange = ops, catalogue, exchange
        self.txn_id = str(uuid.uuid4())
        self.spendable: int | None = None  # not loaded yet
        self.result: PointsOpResult | None = None
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
        self.hint = QLabel(self.tr("↑/↓ or the item's number to choose, Enter to exchange"))
        self.hint.setObjectName("hintLabel")
        self.info = QLabel()
        self.info.setObjectName("dialogDone")
        self.info.setWordWrap(True)
        self.info.hide()
        self.message = _message_label()
        self.buttons, self.ok, self.cancel = _accept_buttons(self, self.tr("Exchange (Enter)"))
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
        ops.run(load, self.show_points, lambda e: _error(self.message, e))

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
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._exchange(txn_id=self.txn_id, item_code=item.code),
                     lambda r: self._done(item, r), self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        _error(self.message, error)

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
