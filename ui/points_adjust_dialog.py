"""Ctrl+F7: a manual points adjustment, approved by a manager's staff number and PIN. Enter
checks the inputs and shows the balance before and after; only a deliberate Ctrl+Enter there
adjusts (``ui.confirm``). The core checks the adjustment before the PIN; a refusal is shown and
changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QSpinBox, QWidget

from pos_member.errors import DomainError
from pos_member.services.member_cards import MemberCard
from pos_member.services.points import PointsOpResult, PointsSummary, check_adjustment
from ui.confirm import ask, clip
from ui.dialog_parts import ManagerActionDialog, show_error_in
from ui.operations import Operations


class AdjustDialog(ManagerActionDialog):
    """Ctrl+F7: a manual adjustment; a manager enters their staff number and PIN here."""

    adjusted = Signal(object)  # PointsOpResult

    def __init__(self, *, ops: Operations, card: MemberCard,
                 adjust: Callable[..., PointsOpResult], load: Callable[[], PointsSummary],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self._adjust, self._load, self.card = ops, adjust, load, card
        self.confirming: QDialog | None = None
        self.txn_id = str(uuid.uuid4())
        self.setWindowTitle(self.tr("Adjust points of %1 (Ctrl+F7)").replace(
            "%1", card.member_no))
        self.setMinimumWidth(480)
        self.points = QSpinBox()
        self.points.setRange(-1_000_000, 1_000_000)
        self.lay_out(self.tr("&Points (+ or −)"), self.points)
        self.points.valueChanged.connect(lambda _: self.message.hide())
        self.points.selectAll()

    def submit(self) -> None:
        """Checks what needs nothing stored, then shows the figures for confirmation."""
        n = self.points.value()
        try:
            reason = check_adjustment(points=n, reason=self.reason.text())
        except DomainError as e:
            show_error_in(self.message, e)
            return
        self.message.hide()
        kw = dict(txn_id=self.txn_id, points=n, reason=reason,
                  manager_code=self.manager.text().strip(), manager_pin=self.pin.text())
        self.ok.setEnabled(False)
        self.ops.run(self._load, lambda s: self._confirm(s, kw), self._failed)

    def _confirm(self, summary: PointsSummary, kw: dict[str, object]) -> None:
        self.ok.setEnabled(True)
        n = int(kw["points"])  # type: ignore[call-overload]
        lines = [
            self.tr("Points: %1").replace("%1", f"{n:+d}"),
            self.tr("Balance: %1 → %2").replace("%1", str(summary.balance)).replace(
                "%2", str(summary.balance + n)),
            self.tr("Reason: %1").replace("%1", clip(str(kw["reason"]))),
        ]

        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(lambda: self._adjust(**kw), self._done, self._failed)

        ask(self, title=self.tr("Adjust the points of %1?").replace("%1", self.card.member_no),
            lines=lines, action=self.tr("Adjust"), then=go)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.pin.clear()
        show_error_in(self.message, error)

    def _done(self, result: PointsOpResult) -> None:
        self.adjusted.emit(result)
        self.accept()
