"""What a scanned or typed code is, whatever brought it (the scan field, a picture, a serial
scanner): the one routing rule of the till (docs/rules.md, "Scanning").

Pure: no database, no GUI. The till window acts on the :class:`Route`; the member lookup
itself still reads the code with :func:`pos_member.member_code.classify_code`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from pos_member.coupon_code import looks_like_coupon
from pos_member.errors import MalformedCode
from pos_member.member_code import CodeKind, classify_code

# The member's dynamic payment code (TOTP, member_auth.check_totp_format): six ASCII digits.
# Never a member number (14 digits) nor a mobile number (11), so the length alone tells it.
DYNAMIC_CODE = re.compile(r"^\d{6}$")
# A coupon's QR payload, versioned like the member's ``PM1:`` (any version: a newer one is
# the coupon code's own refusal, not an unknown code); a typed coupon code is
# ``coupon_code.looks_like_coupon``'s.
COUPON = re.compile(r"^CP\d+:\S+$")
# A search (typed, not scanned): the phone's last four digits, or a name (letters, at least two).
PHONE_TAIL = re.compile(r"^\d{4}$")


def _is_name(text: str) -> bool:
    return len(text) >= 2 and text[0].isalpha() and all(
        c.isalpha() or c in " ·." for c in text)


class RouteKind(Enum):
    MEMBER = "member"  # a member code, a member number or a phone: the member's card
    COUPON = "coupon"  # a coupon: the checkout takes it (issue 18)
    PAYMENT_CODE = "payment_code"  # the member's dynamic code: the pay dialog
    SEARCH = "search"  # a name or the phone's last four digits: the members who match


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    code: str  # normalised: what the next step is given

    def __repr__(self) -> str:  # a payment code is a secret: never in a log or a traceback
        shown = "…" if self.kind is RouteKind.PAYMENT_CODE else self.code
        return f"Route({self.kind.value}, {shown})"


def route(raw: str) -> Route:
    """The route of ``raw``; raises :class:`MalformedCode` for anything the till does not
    know (nothing is looked up for it)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if DYNAMIC_CODE.match(text):
        return Route(RouteKind.PAYMENT_CODE, text)
    if COUPON.match(text) or looks_like_coupon(text):
        return Route(RouteKind.COUPON, text)
    if PHONE_TAIL.match(text) or _is_name(text):
        return Route(RouteKind.SEARCH, text)
    scanned = classify_code(text)
    assert scanned.kind in (CodeKind.MEMBER, CodeKind.PHONE)
    return Route(RouteKind.MEMBER, text)


def first_routable(texts: list[str]) -> Route | None:
    """The code a picture with several codes stands for: the first, in the order given, that
    is a member code or a payment code (coupons and unknown codes are passed over); None when
    there is none. The caller gives the codes in reading order (``reading_order``)."""
    for text in texts:
        try:
            found = route(text)
        except MalformedCode:
            continue
        if found.kind in (RouteKind.MEMBER, RouteKind.PAYMENT_CODE):
            return found
    return None


def reading_order(centres: list[tuple[float, float]], *, row_height: float) -> list[int]:
    """Indexes of codes sorted as a person reads them: by row from the top (codes whose
    centres lie within ``row_height`` of each other share a row), then from the left."""
    order = sorted(range(len(centres)), key=lambda i: (centres[i][1], centres[i][0]))
    rows: list[list[int]] = []
    for i in order:
        if rows and centres[i][1] - centres[rows[-1][0]][1] <= row_height:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: centres[j][0])]
