"""Ctrl+M: member service on the card on screen (issue 20): status, a tier set by hand, a lost
card's re-issue, a phone change, erasure and consent. One tab each; every tab's Enter checks
and shows the figures, and only a deliberate Ctrl+Enter there does it (``ui.confirm``).

The dialog gets plain callables (the till feature binds them to the core), so tests drive it
with the real services and no window around it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_member.services.member_cards import TIER_LABELS, MemberCard
from ui.confirm import ask, clip
from ui.dialog_parts import accept_buttons, message_label, show_error_in
from ui.i18n import translate
from ui.operations import Operations

Call = Callable[..., Any]


class MemberServiceDialog(QDialog):
    """The member service tabs; ``done`` carries the service's result (its ``changes``).
    ``today``: the store's date (the tier's end defaults to three months on)."""

    done = Signal(object)

    def __init__(self, *, ops: Operations, card: MemberCard, calls: dict[str, Call],
                 tiers: Sequence[str], zone: tzinfo, today: date, may_manage: bool,
                 online: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.card, self.calls, self.zone = ops, card, calls, zone
        self.confirming: QDialog | None = None
        self.challenge: str | None = None
        self.setWindowTitle(self.tr("Member service: %1 (Ctrl+M)").replace("%1", card.member_no))
        self.setMinimumWidth(560)
        self.tabs = QTabWidget()
        self.message = message_label()
        self.status, self.status_reason = QComboBox(), _reason()
        for code, label in (("normal", self.tr("Normal")), ("frozen", self.tr("Frozen")),
                            ("blacklisted", self.tr("Blacklisted"))):
            self.status.addItem(label, code)
        self.status.setCurrentIndex(max(0, self.status.findData(card.standing)))
        self._tab(self.tr("Status"), may_manage,
                  [(self.tr("&Status"), self.status), (self.tr("&Reason"), self.status_reason)])
        self.tier, self.tier_until, self.tier_reason = QComboBox(), QDateEdit(), _reason()
        for code in tiers:
            self.tier.addItem(translate("members", TIER_LABELS.get(code, code)), code)
        self.tier_until.setCalendarPopup(True)
        # The store's date from the injected clock, never the PC's own (``QDate.currentDate``).
        self.tier_until.setDate(QDate(today.year, today.month, today.day).addMonths(3))
        self._tab(self.tr("Tier"), may_manage,
                  [(self.tr("&Tier"), self.tier), (self.tr("&Until"), self.tier_until),
                   (self.tr("&Reason"), self.tier_reason)])
        self.card_reason = _reason()
        self._tab(self.tr("Lost card"), may_manage,
                  [(self.tr("&Reason"), self.card_reason)])
        self.phone, self.sms_code, self.member_pin = QLineEdit(), QLineEdit(), QLineEdit()
        self.manager, self.manager_pin = QLineEdit(), QLineEdit()
        for secret in (self.member_pin, self.manager_pin):
            secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.send = QPushButton(self.tr("Send a code to the new phone"))
        self.send.setAutoDefault(False)
        self.send.setEnabled(online)
        self.send.clicked.connect(self.send_code)
        self._tab(self.tr("Phone"), True,
                  [(self.tr("&New phone"), self.phone), ("", self.send),
                   (self.tr("SMS &code"), self.sms_code),
                   (self.tr("Offline: member's PIN or dynamic code"), self.member_pin),
                   (self.tr("Manager's staff number"), self.manager),
                   (self.tr("Manager's PIN"), self.manager_pin)])
        self.erase_note = QLabel(self.tr(
            "Erasing removes the phone, name, birthday, gender and tags at every till and at "
            "head office. Purchases and ledgers stay, under the member number. The stored-"
            "value balance must be 0 first, at this till and at head office: the till must be "
            "online. This cannot be undone."))
        self.erase_note.setWordWrap(True)
        self.marketing = QPushButton(self.tr("Withdraw marketing consent"))
        self.marketing.setAutoDefault(False)
        self.marketing.setEnabled(card.marketing_consent and not card.erased)
        self.marketing.clicked.connect(self.withdraw_marketing)
        self._tab(self.tr("Privacy"), True, [("", self.marketing), ("", self.erase_note)])
        self.buttons, self.ok, self.cancel = accept_buttons(self, self.tr("Check (Enter)"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _tab(self, title: str, enabled: bool, rows: list[tuple[str, QWidget]]) -> None:
        page = QWidget()
        form = QFormLayout(page)
        for label, field in rows:
            form.addRow(label, field)
        page.setEnabled(enabled)
        self.tabs.addTab(page, title)

    # -- the tabs' Enter ------------------------------------------------------------------------
    def submit(self) -> None:
        self.message.hide()
        [self._status, self._tier, self._card, self._phone, self._erase][
            self.tabs.currentIndex()]()

    def _confirm(self, title: str, lines: list[str], action: str, call: Callable[[], Any]
                 ) -> None:
        def go() -> None:
            self.ok.setEnabled(False)
            self.ops.run(call, self._done, self._failed)

        ask(self, title=title, lines=lines, action=action, then=go)

    def _status(self) -> None:
        status, reason = self.status.currentData(), self.status_reason.text().strip()
        self._confirm(self.tr("Change the status of %1?").replace("%1", self.card.member_no),
                      [self.tr("Status: %1 → %2").replace(
                          "%1", self.status.itemText(max(0, self.status.findData(
                              self.card.standing))))
                       .replace("%2", self.status.currentText()),
                       self.tr("Reason: %1").replace("%1", clip(reason))],
                      self.tr("Change status"),
                      lambda: self.calls["status"](status=status, reason=reason))

    def _tier(self) -> None:
        day: date = self.tier_until.date().toPython()  # type: ignore[assignment]
        until = datetime.combine(day, time(23, 59), self.zone).astimezone(UTC)
        tier, reason = self.tier.currentData(), self.tier_reason.text().strip()
        self._confirm(self.tr("Set the tier of %1 by hand?").replace("%1", self.card.member_no),
                      [self.tr("Tier: %1 until %2").replace("%1", self.tier.currentText())
                       .replace("%2", day.isoformat()),
                       self.tr("Reason: %1").replace("%1", clip(reason))],
                      self.tr("Set tier"),
                      lambda: self.calls["tier"](tier=tier, until=until, reason=reason))

    def _card(self) -> None:
        reason = self.card_reason.text().strip()
        self._confirm(self.tr("Re-issue the card of %1?").replace("%1", self.card.member_no),
                      [self.tr("The old card stops working at every till once synced."),
                       self.tr("Card: %1 → %2").replace("%1", str(self.card.card_generation))
                       .replace("%2", str(self.card.card_generation + 1)),
                       self.tr("Reason: %1").replace("%1", clip(reason))],
                      self.tr("Re-issue"), lambda: self.calls["reissue"](reason=reason))

    def _phone(self) -> None:
        kw = {"new_phone": self.phone.text(), "challenge": self.challenge,
              "sms_code": self.sms_code.text().strip(), "member_pin": self.member_pin.text(),
              "manager_code": self.manager.text().strip(),
              "manager_pin": self.manager_pin.text()}
        self._confirm(self.tr("Change the phone of %1?").replace("%1", self.card.member_no),
                      [self.tr("Phone: %1 → %2").replace("%1", self.card.phone_masked)
                       .replace("%2", _masked(self.phone.text())),
                       self.tr("The old phone will find no one at any till.")],
                      self.tr("Change phone"), lambda: self.calls["phone"](**kw))

    def _erase(self) -> None:
        self._confirm(self.tr("Erase the personal data of %1?").replace(
            "%1", self.card.member_no),
            [self.tr("Phone, name, birthday, gender and tags are removed for good."),
             self.tr("Points left are forfeited; stored value must be 0 here and at head "
                     "office.")],
            self.tr("Erase"), lambda: self.calls["erase"]())

    # -- one-step actions ---------------------------------------------------------------------
    def send_code(self) -> None:
        self.message.hide()
        self.ops.run(lambda: self.calls["send_code"](new_phone=self.phone.text()),
                     self._sent, self._failed)

    def _sent(self, challenge: str) -> None:
        self.challenge = challenge
        self.message.setProperty("kind", "info")
        self.message.setText(self.tr("A code was sent to the new phone."))
        self.message.show()
        self.sms_code.setFocus()

    def withdraw_marketing(self) -> None:
        self.ops.run(lambda: self.calls["marketing"](), self._done, self._failed)

    def _failed(self, error: Exception) -> None:
        self.ok.setEnabled(True)
        self.member_pin.clear()
        self.manager_pin.clear()
        show_error_in(self.message, error)

    def _done(self, result: Any) -> None:
        self.done.emit(result)
        self.accept()


def _reason() -> QLineEdit:
    field = QLineEdit()
    field.setMaxLength(200)
    return field


def _masked(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else phone
