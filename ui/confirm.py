"""The last step of an action that gives money or points away, or blocks them, and that the
clerk who did it cannot undo (a refund, a gift exchange, an adjustment, a freeze): what will
happen, in figures, and a deliberate confirmation. Enter and Esc go back; only Ctrl+Enter or a
click on the action's own button does it (docs/rules.md, "Money never moves on Enter").

Used by the dialogs of those actions: their own Enter opens this step instead of running the
action, so a reflexive Enter, or several, moves nothing. The line under the figures asks the
clerk to check them with the customer; an action with no customer at the counter (a recall
message) gives its own line, or none (``check``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def clip(text: str, n: int = 40) -> str:
    """A free text (a reason) cut to fit one line of the figures."""
    return text if len(text) <= n else text[: n - 1] + "…"


class _Customer:
    """``check``'s default: the figures are checked with the customer at the counter."""


CUSTOMER = _Customer()


class ConfirmDialog(QDialog):
    """Figures, Back (the default: Enter, Esc) and the action (Ctrl+Enter or a click)."""

    confirmed = Signal()

    def __init__(self, parent: QWidget, *, title: str, lines: Sequence[str], action: str,
                 check: str | _Customer | None = CUSTOMER) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        self.figures = QLabel("\n".join(lines))  # short lines, never wrapped (each a figure)
        self.figures.setObjectName("confirmFigures")
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        if isinstance(check, _Customer):
            check = self.tr("Check the figures with the customer.")
        keys = self.tr("Ctrl+Enter confirms; Enter or Esc goes back and changes nothing.")
        self.hint = QLabel("\n".join(filter(None, (check, keys))))  # short lines, not wrapped
        self.hint.setObjectName("hintLabel")
        buttons = QDialogButtonBox()
        self.back = buttons.addButton(self.tr("Back (Enter/Esc)"),
                                      QDialogButtonBox.ButtonRole.RejectRole)
        self.go = QPushButton(self.tr("%1 (Ctrl+Enter)").replace("%1", action))
        self.go.setObjectName("confirmAction")
        self.go.setAutoDefault(False)  # focused or not, Enter never presses it
        buttons.addButton(self.go, QDialogButtonBox.ButtonRole.ActionRole)
        self.back.setDefault(True)
        self.go.clicked.connect(self._confirm)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self._confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.figures)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self.back.setFocus()

    def _confirm(self) -> None:
        if not self.isVisible():
            return
        self.accept()
        self.confirmed.emit()


def ask(parent: QWidget, *, title: str, lines: Sequence[str], action: str,
        then: Callable[[], None], check: str | _Customer | None = CUSTOMER) -> ConfirmDialog:
    """Opens the confirmation over ``parent`` (window-modal, non-blocking); ``then`` runs
    only when the clerk confirms. Kept as ``parent.confirming`` while open (tests drive it).
    ``check``: the line under the figures (default: check them with the customer; None: no
    line)."""
    dialog = ConfirmDialog(parent, title=title, lines=lines, action=action, check=check)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.confirmed.connect(then)
    parent.confirming = dialog  # type: ignore[attr-defined]

    def closed() -> None:
        if getattr(parent, "confirming", None) is dialog:
            parent.confirming = None  # type: ignore[attr-defined]

    dialog.finished.connect(closed)
    dialog.open()
    return dialog
