"""Ctrl+M member service on the card on screen (issue 20): a manager freezes, blacklists, sets
a tier by hand, re-issues a lost card or erases the member; anyone changes a phone (verified
by a code to the new phone, or offline by the member's PIN and a manager) or withdraws the
member's marketing consent. A member whose consent names an older privacy policy is asked
again when their card is shown. Plugs into the till window through :func:`register`."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from pos_member.changes import Area, Changes
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action
from pos_member.services import member_privacy, member_service
from pos_member.services.member_auth import has_pin
from pos_member.services.member_cards import MemberCard
from pos_member.services.staff import approve
from pos_member.services.stored_value import PinFactor, SmsFactor, TotpFactor
from sync.remote_lookup import HqChainBalance
from ui.host import TillAction, TillHost
from ui.i18n import translate
from ui.member_service_dialog import MemberServiceDialog
from ui.sync_worker import SyncState
from ui.till_remote_member import new_hq_client
from ui.till_stored_value import sms_client


def _online(host: TillHost) -> bool:
    return host.sync is not None and host.sync_status().state is SyncState.ONLINE


def calls(host: TillHost, card: MemberCard) -> dict[str, Any]:
    """The dialog's actions, bound to the core for the member on screen."""
    uow, clerk, member_id = host.uow, host.clerk, card.id

    def phone(*, new_phone: str, challenge: str | None, sms_code: str, member_pin: str,
              manager_code: str, manager_pin: str) -> Any:
        if challenge and sms_code:
            return member_privacy.change_phone(
                uow, clerk=clerk, member_id=member_id, new_phone=new_phone,
                factor=SmsFactor(challenge, sms_code), sms_verifier=sms_client(host))
        approver = approve(uow, code=manager_code, pin=manager_pin,
                           device_id=clerk.device_id, action=Action.MEMBER_STATUS) \
            if manager_code else None
        factor = (PinFactor(member_pin) if has_pin(uow, member_id) else TotpFactor(member_pin)) \
            if member_pin else None
        return member_privacy.change_phone(uow, clerk=clerk, member_id=member_id,
                                           new_phone=new_phone, factor=factor,
                                           approver=approver, online=_online(host))

    def erase() -> Any:
        """Online, HQ's chain-wide balance is asked (a client for this call only); offline
        the erasure is refused saying so (docs/rules.md, "Erasure")."""
        client = new_hq_client(host) if _online(host) else None
        try:
            return member_privacy.erase(
                uow, clerk=clerk, member_id=member_id,
                hq=HqChainBalance(client) if client is not None else None)
        finally:
            if client is not None:
                client.close()

    def marketing() -> Changes:
        member_privacy.withdraw_marketing(uow, clerk=clerk, member_id=member_id)
        return Changes.of(Area.MEMBERS, members=[member_id])

    return {
        "status": lambda **kw: member_service.set_status(uow, clerk=clerk, member_id=member_id,
                                                         **kw),
        "tier": lambda **kw: member_service.set_tier(uow, clerk=clerk, member_id=member_id,
                                                     **kw),
        "reissue": lambda **kw: member_service.reissue_card(uow, clerk=clerk,
                                                            member_id=member_id, **kw),
        "phone": phone,
        "send_code": lambda **kw: member_privacy.send_phone_code(
            uow, clerk=clerk, member_id=member_id, sender=sms_client(host), **kw),
        "erase": erase,
        "marketing": marketing,
    }


def open_service(host: TillHost) -> None:
    card = host.current_card()
    if card is None:
        return
    tiers = [level.code for level in host.uow.rules.tiers.levels]
    dialog = MemberServiceDialog(
        ops=host.ops, card=card, calls=calls(host, card), tiers=tiers,
        zone=host.uow.clock.zone, today=host.uow.clock.today(),
        may_manage=host.clerk.may(Action.MEMBER_STATUS),
        online=_online(host) and sms_client(host) is not None, parent=host.window())
    dialog.done.connect(lambda result: _done(host, result))
    host.open_dialog(dialog)


def _done(host: TillHost, result: Any) -> None:
    changes = result if isinstance(result, Changes) else result.changes
    host.notify_changed(changes)
    code = getattr(result, "card_code", None)
    host.show_info(translate("TillWindow", "New card code: %1").replace("%1", code) if code
                   else translate("TillWindow", "Member service done."))


def _ask_consent(host: TillHost, card: MemberCard) -> None:
    """A member who consented to an older privacy policy is asked again at this visit."""
    if card.remote or card.erased:
        return
    uow = host.uow
    host.ops.run(lambda: member_privacy.needs_reconsent(uow, card.id),
                 lambda needed: _consent_box(host, card) if needed else None)


def _consent_box(host: TillHost, card: MemberCard) -> None:
    box = QMessageBox(host.window())
    box.setWindowTitle(translate("TillWindow", "Privacy policy updated"))
    box.setText(translate("TillWindow", "The privacy policy changed since member %1 agreed. "
                          "Ask the member to read and agree to version %2.")
                .replace("%1", card.member_no)
                .replace("%2", host.uow.rules.registration.privacy_policy_version))
    agreed = box.addButton(translate("TillWindow", "Member agrees"),
                           QMessageBox.ButtonRole.AcceptRole)
    box.addButton(translate("TillWindow", "Not now"), QMessageBox.ButtonRole.RejectRole)
    uow, clerk = host.uow, host.clerk

    def answered() -> None:
        if box.clickedButton() is agreed:
            host.ops.run(lambda: member_privacy.reconsent(uow, clerk=clerk, member_id=card.id),
                         lambda _: None)

    box.finished.connect(lambda _: answered())
    box.open()


def register(host: TillHost) -> None:
    host.add_action(TillAction("service", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+M Service"),
                               lambda: open_service(host), ("Ctrl+M",), needs_card=True,
                               visible=host.clerk.may(Action.CHANGE_PHONE)))
    host.on_card_shown(lambda card: _ask_consent(host, card))
