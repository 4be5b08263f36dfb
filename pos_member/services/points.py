"""Points (积分): the till's operations on them (SPEC §2.3): welcome points, gifts,
adjustments, the summary and the ledger a member sees.

The ledger they post into, its lots and the posting both they and pulled events go through are
:mod:`pos_member.services.points_ledger`; pulled ``points.*`` events are applied by
:mod:`pos_member.services.points_sync`; the earn/redeem/tier arithmetic is
:mod:`pos_member.points_rules`.

One operation, one effect: a redeem or adjustment carries its till transaction id; its result
is kept in ``points_txns`` and a repeated request returns it and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.models import Flag, Member, PointsEntry, Staff, Store
from pos_member.db.uow import RecordedEvent, Transaction, UnitOfWork
from pos_member.errors import (
    InsufficientPoints,
    InvalidInput,
    MemberNotFound,
    PointsReasonRequired,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services import member_standing
from pos_member.services.points_ledger import (
    ADJUST,
    CLAWBACK,
    EARN,
    EXPIRE,
    GIFT,
    LIVE_LOTS,
    REDEEM,
    REFERRAL,
    RESTORE,
    WELCOME,
    aware,
    balance_of,
    keep_txn,
    new_entry,
    post_entry,
    post_welcome,
    spendable_lots,
    txn_result,
)
from pos_member.services.points_notices import tell_points
from pos_member.services.staff import login
from pos_member.text_input import one_line

KIND_LABELS = {
    EARN: QT_TRANSLATE_NOOP("points", "Purchase"),
    WELCOME: QT_TRANSLATE_NOOP("points", "Welcome points"),
    REFERRAL: QT_TRANSLATE_NOOP("points", "Referral reward"),
    REDEEM: QT_TRANSLATE_NOOP("points", "Redeemed on a bill"),
    GIFT: QT_TRANSLATE_NOOP("points", "Exchanged for a gift"),
    CLAWBACK: QT_TRANSLATE_NOOP("points", "Refund: points taken back"),
    RESTORE: QT_TRANSLATE_NOOP("points", "Refund: redeemed points returned"),
    EXPIRE: QT_TRANSLATE_NOOP("points", "Expired"),
    ADJUST: QT_TRANSLATE_NOOP("points", "Manual adjustment"),
    "welcome_reversed": QT_TRANSLATE_NOOP("points", "Welcome points: one per person (merged)"),
}

WELCOMED = events.POINTS_WELCOME.type
REDEEMED = events.POINTS_REDEEMED.type
ADJUSTED = events.POINTS_ADJUSTED.type
EXPIRED = events.POINTS_EXPIRED.type
NEGATIVE_FLAG = "points_negative"


# -- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsSummary:
    member_id: str
    balance: int
    spendable: int  # open lots available now (pending points excluded)
    pending: int  # open lots not spendable yet
    next_expiry: datetime | None
    next_expiry_points: int


@dataclass(frozen=True, slots=True)
class LedgerLine:
    at: datetime
    kind: str
    points: int
    balance: int  # running balance after this line
    store: str
    clerk: str | None
    bill_no: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class PointsOpResult:
    """The result of a redeem-for-gift or an adjustment; ``repeated`` when returned again."""

    txn_id: str
    member_id: str
    points: int  # signed change
    balance: int
    repeated: bool = False

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.POINTS, members=(self.member_id,))


# -- the till's operations -----------------------------------------------------------------


def record_points_event(tx: Transaction, clerk: Clerk, type_: str, *, member_id: str,
                        entries: list[dict[str, Any]], extra: dict[str, Any] | None = None
                        ) -> RecordedEvent:
    """Records one event carrying ``entries`` and posts them; returns the event."""
    declared = events.declaration(type_)
    payload = events.PointsPosted(member_id=member_id, entries=entries, **(extra or {}))
    ev = tx.record(clerk, declared, payload, entity_id=member_id)
    conn = tx.conn
    for e in entries:
        post_entry(conn, e, event_id=ev.id, fresh=True)  # made here, new ids
    return ev


def add_welcome_points(tx: Transaction, clerk: Clerk, *, member_id: str, at: datetime) -> int:
    """Welcome points on registration, in the registration's own transaction."""
    points = tx.rules.registration.welcome_points
    if points <= 0:
        return 0
    entry = new_entry(tx, clerk, member_id=member_id, kind=WELCOME, points=points, at=at)
    ev = tx.record(clerk, events.POINTS_WELCOME,
                   events.PointsPosted(member_id=member_id, entries=[entry]), entity_id=member_id)
    post_welcome(tx.conn, entry, event_id=ev.id)
    return points


