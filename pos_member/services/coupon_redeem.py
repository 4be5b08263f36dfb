"""Redeeming coupons at the till (issue 18): a checkout's coupons checked, their discount
worked out, and each redeemed in the sale's own transaction; a refund of the whole bill gives
them back (docs/rules.md, "Coupons").

A coupon is checked twice: before the checkout's transaction (:func:`plan`, reading, so a
refused coupon writes nothing and the cashier is told at once) and again inside it
(:func:`redeem_in`: its state, under the write lock), so two checkouts of one till can never
both take it. Any coupon may have been redeemed where this till has not heard of it yet
(another till's, another store's, HQ's; one this till issued, at the store's other tills or
before this till was put back from a copy): online, the checkout asks HQ first
(:class:`HqCoupons`, outside any transaction), and a coupon HQ holds a bill for is
refused. Two tills redeeming one coupon while offline (or HQ not answering) is caught by HQ
at sync (``sync/server/coupons.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, bindparam, exists, select

from pos_member import events
from pos_member.coupon_code import key_of
from pos_member.coupon_rules import check_terms, discount_fen
from pos_member.db.models import Coupon, CouponBlock, CouponEntry, Member, Sale, Store
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import (
    CouponAlreadyUsed,
    CouponAtHomeStore,
    CouponExpired,
    CouponNeedsMember,
    CouponNotHere,
    CouponNotYet,
    CouponUnknown,
    CouponUseBlocked,
    CouponUsedElsewhere,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Clerk
from pos_member.services import coupon_remote, member_directory, member_standing
from pos_member.services import coupons_ledger as ledger

_C = Coupon.__table__.c
# One statement per coupon on the checkout's path (db/prepared.py): the coupon, the member's
# tier, the store's number and HQ's block of the member's coupons.
_PLAN_ROW = Prepared(select(
    _C.key, _C.member_id, _C.name, _C.terms, _C.valid_from, _C.valid_until, _C.state,
    _C.sale_id,
    select(Member.tier).where(Member.id == bindparam("member_id")).scalar_subquery()
    .label("tier"),
    select(Store.number).where(Store.id == bindparam("store_id")).scalar_subquery()
    .label("store_no"),
    exists().where(CouponBlock.member_id == bindparam("member_id")).label("blocked"),
).where(_C.key == bindparam("key")))
_STATE = Prepared(select(
    _C.state, exists().where(CouponBlock.member_id == bindparam("member_id")).label("blocked"),
).where(_C.key == bindparam("key")))


@dataclass(frozen=True, slots=True)
class CouponUse:
    """One coupon on a bill: its key, name, the discount it gives (0 for a gift coupon) and
    the gift handed over."""

    key: str
    name: str
    discount_fen: int
    gift_item: str


@dataclass(frozen=True, slots=True)
class HqCouponAnswer:
    """HQ's answer about one coupon: ``redeemed`` when it holds a bill the coupon was
    redeemed on (not given back), with the bill's sale id, store and when HQ stored it;
    ``state`` as HQ was told (issued, revoked, expired; None: HQ holds no issue of it);
    ``coupon`` and ``issued_event_id``: the coupon as issued, to a till of another store
    (``coupon_remote``)."""

    redeemed: bool
    sale_id: str | None = None
    store_no: int | None = None
    store_name: str = ""
    used_at: datetime | None = None
    state: str | None = None
    coupon: dict[str, Any] | None = None
    issued_event_id: str | None = None


@runtime_checkable
class HqCoupons(Protocol):
    """HQ's coupon check as the checkout calls it (``sync.client.SyncClient`` has it; it
    blocks on the network, so it is called outside any database transaction)."""

    def coupon_at_hq(self, key: str) -> HqCouponAnswer | None:
        """HQ's answer, or None when HQ gave none (the till redeems as offline)."""
        ...


def _day(uow: UnitOfWork, instant: datetime) -> str:
    return uow.clock.local(instant - timedelta(microseconds=1)).date().isoformat()


