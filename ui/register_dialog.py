"""Registering a member, by keyboard alone: phone, Space on the consent box, Enter.

Tab order: phone → privacy consent → marketing consent → guide → source → name → gender →
birthday → tags → referrer → Register. Errors show inline; a duplicate phone offers to open the
existing member (Alt+O).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_member.errors import ConsentRequired, DomainError, DuplicatePhone
from pos_member.permissions import Clerk, Role
from pos_member.services.member_cards import (
    CHANNEL_LABELS,
    GENDER_LABELS,
    Channel,
    Gender,
    MemberCard,
)
from pos_member.services.staff import StaffInfo
from ui.i18n import error_text, translate
from ui.operations import Operations
from ui.viewmodels import parse_birthday, parse_tags

# The last guide chosen on this till: the next registration probably comes from the same person.
_last_guide: dict[str, str | None] = {"id": None}


class RegisterDialog(QDialog):
    registered = Signal(object)  # MemberCard
    open_existing = Signal(str)  # member id

    def __init__(
        self,
        *,
        ops: Operations,
        register: Callable[..., MemberCard],
        clerk: Clerk,
        guides: list[StaffInfo],
        privacy_version: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops, self.clerk, self._register = ops, clerk, register
        self._duplicate_id: str | None = None
        self.setObjectName("registerDialog")
        self.setMinimumWidth(640)

        self.privacy_version = privacy_version
        self._build_fields(guides, clerk)

        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        self.open_button = QPushButton()
        self.open_button.setObjectName("openExisting")
        self.open_button.hide()
        self.open_button.clicked.connect(self._open_existing)

        self._build_form()

        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton("", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        err_row = QHBoxLayout()
        err_row.addWidget(self.error, 1)
        err_row.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        layout.addLayout(self.form)
        layout.addLayout(err_row)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does it become the dialog's main default,
        # the one Enter goes back to after the open button (auto-default) has had the focus.
        self.ok.setDefault(True)

        self._set_tab_order()
        self.retranslate()
        self.phone.setFocus()

    def _build_fields(self, guides: list[StaffInfo], clerk: Clerk) -> None:
        self.phone = QLineEdit()
        self.phone.setObjectName("phoneField")
        self.phone.setMaxLength(30)
        self.phone.setInputMethodHints(Qt.InputMethodHint.ImhDialableCharactersOnly)
        self.privacy = QCheckBox()
        self.marketing = QCheckBox()
        self.guide = QComboBox()
        self.guide.addItem("—", None)
        for g in guides:
            self.guide.addItem(f"{g.name} ({g.code})", g.id)
        preset = clerk.staff_id if clerk.role is Role.GUIDE else _last_guide["id"]
        if preset is not None and (i := self.guide.findData(preset)) >= 0:
            self.guide.setCurrentIndex(i)
        self.channel = QComboBox()
        for ch in Channel:
            if ch is not Channel.IMPORT:
                self.channel.addItem("", ch)
        self.guide.currentIndexChanged.connect(self._guide_changed)
        self._guide_changed()
        self.name = QLineEdit()
        self.name.setMaxLength(30)
        self.gender = QComboBox()
        self.gender.addItem("—", None)
        for g in Gender:
            self.gender.addItem("", g)
        self.birthday = QLineEdit()
        self.birthday.setMaxLength(10)
        self.tags = QLineEdit()
        self.referrer = QLineEdit()
        self.referrer.setMaxLength(40)

    def _build_form(self) -> None:
        """Required · who recruited · the optional profile, separated by lines."""
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setVerticalSpacing(8)
        self._labels = [QLabel() for _ in range(9)]
        for label, field in zip(
            self._labels,
            (self.phone, self.privacy, self.marketing, self.guide, self.channel, self.name,
             self.gender, self.birthday, self.tags),
            strict=True,
        ):
            label.setBuddy(field)
            if field is self.guide or field is self.name:
                self.form.addRow(_separator())  # required · who recruited · optional profile
            self.form.addRow(label, field)
        self.referrer_label = QLabel()
        self.referrer_label.setBuddy(self.referrer)
        self.form.addRow(self.referrer_label, self.referrer)

    def _set_tab_order(self) -> None:
        for w in (self.phone, self.privacy, self.marketing, self.guide, self.channel, self.name,
                  self.gender, self.birthday, self.tags, self.referrer, self.ok, self.cancel):
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        QWidget.setTabOrder(self.phone, self.privacy)
        QWidget.setTabOrder(self.privacy, self.marketing)
        QWidget.setTabOrder(self.marketing, self.guide)
        QWidget.setTabOrder(self.guide, self.channel)
        QWidget.setTabOrder(self.channel, self.name)
        QWidget.setTabOrder(self.name, self.gender)
        QWidget.setTabOrder(self.gender, self.birthday)
        QWidget.setTabOrder(self.birthday, self.tags)
        QWidget.setTabOrder(self.tags, self.referrer)
        QWidget.setTabOrder(self.referrer, self.ok)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Register member (F2)"))
        texts = (
            self.tr("&Phone *"),
            self.tr("Privacy *"),
            self.tr("Marketing"),
            self.tr("&Guide"),
            self.tr("&Source"),
            self.tr("&Name"),
            self.tr("Gen&der"),
            self.tr("&Birthday"),
            self.tr("&Tags"),
        )
        for label, text in zip(self._labels, texts, strict=True):
            label.setText(text)
        self.referrer_label.setText(self.tr("&Referrer"))
        self.phone.setPlaceholderText(self.tr("11-digit mobile number"))
        self.privacy.setText(
            self.tr("Member &agrees to the privacy policy (version %1)").replace(
                "%1", self.privacy_version)
        )
        self.marketing.setText(self.tr("Member agrees to receive &marketing messages (optional)"))
        for i in range(self.channel.count()):
            ch = self.channel.itemData(i)
            self.channel.setItemText(i, translate("members", CHANNEL_LABELS[ch]))
        for i in range(1, self.gender.count()):
            g = self.gender.itemData(i)
            self.gender.setItemText(i, translate("members", GENDER_LABELS[g]))
        self.name.setPlaceholderText(self.tr("optional"))
        self.birthday.setPlaceholderText(self.tr("optional, e.g. 1990-03-14"))
        self.tags.setPlaceholderText(self.tr("optional, separated by commas"))
        self.referrer.setPlaceholderText(self.tr("referring member's number or phone (referral)"))
        self.ok.setText(self.tr("Register (Enter)"))
        self.open_button.setText(self.tr("&Open existing member"))

    def _guide_changed(self) -> None:
        want = Channel.GUIDE if self.guide.currentData() else Channel.WALK_IN
        current = self.channel.currentData()
        if current in (None, Channel.GUIDE, Channel.WALK_IN):
            self.channel.setCurrentIndex(self.channel.findData(want))

    def show_error(self, message: str, *, duplicate_id: str | None = None) -> None:
        self.error.setText(message)
        self.error.show()
        self._duplicate_id = duplicate_id
        self.open_button.setVisible(duplicate_id is not None)

    def _submit(self) -> None:
        self.error.hide()
        self.open_button.hide()
        try:
            birthday = parse_birthday(self.birthday.text())
        except DomainError as e:
            self.show_error(error_text(e))
            self.birthday.setFocus()
            return
        guide_id = self.guide.currentData()
        # Qt hands item data of a StrEnum back as a plain str: turn it into the enum again.
        gender = self.gender.currentData()
        kwargs = dict(
            clerk=self.clerk,
            phone=self.phone.text(),
            privacy_consent=self.privacy.isChecked(),
            marketing_consent=self.marketing.isChecked(),
            name=self.name.text() or None,
            gender=Gender(gender) if gender else None,
            birthday=birthday,
            tags=parse_tags(self.tags.text()),
            channel=Channel(self.channel.currentData()),
            guide_id=guide_id,
            referrer=self.referrer.text().strip() or None,
        )
        self.ok.setEnabled(False)
        self.ops.run(lambda: self._register(**kwargs), self._done, self._failed)

    def _done(self, card: MemberCard) -> None:
        _last_guide["id"] = self.guide.currentData()
        self.ok.setEnabled(True)
        self.registered.emit(card)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        if not isinstance(error, DomainError):
            self.show_error(self.tr("Unexpected error: the registration was not saved."))
            return
        if isinstance(error, DuplicatePhone):
            self.show_error(error_text(error), duplicate_id=error.member_id or None)
            self.open_button.setFocus()
            return
        self.show_error(error_text(error))
        (self.privacy if isinstance(error, ConsentRequired) else self.phone).setFocus()

    def _open_existing(self) -> None:
        if self._duplicate_id:
            self.open_existing.emit(self._duplicate_id)
            self.reject()


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setObjectName("formSeparator")
    return line
