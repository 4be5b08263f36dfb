"""What the stored-value dialogs share: the error line, the guard against a second Enter while
a call is under way, the amount typed in yuan, and a manager's approval by staff number and PIN
(read on the GUI thread, checked off it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit

from pos_member.errors import DomainError
from pos_member.money import parse_yuan
from pos_member.permissions import Action, Clerk
from pos_member.services import stored_value as sv
from pos_member.services.member_cards import MemberCard
from ui.i18n import error_text

if TYPE_CHECKING:
    from ui.host import TillHost


def amount_of(text: str) -> int:
    """An amount typed in yuan (``¥`` allowed), in fen; raises the core's refusal."""
    return parse_yuan(text.strip().lstrip("¥"))


class StoredValueDialog(QDialog):
    """Error line, Enter = OK, Esc = close."""

    def __init__(self, window: TillHost, card: MemberCard) -> None:
        super().__init__(window.window())
        self.window_, self.card, self.ops = window, card, window.ops
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.notice = QLabel()  # what went right, green (a success is not an error)
        self.notice.setObjectName("dialogDone")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.busy = False

    def show_notice(self, text: str) -> None:
        self.error.hide()
        self.notice.setText(text)
        self.notice.show()

    def clear_on_edit(self, *fields: QLineEdit) -> None:
        """The error line goes as soon as one of ``fields`` is typed in again."""
        for field in fields:
            field.textEdited.connect(lambda _text: self.error.hide())

    def show_error(self, e: Exception) -> None:
        self.busy = False
        self.notice.hide()
        text = error_text(e) if isinstance(e, DomainError) else self.tr(
            "Unexpected error (%1); nothing was changed.").replace("%1", type(e).__name__)
        self.error.setText(text)
        self.error.show()

    def _start(self, amount_field: QLineEdit) -> int | None:
        """The start of a submit: None while one is under way or when the amount is refused
        (shown); else the amount in fen, the error line cleared."""
        if self.busy:
            return None
        self.error.hide()
        try:
            return amount_of(amount_field.text())
        except DomainError as e:
            self.show_error(e)
            return None

    def _approval_row(self, form: QFormLayout) -> tuple[QLineEdit, QLineEdit]:
        code, pin = QLineEdit(), QLineEdit()
        code.setObjectName("managerCode")
        pin.setObjectName("managerPin")
        pin.setEchoMode(QLineEdit.EchoMode.Password)
        code.setPlaceholderText(self.tr("manager's staff number"))
        pin.setPlaceholderText(self.tr("manager's PIN"))
        row = QHBoxLayout()
        row.addWidget(code)
        row.addWidget(pin)
        self.approval_label = QLabel(self.tr("Manager &approval:"))
        self.approval_label.setBuddy(code)
        form.addRow(self.approval_label, row)
        return code, pin

    def _approval(self) -> Callable[[], Clerk]:
        """Reads the manager's number and PIN now (GUI thread: widgets are not touched from
        the pool); the call it returns checks them (argon2: run it off the GUI thread) and
        gives the logged-in manager, or the one who typed number and PIN."""
        uow, clerk = self.window_.uow, self.window_.clerk
        code, pin = self.manager_code.text(), self.manager_pin.text()

        def check() -> Clerk:
            if clerk.may(Action.SV_APPROVE) and not code.strip():
                return clerk
            return sv.approve(uow, code=code, pin=pin, device_id=clerk.device_id)
        return check