def plan(uow: UnitOfWork, clerk: Clerk, *, codes: Sequence[str], member_id: str | None,
         bill_fen: int, redeem_points: int, txn_id: str | None = None,
         hq: HqCoupons | None = None, quoting: bool = False) -> list[CouponUse]:
    """Checks the coupons scanned or typed for a bill of ``bill_fen`` and works out their discounts
    (each on the whole bill; together at most the bill less one fen, as a sale is more than 0).
    Refuses with a :class:`pos_member.errors.CouponRefused` saying why: forged, unknown, another
    member's, not yet valid, expired, used or withdrawn, the member's coupons stopped by HQ, another
    store or tier, the threshold, points or another coupon on the same bill.

    ``hq``: given when the till is online; each coupon is then checked with HQ after the local
    checks — by the till that issued it too: the store's other tills hold it as well, and a till put
    back from a copy does not know what it redeemed since (``CouponUsedElsewhere`` when HQ holds a
    bill for it, ``CouponAlreadyUsed`` when HQ was told it was withdrawn); with no answer, or
    offline, the till's own copy decides (docs/rules.md). For another store's member, HQ is first
    asked about each coupon this till holds none of, and the ones it describes are kept
    (``coupon_remote.learn``); offline, a coupon of theirs never learned is refused with
    ``CouponAtHomeStore``. ``quoting``: the checkout's quote as the bill is typed: HQ is asked only
    about a remote member's coupon not held here yet (once), never re-checked at each keystroke (the
    checkout itself checks)."""
    if not codes:
        return []
    if member_id is None:
        raise CouponNeedsMember()
    keys = [key_of(uow.cipher, c) for c in codes]
    if len(set(keys)) != len(keys):
        raise CouponAlreadyUsed()
    now = uow.clock.now()
    answers = (coupon_remote.learn(uow, hq, keys, member_id=member_id, held_too=not quoting)
               if hq is not None else {})
    asked: list[str] = []  # online, HQ is asked about each (docs/rules.md)
    with uow.db.read.connect() as conn:  # a bare read: no ORM session on the checkout's path
        member_standing.check(conn, member_id, member_standing.REDEEM, clerk=clerk)
        uses, left = [], bill_fen - 1
        for key in keys:
            row = _PLAN_ROW.first(conn, {"key": key, "member_id": member_id,
                                         "store_id": clerk.store_id})
            if row is not None and row.blocked:
                raise CouponUseBlocked()
            if row is None and not coupon_remote.held_here(conn, member_id):
                _not_kept(uow, conn, answers.get(key), member_id)
            again = _repeat(conn, row, txn_id)
            if again is not None:  # this checkout, retried: the first answer's discount
                uses.append(CouponUse(key, row.name, again, row.terms["gift_item"]))
                continue
            _check_row(uow, row, member_id=member_id, now=now)
            tier = row.tier if row.tier is not None else coupon_remote.tier_of(conn, member_id)
            check_terms(row.terms, bill_fen=bill_fen, tier=tier or "",
                        store_no=row.store_no or 0, redeem_points=redeem_points,
                        coupons_on_bill=len(keys))
            off = min(discount_fen(row.terms, bill_fen), left)
            left -= off
            uses.append(CouponUse(key, row.name, off, row.terms["gift_item"]))
            asked.append(key)
    if hq is not None and asked and not quoting:
        _ask_hq(uow, hq, asked, answers, member_id=member_id)
    return uses


def _not_kept(uow: UnitOfWork, conn: Connection, answer: Any, member_id: str) -> None:
    """Refuses a remote member's coupon this till did not keep: withdrawn or expired as HQ
    says, else unknown here (offline, or HQ holds no issue of it)."""
    if answer is not None and answer.state == ledger.REVOKED:
        raise CouponAlreadyUsed()
    if answer is not None and answer.redeemed:
        raise _used_elsewhere(uow, answer)
    if answer is not None and answer.state == ledger.EXPIRED and answer.coupon:
        until = datetime.fromisoformat(answer.coupon["valid_until"])
        raise CouponExpired(day=_day(uow, until))
    found = member_directory.by_id(conn, member_id)
    raise CouponAtHomeStore(store="?" if found is None
                            else found.store_name or f"#{found.store_no}")


def _ask_hq(uow: UnitOfWork, hq: HqCoupons, keys: Sequence[str],
            answers: dict[str, Any], *, member_id: str) -> None:
    """Refuses a coupon HQ was told was withdrawn, or holds a bill for — unless it is a bill
    of this till whose refund gave the coupon back here and has not reached HQ yet (then the
    coupon is free). ``answers``: HQ's answers already given to this checkout."""
    for key in keys:
        answer = answers[key] if key in answers else hq.coupon_at_hq(key)
        if answer is not None and answer.state == ledger.REVOKED:
            coupon_remote.withdrawn(uow, key=key, member_id=member_id)
            raise CouponAlreadyUsed()
        if answer is None or not answer.redeemed:
            continue
        with uow.db.read.connect() as conn:
            given_back = conn.scalar(select(CouponEntry.id).where(
                CouponEntry.key == key, CouponEntry.sale_id == answer.sale_id,
                CouponEntry.kind == ledger.RETURNED).limit(1))
        if given_back is not None:
            continue
        raise _used_elsewhere(uow, answer)


def _used_elsewhere(uow: UnitOfWork, answer: Any) -> CouponUsedElsewhere:
    """*Head office says this coupon was already used at STORE on DAY*."""
    store = answer.store_name or (f"#{answer.store_no}" if answer.store_no else "?")
    day = uow.clock.local(answer.used_at).date().isoformat() if answer.used_at else "?"
    return CouponUsedElsewhere(store=store, day=day)


