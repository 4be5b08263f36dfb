"""What the points and sale dialogs share: the error line under the form and the
Enter/Esc buttons (Enter runs the dialog's ``submit``, Esc cancels), and the form of a
manager's action."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from ui.i18n import error_text


def show_error_in(label: QLabel, error: Exception) -> None:
    label.setProperty("kind", "error")
    label.setText(error_text(error) if isinstance(error, DomainError)
                  else type(error).__name__)
    label.show()


class StatusLine(QLabel):
    """A button bar's status line, right-aligned beside the buttons, wrapping what it says (a
    saved report's path: long, and never widens the window) and never shorter than its
    wrapped text at the width it has: a window's smallest size keeps it whole (a wrapped
    label's own smallest height is that of a guessed width, which cut a path to two lines of
    its five)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._width = -1

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if self.text() and self.width() > 0:
            hint.setHeight(max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def setText(self, text: str) -> None:
        super().setText(text)
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:  # its height follows its width, not back
            self._width = event.size().width()
            self.updateGeometry()


def message_label() -> QLabel:
    """The dialog's error line, hidden until there is something to say."""
    label = QLabel()
    label.setObjectName("dialogError")
    label.setWordWrap(True)
    label.hide()
    return label


def accept_buttons(dialog: QDialog, text: str
                    ) -> tuple[QDialogButtonBox, QPushButton, QPushButton]:
    """``text`` (the default button, Enter) runs ``dialog.submit``; Cancel (Esc) rejects."""
    buttons = QDialogButtonBox()
    ok = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setDefault(True)
    cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.submit)  # type: ignore[attr-defined]
    buttons.rejected.connect(dialog.reject)
    return buttons, ok, cancel


def key_buttons(prefix: str, items: Iterable[tuple[str, str, Callable[[], object]]]
                ) -> dict[str, QPushButton]:
    """A screen's buttons by key: (key, text naming its keyboard key, slot) each, named
    ``<prefix>_<key>`` (tests find them), a click doing what the key does. Never the default
    button: Enter in a field or a table must not press one."""
    out: dict[str, QPushButton] = {}
    for key, text, slot in items:
        b = QPushButton(text)
        b.setObjectName(f"{prefix}_{key}")
        b.setAutoDefault(False)
        b.clicked.connect(slot)
        out[key] = b
    return out


def clear_on_edit(label: QLabel, *fields: QLineEdit) -> None:
    """The error line goes as soon as one of ``fields`` is typed in again: a refusal of the
    old input must not stand beside the new one."""
    for field in fields:
        field.textEdited.connect(lambda _text, label=label: label.hide())


class ManagerActionDialog(QDialog):
    """A manager's action on the member on screen (points adjustment, coupon issue and
    withdrawal): what to do, a reason, the approving manager's staff number and PIN (a logged-in
    manager leaves them empty), the error line and Check (Enter) / Cancel (Esc). The subclass
    makes its own first field and calls :meth:`lay_out`; its ``submit`` checks and confirms."""

    reason: QLineEdit
    manager: QLineEdit
    pin: QLineEdit
    message: QLabel
    buttons: QDialogButtonBox
    ok: QPushButton
    cancel: QPushButton

    def lay_out(self, label: str, first: QWidget) -> None:
        """Builds the form under ``first`` (shown as ``label``) and gives it the focus."""
        self.reason = QLineEdit()
        self.reason.setMaxLength(150)
        self.manager = QLineEdit()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = message_label()
        clear_on_edit(self.message, self.reason, self.manager, self.pin)
        form = QFormLayout()
        form.addRow(label, first)
        form.addRow(QCoreApplication.translate("ManagerActionDialog", "&Reason"), self.reason)
        form.addRow(QCoreApplication.translate("ManagerActionDialog", "&Manager's staff number"),
                    self.manager)
        form.addRow(QCoreApplication.translate("ManagerActionDialog", "Manager's &PIN"), self.pin)
        self.buttons, self.ok, self.cancel = accept_buttons(
            self, QCoreApplication.translate("ManagerActionDialog", "Check (Enter)"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        first.setFocus()
