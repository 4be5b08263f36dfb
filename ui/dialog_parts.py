"""What the points and sale dialogs share: the error line under the form and the
Enter/Esc buttons (Enter runs the dialog's ``submit``, Esc cancels)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton

from pos_member.errors import DomainError
from ui.i18n import error_text


def show_error_in(label: QLabel, error: Exception) -> None:
    label.setProperty("kind", "error")
    label.setText(error_text(error) if isinstance(error, DomainError)
                  else type(error).__name__)
    label.show()


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


def clear_on_edit(label: QLabel, *fields: QLineEdit) -> None:
    """The error line goes as soon as one of ``fields`` is typed in again: a refusal of the
    old input must not stand beside the new one."""
    for field in fields:
        field.textEdited.connect(lambda _text, label=label: label.hide())
