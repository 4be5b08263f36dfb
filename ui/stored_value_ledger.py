"""Shift+F10: the member's stored-value ledger (储值流水), principal and bonus apart, with the
running balance, how each movement was paid or verified, where and by whom; from here a payment
or a top-up is refunded (a manager approves: their number and PIN when a cashier is logged
in), and a manager freezes the account, or sets the member's PIN or dynamic code.

Close is the default button: Enter here moves nothing. A refund and a freeze show their figures
first and happen only on a deliberate Ctrl+Enter (``ui.confirm``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from pos_member import stored_value_rules as sv_rules
from pos_member.errors import DomainError
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk
from pos_member.services import member_auth
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services import stored_value_refunds as sv_refunds
from pos_member.services import stored_value_standing as svs
from pos_member.services.member_cards import MemberCard
from pos_member.stored_value_errors import PaymentOfABill
from ui.confirm import ask, clip
from ui.qr import QrWidget
from ui.screen_fit import open_at
from ui.stored_value_base import StoredValueDialog

if TYPE_CHECKING:
    from ui.host import TillHost


KIND_LABELS = {
    "topup": QT_TRANSLATE_NOOP("StoredValue", "Top-up"),
    "payment": QT_TRANSLATE_NOOP("StoredValue", "Payment"),
    "payment_refund": QT_TRANSLATE_NOOP("StoredValue", "Payment refund"),
    "topup_refund": QT_TRANSLATE_NOOP("StoredValue", "Top-up refund"),
}


HOW_LABELS = {
    "cash": QT_TRANSLATE_NOOP("StoredValue", "Cash"),
    "card": QT_TRANSLATE_NOOP("StoredValue", "Bank card"),
    "third_party": QT_TRANSLATE_NOOP("StoredValue", "Third-party payment"),
    "pin": QT_TRANSLATE_NOOP("StoredValue", "Payment PIN"),
    "totp": QT_TRANSLATE_NOOP("StoredValue", "Dynamic code"),
    "sms": QT_TRANSLATE_NOOP("StoredValue", "SMS code"),
}


def _how(line: sv_ledger.LedgerLine) -> str:
    """How the money came in (a top-up's payment method) or was verified (a payment's factor)."""
    key = line.method or line.factor
    return QCoreApplication.translate("StoredValue", HOW_LABELS[key]) if key in HOW_LABELS \
        else "—"


def short_ref(txn_id: str) -> str:
    """A till transaction id as a clerk can read it out: a generated id's first 8 characters
    (a refund's ``refund-`` prefix kept); an id a person typed (a bill number) as it is."""
    prefix = "refund-" if txn_id.startswith("refund-") else ""
    rest = txn_id[len(prefix):]
    head, slash, tail = rest.partition("/")  # a checkout's payment: "<id>/sv"
    if len(head) == 36 and head.count("-") == 4:
        return prefix + head[:8] + slash + tail
    return txn_id


class LedgerDialog(StoredValueDialog):
    changed = Signal()

    def __init__(self, window: TillHost, card: MemberCard) -> None:
        super().__init__(window, card)
        self.setWindowTitle(self.tr("Stored-value ledger (Shift+F10)"))
        self.lines: list[sv_ledger.LedgerLine] = []
        self.balance: sv_ledger.Balance | None = None
        title = QLabel(f"{card.member_no} · {card.name_masked or ''} {card.phone_masked}")
        title.setObjectName("dialogTitle")
        self.summary = QLabel()
        self.summary.setObjectName("balance")
        self.table = QTableWidget(0, 9)
        self.table.setObjectName("ledger")
        self.table.setHorizontalHeaderLabels([
            self.tr("Time"), self.tr("Operation"), self.tr("Principal"), self.tr("Bonus"),
            self.tr("Balance"), self.tr("How"), self.tr("Store"), self.tr("Clerk"),
            self.tr("Transaction")])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()  # row numbers mean nothing here
        self.qr = QrWidget()
        self.qr.setFixedSize(180, 180)
        self.qr.hide()
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for key, text, slot in (
            ("refund", self.tr("&Refund selected"), self.refund),
            ("freeze", self.tr("&Freeze / unfreeze"), self.toggle_freeze),
            ("pin", self.tr("Set member &PIN"), self.set_pin),
            ("totp", self.tr("&Dynamic code set-up"), self.provision),
        ):
            b = QPushButton(text)
            b.setAutoDefault(False)  # Enter is Close here, wherever the focus is
            b.setObjectName(f"sv_{key}")
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[key] = b
        bar.addStretch(1)
        form = QFormLayout()
        self.manager_code, self.manager_pin = self._approval_row(form)
        if window.clerk.may(Action.SV_MANAGE_CREDENTIALS):
            for w in (self.approval_label, self.manager_code, self.manager_pin):
                w.hide()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        self.close_button = close.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        self.confirming: QDialog | None = None
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addWidget(self.qr)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.summary)
        lay.addLayout(body, 1)
        lay.addLayout(bar)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.notice)
        lay.addWidget(close)
        open_at(self, 980, 520)
        self.reload()
        self.table.setFocus()

    def reload(self) -> None:
        uow, mid = self.window_.uow, self.card.id
        self.ops.run(lambda: (sv_ledger.get_balance(uow, mid), sv_ledger.ledger(uow, mid)),
                     self._loaded, self.show_error)

    def _loaded(self, data: tuple[sv_ledger.Balance, list[sv_ledger.LedgerLine]]) -> None:
        self.balance, self.lines = data
        b = self.balance
        text = self.tr("Balance %1 = principal %2 + bonus %3").replace(
            "%1", format_yuan(b.total_fen)).replace("%2", format_yuan(b.principal_fen)).replace(
            "%3", format_yuan(b.bonus_fen))
        if b.frozen:
            text += "  ·  " + self.tr("FROZEN")
        if b.blocked:
            text += "  ·  " + self.tr("blocked by head office")
        self.summary.setText(text)
        self.table.setRowCount(len(self.lines))
        for i, line in enumerate(self.lines):
            cells = [line.at.astimezone(self.window_.uow.clock.zone).strftime("%Y-%m-%d %H:%M"),
                     QCoreApplication.translate(
                         "StoredValue", KIND_LABELS.get(line.kind, line.kind)),
                     format_yuan(line.principal_delta_fen), format_yuan(line.bonus_delta_fen),
                     format_yuan(line.principal_after_fen + line.bonus_after_fen),
                     _how(line), line.store, line.clerk or "—",
                     self.tr("Bill %1").replace("%1", line.bill_no) if line.bill_no
                     else short_ref(line.txn_id)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (2, 3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        # the last column takes the rest (resizing to contents drops the stretch otherwise)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setStretchLastSection(True)
        if self.lines:
            self.table.selectRow(0)

    def _after(self, _result: Any = None) -> None:
        self.busy = False
        self.changed.emit()
        self.reload()

    def refund(self) -> None:
        """The selected payment or top-up: its figures, then the refund once confirmed."""
        self.error.hide()
        row = self.table.currentRow()
        line = self.lines[row] if 0 <= row < len(self.lines) else None
        if line is None or line.kind not in ("payment", "topup") or self.balance is None:
            self.error.setText(self.tr("Select a payment or a top-up to refund."))
            self.error.show()
            return
        if line.bill_no and line.kind == "payment":  # a checkout's: from its bill (Shift+F4)
            self.show_error(PaymentOfABill(bill_no=line.bill_no))
            return
        try:
            lines = self._refund_figures(line, self.balance)
        except DomainError as e:
            self.show_error(e)
            return
        uow, mid, clerk = self.window_.uow, self.card.id, self.window_.clerk
        txn = f"refund-{line.txn_id}"[:64]
        approval = self._approval()  # money back: a manager approves (number and PIN)
        refund = sv_refunds.refund_payment if line.kind == "payment" else sv_refunds.refund_topup

        def go() -> None:
            self.ops.run(lambda: refund(uow, clerk=clerk, approver=approval(), member_id=mid,
                                        ref_txn_id=line.txn_id, txn_id=txn),
                         self._after, self.show_error)

        what = self.tr("Refund this payment?") if line.kind == "payment" \
            else self.tr("Refund this top-up?")
        ask(self, title=what, lines=lines, action=self.tr("Refund"), then=go)

    def _refund_figures(self, line: sv_ledger.LedgerLine, b: sv_ledger.Balance) -> list[str]:
        """What the refund of ``line`` will move (the core books the same: refused the same
        way when a top-up's principal is spent already)."""
        when = line.at.astimezone(self.window_.uow.clock.zone).strftime("%Y-%m-%d %H:%M")
        if line.kind == "payment":
            p, bonus = -line.principal_delta_fen, -line.bonus_delta_fen
            return [
                self.tr("Payment of %1 at %2").replace("%1", format_yuan(p + bonus)).replace(
                    "%2", when),
                self.tr("Back into the account: principal %1 + bonus %2").replace(
                    "%1", format_yuan(p)).replace("%2", format_yuan(bonus)),
                self.tr("Balance: %1 → %2").replace("%1", format_yuan(b.total_fen)).replace(
                    "%2", format_yuan(b.total_fen + p + bonus)),
            ]
        p, bonus = line.principal_delta_fen, line.bonus_delta_fen
        bonus_back, cash = sv_rules.topup_refund(p, bonus, principal_balance_fen=b.principal_fen,
                                                 bonus_balance_fen=b.bonus_fen)
        return [
            self.tr("Top-up of %1 (bonus %2) at %3").replace("%1", format_yuan(p)).replace(
                "%2", format_yuan(bonus)).replace("%3", when),
            self.tr("Cash back to the customer: %1").replace("%1", format_yuan(cash)),
            self.tr("Bonus taken back: %1").replace("%1", format_yuan(bonus_back)),
            self.tr("Balance: %1 → %2").replace("%1", format_yuan(b.total_fen)).replace(
                "%2", format_yuan(b.total_fen - p - bonus_back)),
        ]

    def _manager(self) -> Callable[[], Clerk]:
        """Who does a manager's operation here: the logged-in manager, or the manager whose
        number and PIN the cashier's screen shows typed in (checked off the GUI thread)."""
        clerk = self.window_.clerk
        if clerk.may(Action.SV_FREEZE):
            return lambda: clerk
        return self._approval()

    def toggle_freeze(self) -> None:
        if self.balance is None:
            return
        freeze = not self.balance.frozen
        reason, ok = QInputDialog.getText(
            self, self.tr("Freeze") if freeze else self.tr("Unfreeze"), self.tr("Reason:"))
        if not ok:
            return
        uow, mid, manager = self.window_.uow, self.card.id, self._manager()
        balance = format_yuan(self.balance.total_fen)

        def go() -> None:
            self.ops.run(lambda: svs.set_frozen(uow, clerk=manager(), member_id=mid,
                                               frozen=freeze, reason=reason),
                         self._after, self.show_error)

        if freeze:
            title, lines = self.tr("Freeze the stored value?"), [
                self.tr("Balance %1 can no longer be paid with until a manager unfreezes "
                        "it.").replace("%1", balance)]
        else:
            title, lines = self.tr("Unfreeze the stored value?"), [
                self.tr("Balance %1 can be paid with again.").replace("%1", balance)]
        lines.append(self.tr("Reason: %1").replace("%1", clip(reason) or "—"))
        ask(self, title=title, lines=lines,
            action=self.tr("Freeze") if freeze else self.tr("Unfreeze"), then=go)

    def set_pin(self) -> None:
        pin, ok = QInputDialog.getText(self, self.tr("Member PIN"), self.tr(
            "The member types a new 6-digit PIN:"), QLineEdit.EchoMode.Password)
        if not ok:
            return
        again, ok = QInputDialog.getText(self, self.tr("Member PIN"), self.tr(
            "The member types it again:"), QLineEdit.EchoMode.Password)
        if not ok:
            return
        if pin != again:
            self.notice.hide()
            self.error.setText(self.tr("The two PINs differ; nothing was changed."))
            self.error.show()
            return
        uow, clerk, mid, approval = (self.window_.uow, self.window_.clerk, self.card.id,
                                     self._approval())
        self.ops.run(lambda: member_auth.set_member_pin(
            uow, clerk=clerk, approver=approval(), member_id=mid, pin=pin),
            self._pin_set, self.show_error)

    def _pin_set(self, _: None) -> None:
        self.show_notice(self.tr("The member's payment PIN is set."))
        self._after()

    def provision(self) -> None:
        uow, clerk, mid, approval = (self.window_.uow, self.window_.clerk, self.card.id,
                                     self._approval())
        self.ops.run(lambda: member_auth.provision_totp(
            uow, clerk=clerk, approver=approval(), member_id=mid),
            self._provisioned, self.show_error)

    def _provisioned(self, p: member_auth.TotpProvisioning) -> None:
        self.qr.set_payload(p.uri)
        self.qr.show()
        self.show_notice(self.tr(
            "The member scans this QR code with an authenticator app, then shows its 6-digit "
            "code when paying."))
        self._after()
