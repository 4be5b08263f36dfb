"""Another store's member's coupons at this till (issue 18; docs/rules.md, "Another store's
member").

A till holds its own store's members' coupons in full (coupon events go to the member's home
store). Of a remote member's coupon it knows nothing until it asks HQ: online, the checkout's
check (``GET /v1/coupons/check``) answers a till of another store with the coupon as issued
(template, terms, validity) and the ``coupon.issued`` event's id, and so does HQ's member
lookup for all the member's usable coupons; :func:`learn` and :func:`keep` keep them in this
till's ``coupons`` with the same ledger entry a pull would have made, so the redemption
is the ordinary one (``coupon_redeem``): its ``coupon.redeemed`` syncs to HQ, which routes it
to the member's home store, whose tills then show the coupon used.

Kept for offline (the rule): a coupon learned stays here with what HQ last said of it, as the
member lookup's card does (``remote_members``, whose answer brings them): offline, or HQ not
answering, the till redeems it on those terms; one never learned is refused (its terms are
unknown here). A coupon HQ
later says was withdrawn is marked so here (an entry of this till's, derived from the key, so
asking twice marks it once). The ``coupon_twice`` flag stays the safety net for a coupon
redeemed at its home store while this till was apart.

Inert otherwise: a learned coupon's issuing till is the home store's, so this till's expiry,
reminder and offer jobs (which take only their own tills' coupons) never act on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, select

from pos_member.db.models import Member, RemoteMember
from pos_member.db.uow import UnitOfWork
from pos_member.services import coupons_ledger as ledger
from pos_member.services import member_directory

_NS = uuid.UUID("6f1c2d0e-9a4b-4e55-8c1d-2b7f0c6a9e18")
_NEEDED = ("key", "member_id", "template", "name", "terms", "valid_from", "valid_until",
           "source", "issued_at", "store_id", "device_id")


class Answer(Protocol):  # coupon_redeem.HqCouponAnswer (no import cycle)
    state: str | None
    coupon: dict[str, Any] | None
    issued_event_id: str | None


class Asker(Protocol):
    def coupon_at_hq(self, key: str) -> Any: ...


def held_here(conn: Connection, member_id: str) -> bool:
    """Whether this till holds the member in full (its own store's), so their coupons too."""
    return conn.scalar(select(Member.id).where(Member.id == member_id)) is not None


def tier_of(conn: Connection, member_id: str) -> str:
    """A remote member's tier: the chain's directory, else HQ's card from a lookup."""
    found = member_directory.by_id(conn, member_id)
    if found is not None:
        return found.tier
    card = conn.scalar(select(RemoteMember.card).where(RemoteMember.member_id == member_id))
    return str((card or {}).get("tier") or "")


def learn(uow: UnitOfWork, hq: Asker, keys: Sequence[str], *,
          member_id: str, held_too: bool = True) -> dict[str, Any]:
    """Asks HQ about each coupon this till holds no row of and keeps the ones HQ describes
    as the member's and still issued. Returns HQ's answers by key (None: no answer), so the
    checkout does not ask twice. A member held here in full is asked about too: a coupon of a
    record merged into them at another store is theirs, and this till never pulled it (HQ
    describes it as the winner's: docs/rules.md, "Coupons after a merge") — unless
    ``held_too`` is False (the checkout's quote as the bill is typed: HQ is not asked at each
    keystroke about a code this member's till does not know; the checkout itself asks)."""
    with uow.db.read.connect() as conn:
        if not held_too and held_here(conn, member_id):
            return {}
        missing = [k for k in keys if ledger.row_of(conn, k) is None]
    answers = {k: hq.coupon_at_hq(k) for k in missing}
    kept = [a for a in answers.values() if _keepable(a, member_id)]
    if kept:
        with uow.begin() as tx:
            for a in kept:
                assert a.coupon is not None and a.issued_event_id is not None
                ledger.post_issued(tx.conn, a.coupon, event_id=a.issued_event_id)
            tx.commit()
    return answers


def _keepable(a: Any, member_id: str) -> bool:
    """Still issued and held on no bill at HQ: a coupon HQ says was used is not kept (the
    checkout refuses it; kept, this till would take it once offline)."""
    c = a.coupon if a is not None else None
    return (a.state == ledger.ISSUED and not getattr(a, "redeemed", False)
            and isinstance(a.issued_event_id, str) and _whole(c, member_id))


def _whole(c: Any, member_id: str) -> bool:
    return (isinstance(c, Mapping) and c.get("member_id") == member_id
            and all(c.get(k) is not None for k in _NEEDED))


def keep(conn: Connection, member_id: str, held: Sequence[Mapping[str, Any]]) -> int:
    """Keeps the member's usable coupons HQ's member lookup sent (``RemoteCoupon`` as JSON
    values), in the lookup's own transaction; one already here is left as it is (its state
    here may be newer: redeemed at this till). Returns how many were new."""
    new = 0
    for h in held:
        c, event_id = h.get("coupon"), h.get("issued_event_id")
        if isinstance(event_id, str) and _whole(c, member_id):
            assert isinstance(c, Mapping)
            new += int(ledger.post_issued(conn, c, event_id=event_id))
    return new


def withdrawn(uow: UnitOfWork, *, key: str, member_id: str) -> None:
    """HQ says the coupon was withdrawn: a learned copy of a remote member's coupon is marked
    so (offline it is then refused here too). A home-store coupon is left to its pull."""
    with uow.begin() as tx:
        row = ledger.row_of(tx.conn, key)
        if row is None or held_here(tx.conn, member_id):
            return
        ledger.post_ended(tx.conn, ledger.REVOKED, {"key": key}, at=tx.clock.now(),
                          event_id=str(uuid.uuid5(_NS, f"revoked:{key}")),
                          store_id=row.store_id)
        tx.commit()