def _member_exists(conn: Connection, member_id: str) -> None:
    status = conn.scalar(select(Member.status).where(Member.id == member_id))
    if status is None or status != "active":
        raise MemberNotFound(query=member_id[:8])


def redeem_for_item(uow: UnitOfWork, *, clerk: Clerk, txn_id: str, member_id: str,
                    item_code: str) -> PointsOpResult:
    """Exchanges points for a gift or coupon of the rules' catalogue."""
    require(clerk, Action.VIEW_MEMBER)
    item = next((i for i in uow.rules.points.catalogue if i.code == item_code), None)
    if item is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such gift in the catalogue."))
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done = txn_result(conn, txn_id, GIFT)
        if done is not None:
            return PointsOpResult(**done, repeated=True)
        _member_exists(conn, member_id)
        member_standing.check(conn, member_id, member_standing.REDEEM, clerk=clerk)
        plan = spendable_lots(conn, member_id, now, item.points)
        entry = new_entry(tx, clerk, member_id=member_id, kind=GIFT, points=-item.points,
                          at=now, txn_id=txn_id, note=f"{item.code} {item.name}"[:200],
                          consume=plan)
        ev = record_points_event(tx, clerk, REDEEMED, member_id=member_id, entries=[entry],
                                 extra={"txn_id": txn_id, "item": item.code})
        template = uow.rules.coupons.template(item.template) if item.kind == "coupon" else None
        if template is not None:  # a coupon item: a real coupon, in the same transaction
            from pos_member.services.coupons import POINTS, issue_in

            issue_in(tx, clerk, member_id=member_id, template=template, source=POINTS,
                     trigger_key=f"points:{txn_id}", txn_id=txn_id)
        result = {"txn_id": txn_id, "member_id": member_id, "points": -item.points,
                  "balance": balance_of(conn, member_id)}
        tell_points(tx, member_id=member_id, change=-item.points, balance=result["balance"],
                    reason="redeemed", key=ev.id)
        keep_txn(conn, txn_id, GIFT, member_id, result, now)
        tx.audit(clerk, REDEEMED, "member", member_id, after=result, event=ev)
        tx.commit()
    return PointsOpResult(**result)


def check_adjustment(*, points: object, reason: str | None) -> str:
    """The checks of a new adjustment's own inputs, which need nothing stored: ``points`` a
    whole number, not 0, at most 1,000,000 either way; a reason. Returns the reason with its
    spaces tidied; raises :class:`PointsReasonRequired` or :class:`InvalidInput`."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 \
            or abs(points) > 1_000_000:
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "An adjustment is a whole number of points, not 0, at most 1,000,000."))
    reason = one_line(reason)
    if not reason:
        raise PointsReasonRequired()
    return reason


def _check_new_adjustment(conn: Connection, *, txn_id: str, member_id: str, points: int,
                          reason: str | None) -> tuple[dict[str, Any] | None, str, int]:
    """What :func:`adjust_points` checks before it writes: the first result when ``txn_id``
    was done already (the inputs of a repeat are not checked again: the dialog may have
    cleared them), else the tidied reason and the member's balance, or the refusal."""
    done = txn_result(conn, txn_id, ADJUST)
    if done is not None:
        return done, "", 0
    reason = check_adjustment(points=points, reason=reason)
    _member_exists(conn, member_id)
    before = balance_of(conn, member_id)
    if points < 0 and before < -points:  # FIFO over every open lot, pending ones too
        raise InsufficientPoints(available=max(0, before), wanted=-points)
    return None, reason, before


