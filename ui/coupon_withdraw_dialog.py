"""Ctrl+Shift+K: a manager withdraws one of the member's usable coupons (issued by mistake,
or abused), with a reason; a manager approves with their staff number and PIN (a logged-in
manager leaves them empty). Enter checks and shows what will be withdrawn; only Ctrl+Enter
there withdraws it (``ui.confirm``). A refusal is shown and changes nothing. A withdrawn
coupon is refused at every till once pulled (docs/rules.md, "Coupons")."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QWidget

from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.services.coupons import CouponView, WithdrawnCoupon
from pos_member.services.member_cards import MemberCard
from ui.confirm import ask, clip
from ui.dialog_parts import ManagerActionDialog, show_error_in
from ui.operations import Operations


class CouponWithdrawDialog(ManagerActionDialog):
    withdrawn = Signal(object)  # WithdrawnCoupon

    def __init__(self, *, ops: Operations, card: MemberCard,
                 load: Callable[[], list[CouponView]],
                 describe: Callable[[CouponView], tuple[str, str]],
                 withdraw: Callable[..., WithdrawnCoupon],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.card, self._withdraw, self._describe = ops, card, withdraw, describe
        self.confirming: QDialog | None = None  # the confirmation step, while open
        self._short: dict[str, str] = {}  # each coupon's name and terms, for the confirmation
        self.setWindowTitle(self.tr("Withdraw a coupon of %1 (Ctrl+Shift+K)")
                            .replace("%1", card.member_no))
        self.setMinimumWidth(780)
        self.coupon = QComboBox()
        self.coupon.setObjectName("coupon")
        # A coupon's line (name, terms, last day, code) elides rather than widening the dialog
        self.coupon.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.coupon.setMinimumContentsLength(70)
        self.coupon.setPlaceholderText(self.tr("loading the member's coupons…"))
        self.lay_out(self.tr("&Coupon"), self.coupon)
        ops.run(load, self._loaded, lambda e: show_error_in(self.message, e))

    def _loaded(self, coupons: list[CouponView]) -> None:
        self.coupon.clear()
        self._short.clear()
        for c in coupons:
            line, self._short[c.key] = self._describe(c)
            self.coupon.addItem(line, c.key)
        if not coupons:
            self.coupon.setPlaceholderText(self.tr("The member has no usable coupon."))
        else:
            self.coupon.setCurrentIndex(0)  # with a placeholder, Qt selects none by itself

    def submit(self) -> None:
        if self.coupon.currentData() is None:
            self.coupon.setFocus()
            return
        reason = " ".join(self.reason.text().split())
        if not reason:
            show_error_in(self.message, InvalidInput(QT_TRANSLATE_NOOP(
                "errors", "Give the reason for the coupon.")))
            self.reason.setFocus()
            return
        self.message.hide()
        key = self.coupon.currentData()
        kw = dict(key=key, reason=reason,
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._withdraw(**kw), self._done, self._failed)

        ask(self, title=self.tr("Withdraw a coupon of %1?").replace("%1", self.card.member_no),
            lines=[self.tr("Coupon: %1").replace("%1", self._short[key]),
                   self.tr("Reason: %1").replace("%1", clip(reason)),
                   self.tr("It can no longer be used at any store.")],
            action=self.tr("Withdraw"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        show_error_in(self.message, error)

    def _done(self, result: WithdrawnCoupon) -> None:
        self.withdrawn.emit(result)
        self.accept()
