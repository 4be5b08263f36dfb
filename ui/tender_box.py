"""How a checkout is paid (issue 17): the part paid from the member's stored value, behind
their PIN or dynamic code (scanned from their phone, or typed), and what is left paid in cash,
by bank card or by a third-party payment. Part of the F4 checkout dialog (ui/sale_dialog.py);
the rule is pos_member.services.checkout."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)
from shiboken6 import isValid

from pos_member.errors import DomainError
from pos_member.money import format_yuan, parse_yuan
from pos_member.services import stored_value as sv
from pos_member.services import stored_value_standing as svs
from pos_member.services.checkout import STORED_VALUE, Tender
from ui.purchases_dialog import tender_text


class TenderBox(QObject):
    """The tender rows of a checkout form. ``changed`` when the stored-value part is edited."""

    changed = Signal()

    def __init__(self, parent: QWidget, *, member: bool,
                 approval_fen: int | None = None) -> None:
        """``approval_fen``: from this stored-value amount on a manager approves (None: the
        clerk may approve themself)."""
        super().__init__(parent)
        self.approval_fen = approval_fen
        self.manager_code, self.manager_pin = QLineEdit(), QLineEdit()
        self.manager_code.setObjectName("managerCode")
        self.manager_pin.setObjectName("managerPin")
        self.manager_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.manager_code.setPlaceholderText(self.tr("manager's staff number"))
        self.manager_pin.setPlaceholderText(self.tr("manager's PIN"))
        self.approval_label = QLabel(self.tr("Manager appr&oval"))
        self.approval_label.setBuddy(self.manager_code)
        self.due: int | None = None  # what the tenders must add up to (the quote's)
        self.standing: svs.PayStanding | None = None
        self.sv_amount = QLineEdit()
        self.sv_amount.setObjectName("svAmount")
        self.sv_amount.setPlaceholderText("0.00")
        self.sv_amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.sv_amount.setEnabled(member)
        self.sv_amount.textChanged.connect(self._refresh)
        self.sv_amount.textChanged.connect(lambda _text: self.changed.emit())
        self.balance = QLabel()
        self.pin = QRadioButton(self.tr("PIN"))
        self.totp = QRadioButton(self.tr("Dynamic code"))
        self.sms = QRadioButton(self.tr("SMS code"))
        self.challenge_id: str | None = None  # the SMS code sent for this payment
        self.send_sms = QPushButton(self.tr("Send code (F6)"))
        self.send_sms.setObjectName("sendSms")
        self.send_sms.setAutoDefault(False)
        self.send_sms.hide()
        self.sms_note = QLabel()  # why the SMS code is greyed out, when it is
        self.sms_note.setObjectName("hintLabel")
        self.sms_note.hide()
        group = QButtonGroup(self)
        for b in (self.pin, self.totp, self.sms):
            group.addButton(b)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes amount → code
        self.pin.setChecked(True)
        group.buttonToggled.connect(lambda *_: self._factor_changed())
        self.secret = QLineEdit()
        self.secret.setObjectName("svSecret")
        self.secret.setMaxLength(6)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.toggled.connect(lambda on: self.secret.setEchoMode(
            QLineEdit.EchoMode.Password if on else QLineEdit.EchoMode.Normal))
        self.rest_method = QComboBox()
        self.rest_method.setObjectName("restMethod")
        for key, label in (("cash", self.tr("Cash")), ("card", self.tr("Bank card")),
                           ("third_party", self.tr("WeChat / Alipay"))):
            self.rest_method.addItem(label, key)
        self.rest = QLabel("—")
        self.rest.setObjectName("restToPay")
        for w in (self.sv_amount, self.secret, self.pin, self.totp, self.sms):
            w.setEnabled(member)
        self.sms.setEnabled(False)  # until set_sms says head office can send one

    def add_rows(self, form: QFormLayout) -> None:
        sv_row = QHBoxLayout()
        sv_row.addWidget(self.sv_amount, 1)
        sv_row.addWidget(self.balance)
        label = QLabel(self.tr("Stored &value (¥)"))
        label.setBuddy(self.sv_amount)
        form.addRow(label, sv_row)
        factor = QHBoxLayout()
        factor.addWidget(self.pin)
        factor.addWidget(self.totp)
        factor.addWidget(self.sms)
        factor.addWidget(self.secret, 1)
        factor.addWidget(self.send_sms)
        code = QLabel(self.tr("Member's P&IN / code"))
        code.setBuddy(self.secret)
        form.addRow(code, factor)
        rest = QHBoxLayout()
        rest.addWidget(self.rest_method)
        rest.addWidget(self.rest, 1)
        form.addRow("", self.sms_note)
        approval = QHBoxLayout()
        approval.addWidget(self.manager_code)
        approval.addWidget(self.manager_pin)
        form.addRow(self.approval_label, approval)
        self._show_approval()
        paid = QLabel(self.tr("Rest &paid by"))
        paid.setBuddy(self.rest_method)
        form.addRow(paid, rest)

    # -- what the dialog tells it ---------------------------------------------------------------
    def set_standing(self, standing: svs.PayStanding) -> None:
        """The member's balance, and the factor they have (the dynamic code when set up)."""
        if not isValid(self.balance):  # the checkout was closed meanwhile
            return
        self.standing = standing
        b = standing.balance
        text = self.tr("balance %1").replace("%1", format_yuan(b.total_fen))
        if b.frozen:
            text += " · " + self.tr("FROZEN")
        self.balance.setText(text)
        if standing.has_totp and not standing.has_pin:
            self.totp.setChecked(True)

    def set_sms(self, *, available: bool, connected: bool) -> None:
        """Offers the SMS code only while head office can send one; says why not."""
        member = self.sv_amount.isEnabled()
        self.sms.setEnabled(member and available)
        if self.sms.isChecked() and not self.sms.isEnabled():
            self.pin.setChecked(True)
        note = "" if available or not member else (
            self.tr("SMS code: only while the till is connected to head office.") if connected
            else self.tr("SMS code: this till is not connected to head office."))
        self.sms_note.setText(note)
        self.sms_note.setVisible(bool(note))

    def _factor_changed(self) -> None:
        self.secret.clear()
        self.challenge_id = None
        self.send_sms.setVisible(self.sms.isChecked())

    def set_due(self, due: int | None) -> None:
        self.due = due
        self._refresh()

    def take_dynamic_code(self, code: str) -> None:
        """The member's dynamic code, scanned: the factor switches to it and it is filled in."""
        self.totp.setChecked(True)
        self.secret.setText(code)

    def sv_fen(self) -> int:
        """The stored-value part typed (0 when empty or not an amount)."""
        text = self.sv_amount.text().strip().lstrip("¥")
        if not text:
            return 0
        try:
            return parse_yuan(text)
        except DomainError:
            return 0

    def needs_approval(self) -> bool:
        return self.approval_fen is not None and self.sv_fen() >= self.approval_fen

    def _show_approval(self) -> None:
        """The manager's number and PIN, only for a stored-value part that needs them."""
        shown = self.needs_approval()
        for w in (self.approval_label, self.manager_code, self.manager_pin):
            w.setVisible(shown)

    def _refresh(self) -> None:
        self._show_approval()
        if self.due is None:
            self.rest.setText("—")
        else:
            self.rest.setText(format_yuan(max(0, self.due - self.sv_fen())))

    # -- what the checkout is given -------------------------------------------------------------
    def tenders(self) -> list[Tender]:
        """The stored-value part (if any) and the rest by the chosen method (raises the
        refusal of a stored-value part that is not an amount)."""
        out: list[Tender] = []
        text = self.sv_amount.text().strip().lstrip("¥")
        stored = parse_yuan(text) if text else 0
        if stored:
            out.append(Tender(STORED_VALUE, stored))
        rest = (self.due or 0) - stored
        if rest > 0:
            out.append(Tender(self.rest_method.currentData(), rest))
        return out

    def factor(self) -> sv.Factor | None:
        code = self.secret.text().strip()
        if not code:
            return None
        if self.sms.isChecked():
            return sv.SmsFactor(self.challenge_id or "", code)
        return sv.PinFactor(code) if self.pin.isChecked() else sv.TotpFactor(code)

    @staticmethod
    def receipt_line(tenders: tuple[Tender, ...]) -> str:
        return tender_text(tuple((t.kind, t.amount_fen) for t in tenders))
