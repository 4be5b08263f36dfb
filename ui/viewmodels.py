"""Presentation logic of the till, testable without a display: what a card shows, how the
register form's text becomes core arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, tzinfo

from pos_member.clock import DEFAULT_TZ
from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.services.member_cards import CHANNEL_LABELS, GENDER_LABELS, TIER_LABELS, MemberCard
from ui.i18n import translate


@dataclass(frozen=True)
class CardView:
    """Strings the member card shows, in the user's language."""

    title: str
    member_no: str
    rows: list[tuple[str, str]]
    tiles: list[tuple[str, str]]


STANDING_LABELS = {
    "frozen": QT_TRANSLATE_NOOP("CardView", "Frozen: no points, no stored-value spending"),
    "blacklisted": QT_TRANSLATE_NOOP("CardView", "Blacklisted: do not serve"),
}


def card_view(card: MemberCard, zone: tzinfo = DEFAULT_TZ) -> CardView:
    """The card's texts; times in the store's ``zone``. A member's standing (issue 20) comes
    first: frozen or blacklisted (the manager's reason when the clerk may read it), erased, a
    tier set by hand and its end."""
    view = _card_view(card, zone)
    rows: list[tuple[str, str]] = []
    if card.erased:
        rows.append((translate("CardView", "Status"),
                     translate("CardView", "Personal data erased")))
    elif card.standing in STANDING_LABELS:
        text = translate("CardView", STANDING_LABELS[card.standing])
        rows.append((translate("CardView", "Status"),
                     f"{text} · {card.standing_reason}" if card.standing_reason else text))
    if card.tier_until is not None:
        rows.append((translate("CardView", "Tier set by hand"),
                     translate("CardView", "until %1").replace(
                         "%1", card.tier_until.astimezone(zone).strftime("%Y-%m-%d"))))
    view.rows[:0] = rows
    return view


def _card_view(card: MemberCard, zone: tzinfo) -> CardView:
    dash = "—"
    name = card.name_masked or translate("CardView", "(no name)")
    tier = translate("members", TIER_LABELS.get(card.tier, card.tier))
    if card.remote or card.channel is None or card.registered_at is None:
        return _remote_card_view(card, tier)
    rows = [
        (translate("CardView", "Phone"), card.phone_masked),
        (translate("CardView", "Tier"), tier),
        (
            translate("CardView", "Gender"),
            translate("members", GENDER_LABELS[card.gender]) if card.gender else dash,
        ),
        (translate("CardView", "Birthday month"),
         translate("CardView", "Month %1").replace("%1", str(card.birthday_month))
         if card.birthday_month else dash),
        (translate("CardView", "Source"), translate("members", CHANNEL_LABELS[card.channel])),
        (translate("CardView", "Guide"), card.guide_name or dash),
        (translate("CardView", "Referred by"), card.referrer_no or dash),
        (translate("CardView", "Registered"),
         card.registered_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") + " · " + card.store_name),
        (translate("CardView", "Tags"), "、".join(card.tags) if card.tags else dash),
        (
            translate("CardView", "Marketing"),
            translate("CardView", "Agreed")
            if card.marketing_consent
            else translate("CardView", "Not agreed"),
        ),
    ]
    # Filled by the points, stored-value and coupon issues; shown now so the layout holds.
    tiles = [
        (translate("CardView", "Points"), dash),
        (translate("CardView", "Stored value"), dash),
        (translate("CardView", "Coupons"), dash),
    ]
    return CardView(title=f"{name} · {tier}", member_no=card.member_no, rows=rows, tiles=tiles)


def _remote_card_view(card: MemberCard, tier: str) -> CardView:
    """A member of another store, known here from the chain's directory: number, tier, home
    store; their profile and balances are at their home store."""
    dash = "—"
    store = translate("CardView", "Member of %1").replace("%1", card.store_name)
    rows = [
        (translate("CardView", "Phone"), card.phone_masked or dash),
        (translate("CardView", "Tier"), tier),
        (translate("CardView", "Home store"), store),
    ]
    tiles = [
        (translate("CardView", "Points"), dash),
        (translate("CardView", "Stored value"), dash),
        (translate("CardView", "Coupons"), dash),
    ]
    title = translate("CardView", "Member of another store") + f" · {tier}"
    return CardView(title=title, member_no=card.member_no, rows=rows, tiles=tiles)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_birthday(text: str) -> date | None:
    """``YYYY-MM-DD`` (also ``YYYYMMDD`` and ``YYYY/MM/DD``) or empty."""
    text = text.strip().replace("/", "-")
    if not text:
        return None
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            QT_TRANSLATE_NOOP("errors", "Birthday: use year-month-day, e.g. 1990-03-14.")
        ) from None


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags separated by commas (either width), 、 or spaces."""
    for sep in "，、 ;；":
        text = text.replace(sep, ",")
    return tuple(t for t in (p.strip() for p in text.split(",")) if t)
