"""Ctrl+K: a coupon of the rules for the member on screen, by hand, with a reason; a manager
approves with their staff number and PIN (a logged-in manager leaves them empty). Enter checks
and shows what will be issued; only Ctrl+Enter there issues it (``ui.confirm``). A refusal is
shown and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QWidget

from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.rules_config import CouponTemplate
from pos_member.services.coupons import IssuedCoupon
from pos_member.services.member_cards import MemberCard
from ui.confirm import ask, clip
from ui.dialog_parts import ManagerActionDialog, show_error_in
from ui.operations import Operations


class CouponIssueDialog(ManagerActionDialog):
    issued = Signal(object)  # IssuedCoupon

    def __init__(self, *, ops: Operations, card: MemberCard,
                 templates: tuple[CouponTemplate, ...], describe: Callable[[CouponTemplate], str],
                 issue: Callable[..., IssuedCoupon], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.card, self._issue = ops, card, issue
        self.confirming: QDialog | None = None  # the confirmation step, while open
        self.txn_id = str(uuid.uuid4())  # one dialog, one coupon: a retry repeats it
        self.setWindowTitle(self.tr("A coupon for %1 (Ctrl+K)").replace("%1", card.member_no))
        self.setMinimumWidth(480)
        self.template = QComboBox()
        for t in templates:
            self.template.addItem(f"{t.name} · {describe(t)}", t.code)
        self.lay_out(self.tr("&Coupon"), self.template)

    def submit(self) -> None:
        reason = " ".join(self.reason.text().split())
        if not reason or self.template.currentData() is None:
            show_error_in(self.message, InvalidInput(QT_TRANSLATE_NOOP(
                "errors", "Give the reason for the coupon.")))
            self.reason.setFocus()
            return
        self.message.hide()
        kw = dict(txn_id=self.txn_id, template_code=self.template.currentData(), reason=reason,
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._issue(**kw), self._done, self._failed)

        ask(self, title=self.tr("Issue a coupon to %1?").replace("%1", self.card.member_no),
            lines=[self.tr("Coupon: %1").replace("%1", self.template.currentText()),
                   self.tr("Reason: %1").replace("%1", clip(reason))],
            action=self.tr("Issue"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        show_error_in(self.message, error)

    def _done(self, result: IssuedCoupon) -> None:
        self.issued.emit(result)
        self.accept()
