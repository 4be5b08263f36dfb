"""The login window: staff number and personal PIN (or password), language switch."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.permissions import Clerk
from ui.i18n import error_text
from ui.operations import Operations


class LoginWindow(QWidget):
    logged_in = Signal(object)  # Clerk
    language_chosen = Signal(str)

    def __init__(
        self,
        *,
        store_name: str,
        login: Callable[[str, str], Clerk],
        language: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("loginWindow")
        self._login = login
        self._ready = True
        self._submit_when_ready = False
        self.ops = Operations(self._failed, self)
        self.store = QLabel(store_name)
        self.store.setObjectName("storeName")
        self.store.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading = QLabel()
        self.heading.setObjectName("appTitle")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.code = QLineEdit()
        self.code.setObjectName("staffCode")
        self.code.setMaxLength(8)
        self.pin = QLineEdit()
        self.pin.setObjectName("staffPin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(64)
        self.code.returnPressed.connect(self.pin.setFocus)
        # A refusal goes away as soon as the number or the PIN is typed again (a till that
        # could not open keeps saying why: logging in stays off).
        self.code.textEdited.connect(self._edited)
        self.pin.textEdited.connect(self._edited)
        self.pin.returnPressed.connect(self.submit)
        self.button = QPushButton()
        self.button.setObjectName("loginButton")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        self.language = QComboBox()
        self.language.addItem("中文", "zh_CN")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        self.language.currentIndexChanged.connect(
            lambda: self.language_chosen.emit(self.language.currentData())
        )

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.code_label, self.pin_label, self.lang_label = QLabel(), QLabel(), QLabel()
        self.code_label.setBuddy(self.code)
        self.pin_label.setBuddy(self.pin)
        self.lang_label.setBuddy(self.language)
        form.addRow(self.code_label, self.code)
        form.addRow(self.pin_label, self.pin)
        form.addRow(self.lang_label, self.language)

        panel = QFrame()
        panel.setObjectName("loginPanel")
        inner = QVBoxLayout(panel)
        inner.setContentsMargins(36, 28, 36, 28)
        inner.setSpacing(14)
        inner.addWidget(self.heading)
        inner.addWidget(self.store)
        inner.addSpacing(8)
        inner.addLayout(form)
        inner.addWidget(self.error)
        inner.addWidget(self.button)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.resize(720, 520)
        self.retranslate()
        self.code.setFocus()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("POS Member — log in"))
        self.heading.setText(self.tr("POS Member"))
        self.code_label.setText(self.tr("&Staff number"))
        self.pin_label.setText(self.tr("&PIN"))
        self.lang_label.setText(self.tr("&Language"))
        self.code.setPlaceholderText(self.tr("e.g. 1001"))
        self.pin.setPlaceholderText(self.tr("personal PIN or password"))
        self.button.setText(
            self.tr("Log in (Enter)") if self._ready else self.tr("Opening the till…"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def set_ready(self, ready: bool) -> None:
        """Before the core is open the form can be filled in; Enter then logs in once ready."""
        self._ready = ready
        self.button.setEnabled(ready)
        if not ready:
            self.button.setText(self.tr("Opening the till…"))
            return
        self.retranslate()
        if self._submit_when_ready:
            self._submit_when_ready = False
            self.submit()

    def show_failure(self, error: Exception) -> None:
        """The core could not be opened (no keyring, no store): say so; logging in stays off."""
        self._failed(error)
        self.button.setEnabled(False)

    def _edited(self, _text: str) -> None:
        if self.button.isEnabled() or not self._ready:
            self.error.hide()

    def reset(self) -> None:
        """After a logout: an empty form for the next person (the last one's number left in
        the field had the next number typed on after it)."""
        self.code.clear()
        self.pin.clear()
        self.error.hide()
        self.button.setEnabled(True)
        self.code.setFocus()

    def submit(self) -> None:
        code, secret = self.code.text().strip(), self.pin.text()
        if not code or not secret:
            self._show(self.tr("Enter your staff number and PIN."))
            (self.code if not code else self.pin).setFocus()
            return
        if not self._ready:
            self._submit_when_ready = True
            return
        self.button.setEnabled(False)
        self.ops.run(lambda: self._login(code, secret), self._done)

    def _done(self, clerk: Clerk) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        self.error.hide()
        self.logged_in.emit(clerk)

    def _failed(self, error: Exception) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        self.pin.setFocus()
        if isinstance(error, DomainError):
            self._show(error_text(error))
        else:
            self._show(self.tr("Unexpected error: %1").replace("%1", type(error).__name__))

    def _show(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
