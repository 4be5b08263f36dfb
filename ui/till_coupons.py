"""The till's coupons feature (issue 18): the coupons tile of the member card — how many
usable coupons the member holds, the last day of the soonest to expire, and each
one with its terms in the tooltip — and Ctrl+K, a coupon by hand (a manager approves). Plugs
into the till window through :func:`register`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog

from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.rules_config import CouponTemplate
from pos_member.services import coupons
from pos_member.services.member_cards import MemberCard
from ui.coupon_issue_dialog import CouponIssueDialog
from ui.coupon_withdraw_dialog import CouponWithdrawDialog
from ui.host import TillAction, TillHost


def value_text(c: coupons.CouponView) -> str:
    """满100减20 as "¥20 off ¥100", 10% off (at most ¥50), a gift item."""
    off = format_yuan(c.value_fen)
    if c.kind == "amount_off" and c.threshold_fen:
        text = QCoreApplication.translate("Coupons", "%1 off %2")
        return text.replace("%1", off).replace("%2", format_yuan(c.threshold_fen))
    if c.kind == "amount_off":
        return QCoreApplication.translate("Coupons", "%1 off").replace("%1", off)
    if c.kind == "percent_off":
        text = QCoreApplication.translate("Coupons", "%1% off").replace("%1", str(c.percent_off))
        if c.value_fen:
            text += " " + QCoreApplication.translate("Coupons", "(at most %1)").replace("%1", off)
        return text
    return QCoreApplication.translate("Coupons", "gift: %1").replace("%1", c.gift_item)


def from_hq(c: coupons.CouponView) -> str:
    """" · head office's offer" for a coupon HQ issued (``issue-coupons``): the cashier can
    tell the member where it came from; the member was told by message (docs/rules.md)."""
    if c.source != coupons.HQ:
        return ""
    return " · " + QCoreApplication.translate("Coupons", "head office's offer")


def last_day(host: TillHost, c: coupons.CouponView) -> str:
    """The last store day it may be used (``valid_until`` is the instant after it)."""
    return host.uow.clock.local(c.valid_until - timedelta(microseconds=1)).date().isoformat()


def card_shown(host: TillHost, card: MemberCard) -> None:
    if card.hq is not None or card.remote:
        return  # another store's member: their coupons are at their home store
    uow = host.uow

    def show(got: list[coupons.CouponView]) -> None:
        shown = host.current_card()
        if shown is None or shown.id != card.id or shown.hq is not None:
            return
        if not got:
            host.card_view.set_tile_value(2, "0")
            return
        soonest = got[0]
        # The soonest last day only: a coupon's terms ("10% off (at most ¥50.00)") made the
        # tile wider than a 1024×768 screen has room for; every coupon's terms are in the
        # card's tooltip (issue 17, tests/ui/test_screen_fit.py).
        detail = QCoreApplication.translate("Coupons", "soonest ends %1").replace(
            "%1", last_day(host, soonest))
        host.card_view.set_tile_value(2, str(len(got)), detail)
        host.card_view.setToolTip("\n".join(coupon_line(host, c) for c in got))

    host.ops.run(lambda: coupons.usable(uow, member_id=card.id), show, lambda e: None)


def template_text(t: CouponTemplate) -> str:
    """A template's value, as the card shows a coupon's."""
    value = t.amount_off_fen if t.kind == "amount_off" else t.cap_fen
    return value_text(coupons.CouponView("", t.name, t.kind, value, t.percent_off,
                                         t.threshold_fen, t.gift_item, datetime.now(UTC),
                                         "", ""))


def _open_for_card(host: TillHost, build: Callable[[MemberCard], QDialog], done: str) -> None:
    """Opens a coupon dialog for the member on screen (one of this store's: another store's
    coupons are not on this till), the card refreshed by its ``done`` signal."""
    card = host.current_card()
    if card is None or card.hq is not None or card.remote or host.dialog is not None:
        return
    dialog = build(card)
    getattr(dialog, done).connect(lambda r: host.notify_changed(r.changes))
    host.open_dialog(dialog)


def open_issue(host: TillHost) -> None:
    """Ctrl+K: a coupon by hand for the member on screen (a manager approves)."""
    uow, clerk = host.uow, host.clerk
    _open_for_card(host, lambda card: CouponIssueDialog(
        ops=host.ops, card=card, templates=uow.rules.coupons.templates, describe=template_text,
        issue=lambda **kw: coupons.issue_by_hand_with_pin(uow, clerk=clerk, member_id=card.id,
                                                         **kw),
        parent=host.window()), "issued")


def coupon_line(host: TillHost, c: coupons.CouponView) -> str:
    """One coupon as the card's list and the withdrawal show it."""
    return f"{c.name} · {value_text(c)} · {last_day(host, c)} · {c.code}{from_hq(c)}"


def open_withdraw(host: TillHost) -> None:
    """Ctrl+Shift+K: withdraw one of the member on screen's coupons (a manager approves)."""
    uow, clerk = host.uow, host.clerk
    _open_for_card(host, lambda card: CouponWithdrawDialog(
        ops=host.ops, card=card, load=lambda: coupons.usable(uow, member_id=card.id),
        describe=lambda c: (coupon_line(host, c), f"{c.name} · {value_text(c)}{from_hq(c)}"),
        withdraw=lambda **kw: coupons.revoke_with_pin(uow, clerk=clerk, member_id=card.id,
                                                      **kw),
        parent=host.window()), "withdrawn")


def register(host: TillHost) -> None:
    host.add_action(TillAction("coupon", QT_TRANSLATE_NOOP("TillWindow", "Ctrl+K Coupon"),
                               lambda: open_issue(host), ("Ctrl+K",), needs_card=True,
                               button=False))  # the rows are full at 1024 pixels
    host.add_action(TillAction("coupon_withdraw",
                               QT_TRANSLATE_NOOP("TillWindow", "Ctrl+Shift+K Withdraw coupon"),
                               lambda: open_withdraw(host), ("Ctrl+Shift+K",), needs_card=True,
                               button=False))
    host.on_card_shown(lambda card: card_shown(host, card))
