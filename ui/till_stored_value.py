"""The till's stored-value feature: F8 top-up, F10 pay with the balance, Shift+F10 the ledger,
and the card's stored-value tile. Plugs into the till window through :func:`register`."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication

from pos_member.changes import Area, Changes
from pos_member.errors import ScanWhileDialogOpen
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.services import stored_value as sv
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services import stored_value_standing as svs
from pos_member.services.member_cards import MemberCard
from ui.host import SmsService, TillAction, TillHost
from ui.stored_value_ledger import LedgerDialog
from ui.stored_value_ui import PayDialog, TopUpDialog
from ui.sync_worker import SyncState
from ui.till_remote_member import new_hq_client


def register(host: TillHost) -> None:
    """F8, F10 and Shift+F10 on the till window; the card's stored-value tile follows."""
    for action in (
        TillAction("topup", QT_TRANSLATE_NOOP("TillWindow", "F8 Top up"),
                   lambda: open_topup(host), ("F8",), needs_card=True),
        TillAction("pay", QT_TRANSLATE_NOOP("TillWindow", "F10 Pay by balance"),
                   lambda: open_pay(host), ("F10",), needs_card=True),
        TillAction("sv_ledger", QT_TRANSLATE_NOOP("TillWindow", "Shift+F10 Stored value"),
                   lambda: open_ledger(host), ("Shift+F10",), needs_card=True),
    ):
        host.add_action(action)
    host.on_card_shown(lambda card: refresh_tile(host, card))
    host.on_payment_code(lambda card, code: take_payment_code(host, card, code))


def refresh_tile(host: TillHost, card: MemberCard) -> None:
    if card.hq is not None:  # another store's member: HQ's figures (till_remote_member)
        return
    uow = host.uow

    def show(b: sv_ledger.Balance) -> None:
        shown = host.current_card()
        if shown is not None and shown.id == card.id and shown.hq is None:
            text = format_yuan(b.total_fen)
            if b.frozen:
                text += " " + QCoreApplication.translate("StoredValue", "(frozen)")
            if b.blocked:
                text += " " + QCoreApplication.translate("StoredValue", "(blocked by HQ)")
            split = QCoreApplication.translate("StoredValue", "principal %1 · bonus %2").replace(
                "%1", format_yuan(b.principal_fen)).replace("%2", format_yuan(b.bonus_fen))
            host.card_view.set_tile_value(1, text, split if b.total_fen else "")

    host.ops.run(lambda: sv_ledger.get_balance(uow, card.id), show, lambda e: None)


def _card(host: TillHost) -> MemberCard | None:
    card = host.current_card()
    if card is None:
        host.show_info(QCoreApplication.translate("StoredValue", "Scan a member first."))
    return card


def _finished(host: TillHost, result: sv.SvResult) -> None:
    text = {
        "topup": QCoreApplication.translate("StoredValue", "Topped up %1 (bonus %2). Balance %3."),
        "payment": QCoreApplication.translate(
            "StoredValue", "Paid %1 (principal %2, bonus %3). Balance %4."),
    }.get(result.kind, QCoreApplication.translate("StoredValue", "Done. Balance %3."))
    if result.kind == "payment":
        text = text.replace("%1", format_yuan(result.amount_fen)).replace(
            "%2", format_yuan(-result.principal_delta_fen)).replace(
            "%3", format_yuan(-result.bonus_delta_fen)).replace(
            "%4", format_yuan(result.balance.total_fen))
    else:
        text = text.replace("%1", format_yuan(result.principal_delta_fen)).replace(
            "%2", format_yuan(result.bonus_delta_fen)).replace(
            "%3", format_yuan(result.balance.total_fen))
    host.show_info(text)
    # The card on screen reloads its tile; sync soon; the member's notification goes out now.
    host.notify_changed(result.changes)


def open_topup(host: TillHost) -> None:
    card = _card(host)
    if card is None or host.dialog is not None:
        return
    dialog = TopUpDialog(host, card)
    dialog.done.connect(lambda r: _finished(host, r))
    host.open_dialog(dialog)


def _online(host: TillHost) -> bool:
    return host.sync_status().state is SyncState.ONLINE


def _phone(host: TillHost, card: MemberCard) -> Callable[[], str]:
    def get() -> str:
        return svs.phone_for_sms(host.uow, member_id=card.id)
    return get


def open_pay(host: TillHost) -> None:
    card = _card(host)
    if card is None or host.dialog is not None:
        return
    sms = sms_client(host)
    dialog = PayDialog(host, card, online=lambda: _online(host), sms=sms,
                       phone=_phone(host, card))
    if host.sync is not None:
        host.sync.status_changed.connect(dialog.refresh_online)
    dialog.done.connect(lambda r: _finished(host, r))
    host.open_dialog(dialog)


def take_payment_code(host: TillHost, card: MemberCard, code: str) -> None:
    """The member's dynamic code was scanned: the pay dialog opens for the member on screen
    with it filled in, or the open pay dialog or checkout for that member takes it; any other
    open dialog refuses it (nothing changes behind a dialog)."""
    dialog = host.dialog
    if dialog is None:
        open_pay(host)
        dialog = host.dialog
    owner = getattr(dialog, "card", None)  # the pay dialog, or the F4 checkout's tenders
    if hasattr(dialog, "take_dynamic_code") and owner is not None and owner.id == card.id:
        dialog.take_dynamic_code(code)
    else:
        host.show_error(ScanWhileDialogOpen())


def open_ledger(host: TillHost) -> None:
    card = _card(host)
    if card is None or host.dialog is not None:
        return
    dialog = LedgerDialog(host, card)
    dialog.changed.connect(
        lambda: host.notify_changed(Changes.of(Area.STORED_VALUE, members=(card.id,))))
    host.open_dialog(dialog)


def sms_client(host: TillHost) -> SmsService | None:
    """A client for HQ's SMS codes when the till is enrolled (None otherwise): made at the
    first F10 and kept on the window (``sv_sms``) until it closes, so a pay dialog neither
    reads the keyring again nor leaves a connection pool behind; later calls get that one."""
    if host.sv_sms is not None:
        return host.sv_sms
    client = new_hq_client(host)
    if client is None:
        return None
    host.sv_sms = client
    host.window().destroyed.connect(lambda *_: client.close())
    return client