def _repeat(conn: Connection, row: Any, txn_id: str | None) -> int | None:
    """The discount a coupon gave when this very checkout (``txn_id``) redeemed it."""
    if row is None or txn_id is None or row.state != ledger.REDEEMED or row.sale_id is None:
        return None
    if conn.scalar(select(Sale.txn_id).where(Sale.id == row.sale_id)) != txn_id:
        return None
    return int(conn.scalar(select(CouponEntry.discount_fen).where(
        CouponEntry.key == row.key, CouponEntry.sale_id == row.sale_id,
        CouponEntry.kind == ledger.REDEEMED)) or 0)


def _check_row(uow: UnitOfWork, r: Any, *, member_id: str, now: datetime) -> None:
    if r is None:
        raise CouponUnknown()
    if r.member_id != member_id:
        raise CouponNotHere(what=QT_TRANSLATE_NOOP("roles", "this member"))
    if r.state in (ledger.REDEEMED, ledger.REVOKED):
        raise CouponAlreadyUsed()
    if r.state == ledger.EXPIRED or now >= r.valid_until:
        raise CouponExpired(day=_day(uow, r.valid_until))
    if now < r.valid_from:
        raise CouponNotYet(day=uow.clock.local(r.valid_from).date().isoformat())


def redeem_in(tx: Transaction, clerk: Clerk, uses: Sequence[CouponUse], *, member_id: str,
              sale_id: str, bill_no: str, bill_fen: int,
              standing: member_standing.Standing | None = None) -> None:
    """Redeems the planned coupons in the sale's transaction: each must still be issued (a
    checkout of this till that took it meanwhile: refused, all rolled back). ``standing``: the
    member's, as read already in this transaction."""
    conn = tx.conn
    now = tx.clock.now()
    if uses:  # a frozen, blacklisted or erased member redeems nothing (docs/rules.md)
        member_standing.check(conn, member_id, member_standing.REDEEM, clerk=clerk,
                              standing=standing)
    for u in uses:
        got = _STATE.first(conn, {"key": u.key, "member_id": member_id})
        if got is not None and got.blocked:
            raise CouponUseBlocked()
        if got is None or got.state != ledger.ISSUED:
            raise CouponAlreadyUsed()
        payload = events.CouponUsed(key=u.key, member_id=member_id, sale_id=sale_id,
                                    bill_no=bill_no, bill_fen=bill_fen,
                                    discount_fen=u.discount_fen, store_id=clerk.store_id)
        ev = tx.record(clerk, events.COUPON_REDEEMED, payload, entity_id=member_id)
        ledger.post_redeemed_issued(conn, ev.payload, event_id=ev.id, at=now)
        tx.audit(clerk, events.COUPON_REDEEMED.type, "coupon", u.key,
                 after={"sale_id": sale_id, "discount_fen": u.discount_fen}, event=ev)


def return_for_refund(tx: Transaction, clerk: Clerk, *, sale_id: str) -> int:
    """A bill refunded in full gives back the coupons redeemed on it that have not expired
    (an expired one stays used: docs/rules.md). Returns how many came back."""
    conn = tx.conn
    now = tx.clock.now()
    e = CouponEntry.__table__.c
    used = select(e.key, e.discount_fen).where(e.sale_id == sale_id,
                                                e.kind == ledger.REDEEMED).subquery()
    back_already = select(e.key).where(e.sale_id == sale_id, e.kind == ledger.RETURNED)
    # A coupon this till holds no row of (another store's member's, learned by the store's
    # till that took it) is given back all the same, on the bill's member: its end is not
    # known here, and the home store's till posts its expiry if it has passed.
    rows = conn.execute(select(used.c.key, used.c.discount_fen, _C.member_id, _C.valid_until)
                        .select_from(used.outerjoin(Coupon.__table__, _C.key == used.c.key))
                        .where(used.c.key.not_in(back_already))).all()
    back = 0
    for r in rows:
        if r.valid_until is not None and now >= r.valid_until:
            continue
        member_id = r.member_id or conn.scalar(select(Sale.member_id).where(Sale.id == sale_id))
        payload = events.CouponUsed(key=r.key, member_id=member_id, sale_id=sale_id,
                                    bill_no="", bill_fen=0, discount_fen=r.discount_fen,
                                    store_id=clerk.store_id)
        ev = tx.record(clerk, events.COUPON_RETURNED, payload, entity_id=member_id)
        ledger.post_used(conn, ledger.RETURNED, events.encode(payload), event_id=ev.id, at=now)
        tx.audit(clerk, events.COUPON_RETURNED.type, "coupon", r.key,
                 after={"sale_id": sale_id}, event=ev)
        back += 1
    return back
