"""F4: the checkout (issue 17): a sale for the member on screen (or a walk-in), the points to
redeem and the points it earns shown while the cashier types, then how it is paid (stored value
behind the member's PIN or dynamic code, the rest in cash, by card or a third-party payment;
ui/tender_box.py), and one receipt. The core call (pos_member.services.checkout) runs through
``Operations`` (off the GUI thread); a refusal is shown in the dialog and changes nothing."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from pos_member.errors import DomainError
from pos_member.money import format_yuan, parse_yuan
from pos_member.permissions import Role
from pos_member.services.checkout import CheckoutResult, sv_txn_id
from pos_member.services.coupon_redeem import CouponUse
from pos_member.services.member_cards import MemberCard
from pos_member.services.sales import SaleQuote, SaleResult
from pos_member.services.staff import StaffInfo
from pos_member.services.stored_value_standing import PayStanding
from ui.dialog_parts import accept_buttons, clear_on_edit, message_label, show_error_in
from ui.host import SmsService
from ui.operations import Operations
from ui.points_view import explain_earn, receipt_lines, receipt_paid_line
from ui.tender_box import TenderBox


class SaleDialog(QDialog):
    """F4: bill number, amount in yuan (parsed to fen exactly), guide, categories, points to
    redeem. The points box takes what is typed, as typed: more than the member may redeem on
    this bill (the smaller of the cap on the bill and what they can spend, in whole steps, shown
    under it) is told in the dialog and refused, never cut down. The points to be earned are
    shown, with their reasons, while the cashier types; Enter records the sale and shows the
    receipt."""

    recorded = Signal(object)  # SaleResult

    def __init__(self, *, ops: Operations, card: MemberCard | None, guides: list[StaffInfo],
                 quote: Callable[[int, int, int], SaleQuote],
                 record: Callable[..., CheckoutResult],
                 standing: Callable[[], PayStanding] | None = None,
                 sms: SmsService | None = None, phone: Callable[[], str] | None = None,
                 online: Callable[[], bool] = lambda: False,
                 approval_fen: int | None = None,
                 coupon_plan: Callable[[tuple[str, ...], int, int], list[CouponUse]]
                 | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sms, self._phone, self._online = sms, phone, online
        self.ops, self.card, self._quote, self._record = ops, card, quote, record
        self._plan = coupon_plan  # the coupons' discounts on a bill (issue 18)
        self.coupon_off = 0  # what the coupons of the latest quote take off the bill
        self.txn_id = str(uuid.uuid4())  # one dialog, one till transaction: retries repeat it
        self.result: SaleResult | None = None
        self.checkout: CheckoutResult | None = None
        self.setWindowTitle(self.tr("Checkout (F4)"))
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
        self.redeem = QLineEdit()
        self.redeem.setObjectName("redeem")
        self.redeem.setMaxLength(9)
        self.redeem.setPlaceholderText("0")
        self.redeem.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.redeem.setEnabled(card is not None)
        self.quote: SaleQuote | None = None  # the latest quote: the most the member may redeem
        self.quoted_for: tuple[Any, ...] | None = None  # what it was asked for
        self._submit_when_quoted = False
        self.coupons = QLineEdit()  # codes typed or scanned, separated by spaces
        self.coupons.setObjectName("coupons")
        self.coupons.setPlaceholderText(self.tr("scan or type the member's coupons"))
        self.coupons.setEnabled(card is not None and coupon_plan is not None)
        self.cap = QLabel()
        self.explain = QLabel()
        self.explain.setObjectName("pointsExplain")
        self.explain.setWordWrap(True)
        self.message = message_label()
        clear_on_edit(self.message, self.bill, self.amount, self.categories, self.coupons)
        form = QFormLayout()
        form.addRow(self.tr("&Bill number"), self.bill)
        form.addRow(self.tr("&Amount (¥)"), self.amount)
        form.addRow(self.tr("&Redeem points"), self.redeem)
        form.addRow("", self.cap)
        form.addRow(self.tr("&Guide"), self.guide)
        form.addRow(self.tr("&Categories"), self.categories)
        form.addRow(self.tr("C&oupons"), self.coupons)
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                item.widget().setBuddy(form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget())
        self.tenders = TenderBox(self, member=card is not None and standing is not None,
                                 approval_fen=approval_fen)
        self.tenders.add_rows(form)
        self.tenders.changed.connect(self._timer_start)
        clear_on_edit(self.message, self.redeem, self.tenders.sv_amount, self.tenders.secret)
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Pay (Enter)"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addLayout(form)
        layout.addWidget(self.explain)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # Tab: bill → amount → points → stored value → the member's code → the rest's method
        chain = [self.bill, self.amount, self.redeem, self.tenders.sv_amount,
                 self.tenders.secret, self.tenders.rest_method, self.guide, self.categories,
                 self.coupons]  # coupons come by scan: last
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self._requote)
        self.amount.textChanged.connect(self._timer.start)
        self.redeem.textChanged.connect(self._timer.start)
        self.coupons.textChanged.connect(self._timer.start)
        if standing is not None and card is not None:
            ops.run(standing, self.tenders.set_standing, lambda e: None)
        self.refresh_online()
        self.tenders.send_sms.clicked.connect(self._send_sms)
        QShortcut(QKeySequence("F6"), self, activated=self._send_sms)
        self.bill.setFocus()

    def _timer_start(self) -> None:
        self._timer.start()

    def refresh_online(self, *_: object) -> None:
        """The SMS code is offered while head office is reachable (again on each change)."""
        self.tenders.set_sms(available=self._sms is not None and self._online(),
                             connected=self._sms is not None)

    def _send_sms(self) -> None:
        """F6: head office texts the member a code for this payment (bound to the member, the
        stored-value amount and the payment's id)."""
        sms, phone, card = self._sms, self._phone, self.card
        if not self.tenders.sms.isChecked() or sms is None or phone is None or card is None:
            return
        stored = self.tenders.sv_fen()
        if not stored:
            self._say(self.tr("Type the amount paid from stored value first."))
            return
        txn = sv_txn_id(self.txn_id)
        self.ops.run(lambda: sms.sms_send(member_id=card.id, phone=phone(), amount_fen=stored,
                                          txn_id=txn),
                     self._sms_sent, lambda e: show_error_in(self.message, e))

    def _sms_sent(self, challenge_id: str) -> None:
        self.tenders.challenge_id = challenge_id
        self.tenders.sms_note.setText(self.tr("SMS code sent to the member's phone."))
        self.tenders.sms_note.show()
        self.tenders.secret.setFocus()

    def take_dynamic_code(self, code: str) -> None:
        """The member's dynamic code, scanned while the checkout is open."""
        self.tenders.take_dynamic_code(code)

    def take_coupon(self, code: str) -> None:
        """A coupon scanned while the checkout is open: added to the bill's coupons."""
        codes = self.coupon_codes()
        if code not in codes:
            self.coupons.setText(" ".join((*codes, code)))

    def coupon_codes(self) -> tuple[str, ...]:
        return tuple(self.coupons.text().split())

    def _fen(self) -> int | None:
        text = self.amount.text().strip()
        if not text:
            return None
        try:
            return parse_yuan(text)
        except DomainError:
            return None

    def points_wanted(self) -> int | None:
        """The points typed (empty: 0); None when what is typed is not a whole number."""
        text = self.redeem.text().strip().replace(",", "")
        if not text:
            return 0
        return int(text) if text.isdigit() else None

    @property
    def redeem_max(self) -> int | None:
        """The most the member may redeem on this bill (None until the amount is quoted)."""
        q = self.quote
        return None if q is None else min(q.cap_points, q.spendable) // q.redeem_step \
            * q.redeem_step

    def _requote(self) -> None:
        fen = self._fen()
        if fen is None or fen <= 0:
            self.explain.setText("")
            self.cap.setText("")
            self.quote = None
            return
        wanted, stored = self.points_wanted() or 0, self.tenders.sv_fen()
        codes, plan = self.coupon_codes(), self._plan
        key = (fen, wanted, stored, codes)

        def quote() -> tuple[SaleQuote, int]:
            off = sum(u.discount_fen for u in plan(codes, fen, wanted)) \
                if codes and plan is not None else 0
            return self._quote(fen - off, wanted, stored), off

        self.ops.run(quote, lambda got: self._show_quote(got[0], key, got[1]),
                     lambda e: show_error_in(self.message, e))

    def _quote_key(self) -> tuple[int | None, int, int, tuple[str, ...]]:
        return self._fen(), self.points_wanted() or 0, self.tenders.sv_fen(), \
            self.coupon_codes()

    def _show_quote(self, q: SaleQuote, key: tuple[Any, ...] | None = None,
                    off: int = 0) -> None:
        if self.result is not None or not isValid(self.cap):  # done, or closed meanwhile
            return
        self.quote, self.quoted_for, self.coupon_off = q, key, off
        self.tenders.set_due(q.paid_fen)
        if self.card is not None:
            self.cap.setText(self.tr(
                "At most %1 points: half the bill is %2 points, the member can spend %3")
                .replace("%1", str(self.redeem_max)).replace("%2", str(q.cap_points))
                .replace("%3", str(q.spendable)))
        refusal = self._points_refusal()
        if refusal:
            self._say(refusal)
        else:
            self.message.hide()
        text = self.tr("To pay: %1").replace("%1", format_yuan(q.paid_fen))
        if off:
            text = self.tr("Coupons: -%1").replace("%1", format_yuan(off)) + "\n" + text
        if q.earn is not None and not refusal:
            text += "\n" + explain_earn(q.earn, q.tier)
        self.explain.setText(text)
        if self._submit_when_quoted and key == self._quote_key():
            self._submit_when_quoted = False
            self.submit()

    def _points_refusal(self) -> str:
        """Why the points typed cannot be redeemed on this bill ("" when they can)."""
        wanted, top, q = self.points_wanted(), self.redeem_max, self.quote
        if wanted is None:
            return self.tr("Type the points as a whole number.")
        if wanted == 0 or q is None or top is None:
            return ""
        if wanted > top:
            why = (self.tr("half the bill is %1 points").replace("%1", str(q.cap_points))
                   if q.cap_points <= q.spendable else
                   self.tr("the member can spend %1").replace("%1", str(q.spendable)))
            return self.tr("%1 points cannot be redeemed: at most %2 on this bill (%3).") \
                .replace("%1", str(wanted)).replace("%2", str(top)).replace("%3", why)
        if wanted % q.redeem_step:
            return self.tr("Points are redeemed in steps of %1.").replace(
                "%1", str(q.redeem_step))
        return ""

    def _say(self, text: str) -> None:
        self.message.setProperty("kind", "error")
        self.message.setText(text)
        self.message.show()

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
        refusal = self._points_refusal()
        if refusal:
            self._say(refusal)
            self.redeem.setFocus()
            self.redeem.selectAll()
            return
        cats = tuple(c.strip() for c in self.categories.text().replace("，", ",").split(",")
                     if c.strip())
        try:
            tenders = self.tenders.tenders()
        except DomainError as e:
            show_error_in(self.message, e)
            return
        if self.quote is None or self.quoted_for != self._quote_key():
            # Enter before what was typed was quoted: the tenders need what is left to pay
            self._submit_when_quoted = True
            self._requote()
            return
        kw: dict[str, Any] = dict(txn_id=self.txn_id, bill_no=self.bill.text(), amount_fen=fen,
                                  member_id=self.card.id if self.card else None,
                                  guide_id=self.guide.currentData(), categories=cats,
                                  redeem_points=self.points_wanted() or 0, tenders=tenders,
                                  factor=self.tenders.factor(), online=self._online())
        if self.coupon_codes():
            kw["coupons"] = self.coupon_codes()
        if self.tenders.needs_approval():
            kw.update(manager_code=self.tenders.manager_code.text(),
                      manager_pin=self.tenders.manager_pin.text())
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._record(**kw), self._done, self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self._failed_secret()
        show_error_in(self.message, error)

    def _failed_secret(self) -> None:
        self.tenders.secret.clear()  # a wrong PIN is typed again, not edited
        self.tenders.manager_pin.clear()

    def _done(self, done: CheckoutResult) -> None:
        self.checkout, result = done, done.sale
        self.result = result
        self.message.hide()
        for w in (self.bill, self.amount, self.guide, self.categories, self.redeem, self.coupons,
                  self.tenders.sv_amount, self.tenders.secret, self.tenders.rest_method):
            w.setEnabled(False)
        lines = receipt_lines(result)
        for u in done.coupons:
            lines.append(self.tr("Coupon %1: -%2").replace("%1", u.name).replace(
                "%2", format_yuan(u.discount_fen)) + (f" · {u.gift_item}" if u.gift_item else ""))
        if done.tenders:
            lines.insert(lines.index(receipt_paid_line(result)) + 1, self.tr(
                "Paid by: %1").replace("%1", TenderBox.receipt_line(done.tenders)))
        if done.stored_value is not None:
            lines.append(self.tr("Stored value left: %1").replace(
                "%1", format_yuan(done.stored_value.balance.total_fen)))
        self.explain.setText("\n".join(lines))
        self.ok.setText(self.tr("Done (Enter)"))
        self.cancel.hide()  # recorded: nothing left to cancel
        self.ok.setEnabled(True)
        self.ok.setFocus()
        self.recorded.emit(result)
