"""The till's member actions: F2 register a member, F5 reveal the personal data (manager), F6
edit the profile, Ctrl+P print the card."""

from __future__ import annotations

from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QMessageBox

from pos_member.changes import Area, Changes
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action
from pos_member.services import member_cards, members
from pos_member.services.member_cards import MemberCard, RevealedData
from pos_member.services.purchases import purchases
from ui.host import TillAction, TillHost
from ui.i18n import translate
from ui.printing import configure_card_page, print_card
from ui.profile_dialog import ProfileDialog
from ui.purchases_dialog import PurchasesDialog
from ui.qr import with_qr
from ui.register_dialog import RegisterDialog


class MemberActions:
    def __init__(self, host: TillHost) -> None:
        self.host = host

    def open_register(self) -> None:
        host, clerk, uow = self.host, self.host.clerk, self.host.uow
        dialog = RegisterDialog(
            ops=host.ops,
            register=lambda **kw: with_qr(members.register_member(uow, **kw)),
            clerk=clerk,
            guides=host.guides(),
            privacy_version=uow.rules.registration.privacy_policy_version,
            parent=host.window(),
        )
        dialog.registered.connect(self._registered)
        dialog.open_existing.connect(self._open_member)
        phone = host.take_unknown_phone()  # the phone just looked up in vain, carried over
        host.open_dialog(dialog)
        if phone is not None:
            dialog.phone.setText(phone)
            dialog.privacy.setFocus()  # the phone is there: the member's consent is next

    def _registered(self, card: MemberCard) -> None:
        # Told before the new card is up (so it is not loaded twice: it comes with the result).
        self.host.notify_changed(Changes.of(Area.MEMBERS, members=(card.id,)))
        self.host.show_card(card)
        self.host.show_info(
            translate("TillWindow", "Member %1 registered.").replace("%1", card.member_no))

    def _open_member(self, member_id: str) -> None:
        clerk, uow = self.host.clerk, self.host.uow
        self.host.ops.run(
            lambda: with_qr(member_cards.get_member(uow, clerk=clerk, member_id=member_id)),
            self.host.show_card,
        )

    def reveal(self) -> None:
        card = self.host.current_card()
        if card is None:
            return
        clerk, uow = self.host.clerk, self.host.uow
        self.host.ops.run(
            lambda: member_cards.reveal_personal_data(uow, clerk=clerk, member_id=card.id),
            lambda data: self._show_revealed(card, data),
        )

    def _show_revealed(self, card: MemberCard, data: RevealedData) -> None:
        box = QMessageBox(self.host.window())
        box.setWindowTitle(
            translate("TillWindow", "Personal data of %1").replace("%1", card.member_no))
        lines = [
            translate("TillWindow", "Phone: %1").replace("%1", data.phone),
            translate("TillWindow", "Name: %1").replace("%1", data.name or "—"),
            translate("TillWindow", "Birthday: %1").replace(
                "%1", data.birthday.isoformat() if data.birthday else "—"),
            "",
            translate("TillWindow", "This look-up has been recorded in the audit log."),
        ]
        box.setText("\n".join(lines))
        self.host.open_dialog(box)

    def edit_profile(self) -> None:
        card = self.host.current_card()
        if card is None:
            return
        clerk, uow = self.host.clerk, self.host.uow
        dialog = ProfileDialog(
            ops=self.host.ops,
            card=card,
            save=lambda **kw: members.update_profile(uow, clerk=clerk, member_id=card.id, **kw),
            parent=self.host.window(),
        )
        dialog.saved.connect(self.host.show_card)  # the saved card, from the result itself
        dialog.saved.connect(lambda _card: self.host.notify_changed(Changes.of(Area.MEMBERS)))
        self.host.open_dialog(dialog)

    def open_purchases(self) -> None:
        """Ctrl+H: the member's bills with their points and tenders."""
        card = self.host.current_card()
        if card is None:
            return
        clerk, uow = self.host.clerk, self.host.uow
        self.host.open_dialog(PurchasesDialog(
            ops=self.host.ops, card=card,
            load=lambda: purchases(uow, clerk=clerk, member_id=card.id),
            zone=uow.clock.zone, parent=self.host.window()))

    def print_card(self) -> None:
        card = self.host.current_card()
        if card is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        configure_card_page(printer)
        dialog = QPrintDialog(printer, self.host.window())
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            print_card(printer, card)
        self.host.focus_scan()


def register(host: TillHost) -> None:
    actions = MemberActions(host)
    may_reveal = host.clerk.may(Action.REVEAL_PERSONAL_DATA)
    for action in (
        TillAction("register", QT_TRANSLATE_NOOP("TillWindow", "F2 Register"),
                   actions.open_register, ("F2",)),
        TillAction("reveal", QT_TRANSLATE_NOOP("TillWindow", "F5 Show full phone"),
                   actions.reveal, ("F5",), needs_card=True, visible=may_reveal),
        TillAction("edit", QT_TRANSLATE_NOOP("TillWindow", "F6 Edit profile"),
                   actions.edit_profile, ("F6",), needs_card=True),
        TillAction("print", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+P Print card"),
                   actions.print_card, ("Ctrl+P",), needs_card=True),
        TillAction("purchases", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+H Purchases"),
                   actions.open_purchases, ("Ctrl+H",), needs_card=True),
    ):
        host.add_action(action)
