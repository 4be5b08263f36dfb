"""The till's coupons feature (issue 18): the coupons tile of the member card — how many
usable coupons the member holds, the last day of the soonest to expire, and each
one with its terms in the tooltip. Plugs into the till window through :func:`register`."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QCoreApplication

from pos_member.money import format_yuan
from pos_member.services import coupons
from pos_member.services.member_cards import MemberCard
from ui.host import TillHost


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
        host.card_view.setToolTip("\n".join(
            f"{c.name} · {value_text(c)} · {last_day(host, c)} · {c.code}" for c in got))

    host.ops.run(lambda: coupons.usable(uow, member_id=card.id), show, lambda e: None)


def register(host: TillHost) -> None:
    host.on_card_shown(lambda card: card_shown(host, card))
