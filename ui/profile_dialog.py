"""Completing or editing a member's profile (F6). Each saved change is an event and an audit."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import DomainError
from pos_member.services.member_cards import GENDER_LABELS, Gender, MemberCard, RevealedData
from ui.i18n import error_text, translate
from ui.operations import Operations
from ui.viewmodels import parse_birthday, parse_tags


class ProfileDialog(QDialog):
    """Name and birthday are personal data: the dialog opens with them blank unless the clerk
    revealed them (a manager); blank means "leave as it is", not "erase"."""

    saved = Signal(object)  # MemberCard

    def __init__(
        self,
        *,
        ops: Operations,
        card: MemberCard,
        save: Callable[..., MemberCard],
        revealed: RevealedData | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops, self.card, self._save = ops, card, save
        self.setMinimumWidth(480)
        self.name = QLineEdit(revealed.name or "" if revealed else "")
        self.name.setMaxLength(30)
        self.gender = QComboBox()
        self.gender.addItem("—", None)
        for g in Gender:
            self.gender.addItem(translate("members", GENDER_LABELS[g]), g)
        self.gender.setCurrentIndex(max(0, self.gender.findData(card.gender)))
        birthday = revealed.birthday.isoformat() if revealed and revealed.birthday else ""
        self.birthday = QLineEdit(birthday)
        self.birthday.setMaxLength(10)
        self.tags = QLineEdit("，".join(card.tags))
        self.marketing = QCheckBox()
        self.marketing.setChecked(card.marketing_consent)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        self._labels = [QLabel() for _ in range(5)]
        for label, field in zip(
            self._labels, (self.name, self.gender, self.birthday, self.tags, self.marketing),
            strict=True,
        ):
            label.setBuddy(field)
            form.addRow(label, field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setObjectName("hintLabel")
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        # Set once inside the dialog, so Enter keeps saving after Tab has passed over Cancel.
        self.save_button.setDefault(True)
        self.retranslate()
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Edit member %1 (F6)").replace("%1", self.card.member_no))
        for label, text in zip(
            self._labels,
            (
                self.tr("&Name"),
                self.tr("Gen&der"),
                self.tr("&Birthday"),
                self.tr("&Tags"),
                self.tr("Marketing"),
            ),
            strict=True,
        ):
            label.setText(text)
        self.hint.setText(self.tr("Blank name or birthday fields keep what is stored."))
        self.marketing.setText(self.tr("Agrees to receive &marketing messages"))
        self.birthday.setPlaceholderText(self.tr("e.g. 1990-03-14"))
        self.tags.setPlaceholderText(self.tr("separated by commas"))

    def _submit(self) -> None:
        try:
            birthday = parse_birthday(self.birthday.text())
        except DomainError as e:
            self.error.setText(error_text(e))
            self.error.show()
            return
        gender = self.gender.currentData()  # a plain str from Qt: back to the enum
        changes: dict[str, object] = {
            "gender": Gender(gender) if gender else None,
            "tags": parse_tags(self.tags.text()),
            "marketing_consent": self.marketing.isChecked(),
        }
        if self.name.text().strip():
            changes["name"] = self.name.text()
        if birthday is not None:
            changes["birthday"] = birthday
        self.save_button.setEnabled(False)
        self.ops.run(lambda: self._save(**changes), self._done, self._failed)

    def _done(self, card: MemberCard) -> None:
        self.saved.emit(card)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        message = error_text(error) if isinstance(error, DomainError) else self.tr(
            "Unexpected error: nothing was saved.")
        self.error.setText(message)
        self.error.show()