def adjust_points(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, txn_id: str,
                  member_id: str, points: int, reason: str) -> PointsOpResult:
    """A manual adjustment (either sign), approved by a manager (``approver``: the clerk
    who entered their PIN at the till), with a reason; audited. A negative adjustment may not
    take more than the balance. A repeat of a done ``txn_id`` returns its first result,
    whatever the other inputs are now. At the till, :func:`adjust_points_with_pin`."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.ADJUST_POINTS)
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done, reason, before = _check_new_adjustment(conn, txn_id=txn_id, member_id=member_id,
                                                     points=points, reason=reason)
        if done is not None:
            return PointsOpResult(**done, repeated=True)
        entry = new_entry(tx, clerk, member_id=member_id, kind=ADJUST, points=points, at=now,
                          txn_id=txn_id, note=f"{reason[:150]} · {approver.name}"[:200])
        ev = record_points_event(tx, clerk, ADJUSTED, member_id=member_id, entries=[entry],
                                 extra={"txn_id": txn_id, "approved_by": approver.staff_id,
                                        "reason": reason[:200]})
        result = {"txn_id": txn_id, "member_id": member_id, "points": points,
                  "balance": before + points}
        tell_points(tx, member_id=member_id, change=points, balance=before + points,
                    reason="adjusted", key=ev.id)
        keep_txn(conn, txn_id, ADJUST, member_id, result, now)
        tx.audit(clerk, ADJUSTED, "member", member_id, before={"balance": before},
                 after={"balance": before + points, "reason": reason[:200],
                        "approved_by": approver.staff_id}, event=ev)
        tx.commit()
    return PointsOpResult(**result)


def adjust_points_with_pin(uow: UnitOfWork, *, clerk: Clerk, manager_code: str,
                           manager_pin: str, txn_id: str, member_id: str, points: int,
                           reason: str) -> PointsOpResult:
    """The till's adjustment (Ctrl+F7): the cashier's inputs and a manager's staff number and
    PIN. Everything that can refuse the adjustment itself (the inputs, the member, the balance
    a negative one needs, a till transaction id used for something else) is checked first,
    reading only, so a refused adjustment writes nothing, not even the manager's login. Then
    the PIN: a wrong one counts towards the manager's lock and a right one is audited as a
    ``staff.login`` (:func:`pos_member.services.staff.login`), each committed on its own;
    then :func:`adjust_points` in its own transaction, which checks again. A repeat of a done
    ``txn_id`` returns its first result without asking the PIN again (and writes nothing)."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        done, _, _ = _check_new_adjustment(s.connection(), txn_id=txn_id, member_id=member_id,
                                           points=points, reason=reason)
    if done is not None:
        return PointsOpResult(**done, repeated=True)
    approver = login(uow, code=manager_code, secret=manager_pin, device_id=clerk.device_id)
    return adjust_points(uow, clerk=clerk, approver=approver, txn_id=txn_id,
                         member_id=member_id, points=points, reason=reason)


def raise_negative_flag(tx: Transaction, clerk: Clerk, *, member_id: str, balance: int,
                        bill_no: str | None) -> None:
    """A claw-back left the member's balance below zero: an alert for the manager."""
    flag = Flag(id=tx.new_id(), kind=NEGATIVE_FLAG, store_id=clerk.store_id,
                device_id=clerk.device_id, raised_at=tx.clock.now(),
                detail={"member_id": member_id, "balance": balance, "bill_no": bill_no},
                resolved_at=None, resolved_by=None)
    tx.session.add(flag)
    payload = events.FlagRaised(flag_id=flag.id, kind=NEGATIVE_FLAG, **flag.detail)
    ev = tx.record(clerk, events.FLAG_RAISED, payload, entity_id=flag.id)
    tx.audit(clerk, events.FLAG_RAISED.type, "flag", flag.id, after=ev.payload, event=ev)


# -- reading --------------------------------------------------------------------------------


def points_summary(uow: UnitOfWork, *, member_id: str) -> PointsSummary:
    """The member's balance (the ledger's sum) and, of their lots not yet past their expiry,
    what can be spent now, what is pending and the next expiry. Points whose expiry has come
    count in the balance until the expiry job posts them, but are neither spendable nor
    pending."""
    now = uow.clock.now()
    with uow.read() as s:
        conn = s.connection()
        balance = balance_of(conn, member_id)
        spendable = pending = 0
        next_expiry: datetime | None = None
        next_points = 0
        for lot in conn.execute(LIVE_LOTS, {"member_id": member_id, "now": now}):
            if aware(lot.available_at) > now:
                pending += lot.remaining
            else:
                spendable += lot.remaining
            exp = aware(lot.expires_at)
            if next_expiry is None:
                next_expiry, next_points = exp, lot.remaining
            elif exp == next_expiry:
                next_points += lot.remaining
    return PointsSummary(member_id, balance, spendable, pending, next_expiry, next_points)


def ledger(uow: UnitOfWork, *, clerk: Clerk, member_id: str, limit: int = 500
           ) -> list[LedgerLine]:
    """The member's points ledger, newest first, with the running balance after each line."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        rows = s.execute(
            select(PointsEntry.at, PointsEntry.kind, PointsEntry.points, Store.name,
                   func.coalesce(Staff.name, PointsEntry.clerk_name), PointsEntry.bill_no,
                   PointsEntry.note, PointsEntry.id)
            .outerjoin(Store, Store.id == PointsEntry.store_id)
            .outerjoin(Staff, Staff.id == PointsEntry.clerk_id)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.at, PointsEntry.id)
        ).all()
    out: list[LedgerLine] = []
    running = 0
    for at, kind, pts, store, clerk_name, bill, note, _ in rows:
        running += pts
        out.append(LedgerLine(aware(at), kind, pts, running, store or "—", clerk_name, bill,
                              note))
    out.reverse()
    return out[:limit]
