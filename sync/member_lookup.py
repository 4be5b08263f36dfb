"""The remote member lookup's wire contract (issue 14): ``GET /v1/members/lookup``.

A till scans a member it does not hold in full (another store's member); online, it asks HQ
for the member's card and chain-wide balances. The till sends what its scan has: the member
number (or the member QR's payload; a merged-away number scans to the member it was merged
into), or the phone's blind index — never a phone number. HQ answers the card as a cashier sees
it (personal data masked) and the balances as of ``position``, the last log position HQ had
stored when it answered: a till caches the answer with it (``services/remote_members.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from sync.protocol import _Strict

LOOKUP_PATH = "/members/lookup"
PHONE_INDEX = r"^[0-9a-f]{64}$"  # a blind index: 64 lowercase hex digits
MAX_COUPONS = 50


class RemoteCard(_Strict):
    """``MemberCard``'s fields (``services/member_cards.py``), as masked for a cashier. The
    guide's name is not known at HQ (None)."""

    member_id: str
    member_no: str
    phone_masked: str
    name_masked: str | None
    gender: str | None
    birthday_month: int | None
    tags: list[str]
    channel: str
    referrer_no: str | None
    tier: str
    status: str
    store_id: str | None
    store_name: str
    registered_at: datetime
    marketing_consent: bool


class RemoteCoupon(_Strict):
    """One of the member's coupons HQ holds as still usable (issued, not redeemed on a bill
    HQ holds): the coupon as issued and its ``coupon.issued`` event's id (issue 18)."""

    coupon: dict[str, Any]
    issued_event_id: str


class MemberLookupResponse(_Strict):
    """The member's card and chain-wide balances: stored value (fen; principal plus bonus, as
    HQ sums it for the overdraw check) and points; ``blocked`` while HQ blocks balance
    payments (an open overdraw). ``position``: the balances include every event HQ stored up
    to it; ``as_of``: HQ's time of the answer. ``coupons``: the member's usable coupons, to a
    till of another store than the member's (it keeps them for offline, issue 18; at most
    ``MAX_COUPONS``, the soonest to end first)."""

    card: RemoteCard
    balance_fen: int
    points: int
    blocked: bool
    position: int
    as_of: datetime
    coupons: list[RemoteCoupon] = Field(default_factory=list)
