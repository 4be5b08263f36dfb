"""Stored value at the till: the F8 top-up and F10 pay dialogs (the Shift+F10 ledger, 储值流水, with
freeze, member PIN and dynamic-code set-up is ``ui/stored_value_ledger.py``; the keys and the
card's tile are ``ui/till_stored_value.py``). Every core call runs
through the window's :class:`~ui.operations.Operations` (argon2 and the disk stay off the GUI
thread); each dialog carries its own till transaction id from the moment it opens, so a second
Enter or a retry after an error returns the first result instead of charging twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)
from shiboken6 import isValid

from pos_member import stored_value_rules as sv_rules
from pos_member.errors import DomainError, InvalidMoney
from pos_member.money import format_yuan
from pos_member.permissions import Action
from pos_member.services import stored_value as sv
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services import stored_value_standing as svs
from pos_member.services.member_cards import MemberCard
from pos_member.stored_value_errors import SmsUnavailable
from ui.stored_value_base import StoredValueDialog, amount_of

if TYPE_CHECKING:
    from ui.host import SmsService, TillHost


# -- F8 top-up -----------------------------------------------------------------------------


class TopUpDialog(StoredValueDialog):
    done = Signal(object)  # SvResult

    def __init__(self, window: TillHost, card: MemberCard) -> None:
        super().__init__(window, card)
        self.txn_id = str(uuid.uuid4())
        rules = window.uow.rules.stored_value
        self.setWindowTitle(self.tr("Top up stored value (F8)"))
        self.setMinimumWidth(640)
        title = QLabel(f"{card.member_no} · {card.name_masked or ''} {card.phone_masked}")
        title.setObjectName("dialogTitle")
        presets = QHBoxLayout()
        self.preset_buttons: list[QPushButton] = []
        for i, step in enumerate(rules.topup_bonus, start=1):
            # two lines: amount on top, bonus and shortcut below (one line did not fit)
            b = QPushButton(self.tr("%2\n+ bonus %3 · Ctrl+%1").replace("%1", str(i)).replace(
                "%2", format_yuan(step.min_fen)).replace("%3", format_yuan(step.bonus_fen)))
            b.setObjectName(f"preset{i}")
            b.clicked.connect(lambda _=False, f=step.min_fen: self.amount.setText(
                format_yuan(f, symbol=False)))
            presets.addWidget(b)
            self.preset_buttons.append(b)
            QShortcut(QKeySequence(f"Ctrl+{i}"), self, activated=b.click)
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setPlaceholderText("0.00")
        self.amount.textChanged.connect(self._preview)
        self.bonus = QLabel()
        self.bonus.setObjectName("bonusPreview")
        self._quotes = 0  # the latest preview asked for; older answers are dropped
        self.method = QComboBox()
        self.method.setObjectName("method")
        for key, label in (("cash", self.tr("Cash")), ("card", self.tr("Bank card")),
                           ("third_party", self.tr("WeChat / Alipay (reference)"))):
            self.method.addItem(label, key)
        self.reference = QLineEdit()
        self.reference.setObjectName("reference")
        self.reference.setPlaceholderText(self.tr("payment reference (third-party: required)"))
        form = QFormLayout()
        lbl = QLabel(self.tr("&Amount (¥):"))
        lbl.setBuddy(self.amount)
        form.addRow(lbl, self.amount)
        form.addRow(self.tr("Bonus:"), self.bonus)
        lbl2 = QLabel(self.tr("Paid &by:"))
        lbl2.setBuddy(self.method)
        form.addRow(lbl2, self.method)
        lbl3 = QLabel(self.tr("&Reference:"))
        lbl3.setBuddy(self.reference)
        form.addRow(lbl3, self.reference)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Top up (Enter)"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(presets)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.clear_on_edit(self.amount, self.reference)
        self._preview()
        self.amount.setFocus()

    def _preview(self) -> None:
        """Asks the core for the bonus it would book (first top-up and birthday month
        included); the answer replaces the label unless a newer amount was typed since."""
        self._quotes += 1
        asked = self._quotes
        try:
            amount = amount_of(self.amount.text())
        except InvalidMoney:
            self.bonus.setText("—")
            return
        uow, mid = self.window_.uow, self.card.id
        self.ops.run(lambda: sv.quote_topup(uow, member_id=mid, amount_fen=amount),
                     lambda q: self._quoted(asked, q), lambda e: self._quoted(asked, None))

    def _quoted(self, asked: int, quote: sv_rules.TopupQuote | None) -> None:
        if asked != self._quotes or not isValid(self):  # typed on, or closed meanwhile
            return
        if quote is None:  # an amount the top-up refuses; submitting says why
            self.bonus.setText("—")
            return
        extras = []
        rules = self.window_.uow.rules.stored_value
        if quote.first and rules.first_topup_bonus_fen:
            extras.append(self.tr("first top-up +%1").replace(
                "%1", format_yuan(rules.first_topup_bonus_fen)))
        if quote.birthday_month and rules.birthday_month_bonus_fen:
            extras.append(self.tr("birthday month +%1").replace(
                "%1", format_yuan(rules.birthday_month_bonus_fen)))
        text = format_yuan(quote.bonus_fen)
        self.bonus.setText(f"{text} ({' · '.join(extras)})" if extras else text)

    def submit(self) -> None:
        amount = self._start(self.amount)
        if amount is None:
            return
        uow, clerk, mid = self.window_.uow, self.window_.clerk, self.card.id
        method, ref, txn = self.method.currentData(), self.reference.text(), self.txn_id
        self.busy = True
        self.ops.run(lambda: sv.top_up(uow, clerk=clerk, member_id=mid, amount_fen=amount,
                                       method=method, method_ref=ref, txn_id=txn),
                     self._done, self.show_error)

    def _done(self, result: sv.SvResult) -> None:
        self.busy = False
        self.done.emit(result)
        self.accept()


# -- F10 pay -------------------------------------------------------------------------------


class PayDialog(StoredValueDialog):
    done = Signal(object)  # SvResult

    def __init__(self, window: TillHost, card: MemberCard, *, online: Callable[[], bool],
                 sms: SmsService | None, phone: Callable[[], str] | None) -> None:
        """``online`` is asked each time it matters (the connection comes and goes while the
        dialog is open); ``sms`` sends and verifies codes with head office."""
        super().__init__(window, card)
        self.txn_id = str(uuid.uuid4())
        self.bill_no: str | None = None  # the bill paid for, when the main POS asked (issue 16)
        self.online, self.sms, self.phone = online, sms, phone
        self.challenge_id: str | None = None
        self.balance: sv_ledger.Balance | None = None
        self.standing: svs.PayStanding | None = None
        self.setWindowTitle(self.tr("Pay with stored value (F10)"))
        self.setMinimumWidth(660)
        title = QLabel(f"{card.member_no} · {card.name_masked or ''} {card.phone_masked}")
        title.setObjectName("dialogTitle")
        self.balance_label = QLabel()
        self.balance_label.setObjectName("balance")
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.setPlaceholderText("0.00")
        self.amount.textChanged.connect(self._preview)
        self.split = QLabel()
        self.split.setObjectName("splitPreview")
        self.factor_pin = QRadioButton(self.tr("PIN (Ctrl+1)"))
        self.factor_totp = QRadioButton(self.tr("Dynamic code (Ctrl+2)"))
        self.factor_sms = QRadioButton(self.tr("SMS code (Ctrl+3)"))
        # Said before the member types anything: a factor greyed out and why, no PIN set,
        # what may still be paid offline today.
        self.notes = QLabel()
        self.notes.setObjectName("hintLabel")  # short lines, not wrapped
        self.refresh_online()
        self.factor_pin.setChecked(True)
        group = QButtonGroup(self)
        factors = QHBoxLayout()
        for i, b in enumerate((self.factor_pin, self.factor_totp, self.factor_sms)):
            group.addButton(b, i)
            factors.addWidget(b)
        group.idToggled.connect(lambda *_: self._factor_changed())
        for i, b in enumerate((self.factor_pin, self.factor_totp, self.factor_sms), start=1):
            QShortcut(QKeySequence(f"Ctrl+{i}"), self,
                      activated=lambda b=b: b.setChecked(True) if b.isEnabled() else None)
        self.secret = QLineEdit()
        self.secret.setObjectName("secret")
        self.secret.setMaxLength(6)
        self.send_sms = QPushButton(self.tr("Send SMS code (F4)"))
        self.send_sms.setObjectName("sendSms")
        self.send_sms.clicked.connect(self._send_sms)
        QShortcut(QKeySequence("F4"), self, activated=self._send_sms)
        secret_row = QHBoxLayout()
        secret_row.addWidget(self.secret, 1)
        secret_row.addWidget(self.send_sms)
        form = QFormLayout()
        lbl = QLabel(self.tr("&Amount (¥):"))
        lbl.setBuddy(self.amount)
        form.addRow(self.tr("Balance:"), self.balance_label)
        form.addRow(lbl, self.amount)
        form.addRow(self.tr("Paid from:"), self.split)
        form.addRow(self.tr("Verify by:"), factors)
        form.addRow("", self.notes)
        self.secret_label = QLabel()
        self.secret_label.setBuddy(self.secret)
        form.addRow(self.secret_label, secret_row)
        self.manager_code, self.manager_pin = self._approval_row(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Pay (Enter)"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.notice)
        lay.addWidget(buttons)
        self.clear_on_edit(self.amount, self.secret)
        self._factor_changed()
        self._preview()
        uow, mid, clerk = window.uow, card.id, window.clerk
        self.ops.run(lambda: svs.pay_standing(uow, clerk=clerk, member_id=mid),
                     self._got_standing, self.show_error)
        self.amount.setFocus()

    def take_dynamic_code(self, code: str) -> None:
        """A scanned dynamic payment code: the factor switches to it and the code is filled
        in; the amount keeps the focus until it is typed (Enter then pays)."""
        self.factor_totp.setChecked(True)  # clears the secret (_factor_changed)
        self.secret.setText(code)
        (self.amount if not self.amount.text() else self.secret).setFocus()

    def refresh_online(self, *_: object) -> None:
        """Offers the SMS code only while head office is reachable (called again whenever
        the sync state changes), and says why when it is not."""
        self.factor_sms.setEnabled(self.sms is not None and self.online())
        self.factor_sms.setToolTip("" if self.factor_sms.isEnabled()
                                   else self.tr("Needs the connection to head office"))
        if self.factor_sms.isChecked() and not self.factor_sms.isEnabled():
            self.factor_pin.setChecked(True)
        self._show_notes()

    def _show_notes(self) -> None:
        notes = []
        st = self.standing
        if st is not None and not st.has_pin:
            notes.append(self.tr("No payment PIN set.\nPay by dynamic code or SMS code, or a "
                                 "manager sets a PIN (Shift+F10)."))
        if st is not None and not st.has_totp:
            notes.append(self.tr("No dynamic code set up for this member."))
        if not self.factor_sms.isEnabled():
            notes.append(self.tr("SMS code: only while the till is connected to head office.")
                         if self.sms is not None else
                         self.tr("SMS code: this till is not connected to head office."))
        if not self.online() and st is not None:
            notes.append(self.tr("Offline: this member may pay at most %1 more on this till "
                                 "today.").replace("%1", format_yuan(st.offline_left_fen)))
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))

    def _got_standing(self, standing: svs.PayStanding) -> None:
        if not isValid(self) or not isValid(self.balance_label):  # closed meanwhile
            return
        self.standing = standing
        if not standing.has_pin and self.factor_pin.isChecked() and standing.has_totp:
            self.factor_totp.setChecked(True)  # the factor the member has
        self._got_balance(standing.balance)
        self._show_notes()

    def _got_balance(self, balance: sv_ledger.Balance) -> None:
        self.balance = balance
        text = self.tr("%1 (principal %2, bonus %3)").replace(
            "%1", format_yuan(balance.total_fen)).replace(
            "%2", format_yuan(balance.principal_fen)).replace("%3", format_yuan(balance.bonus_fen))
        if balance.frozen:
            text += "  " + self.tr("FROZEN")
        self.balance_label.setText(text)
        self._preview()

    def _factor_changed(self) -> None:
        self.secret.clear()
        self.challenge_id = None
        self.send_sms.setVisible(self.factor_sms.isChecked())
        pin = self.factor_pin.isChecked()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password if pin
                                else QLineEdit.EchoMode.Normal)
        self.secret_label.setText(
            self.tr("Member's P&IN:") if pin else self.tr("Scan the &code:")
            if self.factor_totp.isChecked() else self.tr("SMS &code:"))

    def _needs_approval(self, amount: int | None) -> bool:
        limit = self.window_.uow.rules.stored_value.manager_approval_fen
        return amount is not None and amount >= limit

    def _preview(self) -> None:
        try:
            amount: int | None = amount_of(self.amount.text())
        except InvalidMoney:
            amount = None
        b = self.balance
        if amount and b is not None and 0 < amount <= b.total_fen:
            p, bonus = sv_rules.split_payment(amount, b.principal_fen, b.bonus_fen)
            self.split.setText(self.tr("principal %1 + bonus %2").replace(
                "%1", format_yuan(p)).replace("%2", format_yuan(bonus)))
        elif amount and b is not None:
            self.split.setText(self.tr("more than the balance (%1)").replace(
                "%1", format_yuan(b.total_fen)))
        else:
            self.split.setText("—")
        needs = self._needs_approval(amount) and not self.window_.clerk.may(Action.SV_APPROVE)
        for w in (self.approval_label, self.manager_code, self.manager_pin):
            w.setVisible(needs)

    def _send_sms(self) -> None:
        if not self.factor_sms.isChecked() or self.sms is None or self.phone is None:
            return
        self.error.hide()
        if not self.online():
            self.show_error(SmsUnavailable())
            return
        try:
            amount = amount_of(self.amount.text())
        except DomainError as e:
            self.show_error(e)
            return
        sms, phone, mid, txn = self.sms, self.phone, self.card.id, self.txn_id
        self.ops.run(lambda: sms.sms_send(member_id=mid, phone=phone(), amount_fen=amount,
                                          txn_id=txn), self._sms_sent, self.show_error)

    def _sms_sent(self, challenge_id: str) -> None:
        self.challenge_id = challenge_id
        self.show_notice(self.tr("SMS code sent to the member's phone."))
        self.secret.setFocus()

    def submit(self) -> None:
        amount = self._start(self.amount)
        if amount is None:
            return
        # everything from the widgets and the connection is read here, on the GUI thread
        w, mid, txn, online = self.window_, self.card.id, self.txn_id, self.online()
        bill_no = self.bill_no
        secret = self.secret.text().strip()
        approval = self._approval() if self._needs_approval(amount) else None
        factor: sv.Factor | None
        if not secret:
            factor = None
        elif self.factor_pin.isChecked():
            factor = sv.PinFactor(secret)
        elif self.factor_totp.isChecked():
            factor = sv.TotpFactor(secret)
        else:  # head office checks it inside pay(), bound to member, amount and txn_id
            factor = sv.SmsFactor(self.challenge_id or "", secret)
        sms = self.sms

        def run() -> sv.SvResult:
            approver = approval() if approval is not None else None
            return sv.pay(w.uow, clerk=w.clerk, member_id=mid, amount_fen=amount, txn_id=txn,
                          factor=factor, online=online, approver=approver, sms_verifier=sms,
                          bill_no=bill_no)

        self.busy = True
        self.ops.run(run, self._done, self._failed)

    def _failed(self, e: Exception) -> None:
        self.secret.clear()  # a wrong PIN is typed again, not edited
        self.show_error(e)
        self.secret.setFocus()

    def _done(self, result: sv.SvResult) -> None:
        self.busy = False
        self.done.emit(result)
        self.accept()
