"""Sales rung up at the till, and their refunds: the source of points, of a member's rolling
spend (tiers) and of the recruitment KPIs (会销比 counts walk-in sales too).

:func:`record_sale` is the one entry point other areas call (the KPI demo does): a bill, its
amount, the member or a walk-in, the guide, optional categories and points to redeem. Repeating
a request with the same ``txn_id`` returns the first result and writes nothing.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from msgspec import UNSET
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.compiled import Prepared
from pos_member.db.models import Member, PointsAccount, PointsEntry, Sale, SalePoints, Staff
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import DomainError, GuideNotFound, InvalidInput, MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.points_rules import (
    EarnBreakdown,
    Multiplier,
    earn_for_sale,
    growth_of_sale,
    level_of,
    points_value_fen,
    redeem_cap_points,
    redeem_step,
    referral_points,
    share,
)
from pos_member.services import points as pts
from pos_member.services import tiers
from pos_member.services.staff import approve as staff_approve

log = logging.getLogger(__name__)

SALE_RECORDED = events.SALE_RECORDED.type
SALE_REFUNDED = events.SALE_REFUNDED.type
MAX_AMOUNT_FEN = 10_000_000_00  # ¥10,000,000: more is a typing slip, not a sale
MAX_BILL_NO = 32

_SALES = Sale.__table__
_SALE_POINTS = SalePoints.__table__
_ENTRIES = PointsEntry.__table__
_SALE_BY_TXN = select(_SALES.c.id).where(_SALES.c.txn_id == bindparam("txn_id"))
_SALE_BY_BILL = select(_SALES).where(_SALES.c.store_id == bindparam("store_id"),
                                     _SALES.c.bill_no == bindparam("bill_no"))
_MEMBER = select(Member.tier, Member.birthday, Member.referrer_id, Member.status).where(
    Member.id == bindparam("member_id"))
_EARNED_SINCE = (select(func.coalesce(func.sum(_ENTRIES.c.points), 0))
                 .where(_ENTRIES.c.member_id == bindparam("member_id"),
                        _ENTRIES.c.kind == pts.EARN, _ENTRIES.c.at >= bindparam("since")))
_INSERT_SALE = insert(_SALES)
_LOTS = pts._LOTS
_SPENDABLE_NOW = select(func.sum(_LOTS.c.remaining)).where(
    _LOTS.c.member_id == bindparam("member_id"), pts._OPEN,
    _LOTS.c.expires_at > bindparam("now"), _LOTS.c.available_at <= bindparam("now"))
_INSERT_SALE_POINTS = insert(_SALE_POINTS)
_HAS_SALE = select(_SALES.c.id).where(_SALES.c.member_id == bindparam("member_id")).limit(1)
# The hot path of a member sale reads in one statement what it needs: the request's txn id or
# bill number already taken, the member with their balance, today's earned points, whether they
# bought before, and (below the top tier) the rolling spend and growth of tiers.py. A walk-in
# sale (or an unknown member) asks only whether the txn id or the bill number is taken.
_SALE_TAKEN = select(_SALES.c.id, _SALES.c.txn_id).where(or_(
    _SALES.c.txn_id == bindparam("txn_id"),
    and_(_SALES.c.store_id == bindparam("store_id"), _SALES.c.bill_no == bindparam("bill_no"))))
_ACCOUNTS = PointsAccount.__table__
_NET = _SALES.c.amount_fen - _SALES.c.refunded_fen
_IN_WINDOW = (_SALES.c.member_id == bindparam("member_id"),
              _SALES.c.sold_at >= bindparam("window_since"))
# tiers.standing_figures in the same statement, under a CASE so that SQLite skips both scans of
# the member's sales at the top tier, where there is nothing to reach (NULL there).
_BELOW_TOP = Member.tier != bindparam("top_tier")
_MEMBER_FOR_SALE = select(
    Member.tier, Member.birthday, Member.referrer_id, Member.status,
    select(_ACCOUNTS.c.balance).where(_ACCOUNTS.c.member_id == bindparam("member_id"))
    .scalar_subquery().label("balance"),
    _EARNED_SINCE.scalar_subquery().label("earned_today"),
    exists(_HAS_SALE).label("has_sale"),
    select(_SALES.c.id).where(_SALES.c.txn_id == bindparam("txn_id")).scalar_subquery()
    .label("repeated"),
    exists(select(_SALES.c.id).where(_SALES.c.store_id == bindparam("store_id"),
                                     _SALES.c.bill_no == bindparam("bill_no"))).label("bill_taken"),
    case((_BELOW_TOP, select(func.sum(case((_NET > 0, _NET), else_=0)))
          .where(*_IN_WINDOW).scalar_subquery()), else_=None).label("spend"),
    case((_BELOW_TOP, select(func.sum(case(
        (_NET > 0, _NET // bindparam("g") + bindparam("p")), else_=0)))
        .where(*_IN_WINDOW).scalar_subquery()), else_=None).label("growth"),
).where(Member.id == bindparam("member_id"))
# Run straight on the driver (pos_member/db/compiled.py): the hot path of a member sale.
_FAST_MEMBER_FOR_SALE = Prepared(_MEMBER_FOR_SALE)
_FAST_INSERT_SALE = Prepared(_INSERT_SALE, column_keys=(
    "id", "txn_id", "store_id", "device_id", "bill_no", "amount_fen", "member_id", "clerk_id",
    "guide_id", "categories", "sold_at", "business_day", "refunded_fen"))
_FAST_INSERT_SALE_POINTS = Prepared(_INSERT_SALE_POINTS, column_keys=(
    "sale_id", "member_id", "bill_fen", "redeem_points", "redeem_fen", "earned", "clawed",
    "restored", "redeem_lots", "detail"))


class DuplicateBill(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "Bill {bill_no} is already recorded.")


class SaleNotFound(DomainError):
    message = QT_TRANSLATE_NOOP("errors", "No sale with bill number {bill_no} in this store.")


class RefundTooLarge(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "At most {left} can still be refunded on bill {bill_no}."
    )


class InvalidAmount(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "The amount must be more than ¥0.00.")


@dataclass(frozen=True, slots=True)
class SaleResult:
    sale_id: str
    txn_id: str
    bill_no: str
    bill_fen: int  # the bill before points
    redeem_points: int
    redeem_fen: int
    paid_fen: int  # what the customer paid: bill − points
    member_id: str | None
    earn: EarnBreakdown | None  # None for a walk-in
    referral_points: int  # given to the referrer (first purchase of a referred member)
    balance: int  # the member's points after the sale
    tier_before: str | None
    tier_after: str | None
    repeated: bool = False

    @property
    def upgraded(self) -> bool:
        return self.tier_before is not None and self.tier_before != self.tier_after

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.SALES, Area.POINTS, members=(self.member_id,))


@dataclass(frozen=True, slots=True)
class RefundResult:
    txn_id: str
    sale_id: str
    bill_no: str
    refund_fen: int
    refunded_total_fen: int
    clawed_points: int
    restored_points: int
    balance: int | None  # None for a walk-in sale
    flagged: bool  # the member's balance went below zero
    repeated: bool = False
    member_id: str | None = None  # the sale's member (None: a walk-in, or a repeated call)

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.SALES, Area.POINTS, members=(self.member_id,))


@dataclass(frozen=True, slots=True)
class SaleQuote:
    """What the till shows before the sale is committed."""

    cap_points: int
    spendable: int
    redeem_step: int
    earn: EarnBreakdown | None
    paid_fen: int
    tier: str | None
    extras: tuple[str, ...] = field(default=())


# -- validation -----------------------------------------------------------------------------


def clean_bill_no(bill_no: str) -> str:
    bill = unicodedata.normalize("NFKC", bill_no or "").strip()
    if not bill or len(bill) > MAX_BILL_NO or any(
            unicodedata.category(c).startswith(("C", "Z")) for c in bill):
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "A bill number is 1 to 32 letters or digits, without spaces."))
    return bill


def _check_amount(amount_fen: object) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidAmount()
    if amount_fen <= 0 or amount_fen > MAX_AMOUNT_FEN:
        raise InvalidAmount()
    return amount_fen


def _clean_categories(categories: tuple[str, ...] | list[str]) -> list[str]:
    out: list[str] = []
    for c in categories:
        c = unicodedata.normalize("NFKC", str(c)).strip()
        if c and c not in out:
            if len(c) > 20:
                raise InvalidInput(QT_TRANSLATE_NOOP(
                    "errors", "A category is at most 20 characters."))
            out.append(c)
    return out[:10]


def local_day_start(now: datetime, zone: tzinfo) -> datetime:
    """The start of the store's day (midnight in the store's time ``zone``) that ``now`` is in."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


# -- quote ----------------------------------------------------------------------------------


def quote_sale(uow: UnitOfWork, *, member_id: str | None, amount_fen: int,
               redeem_points: int = 0) -> SaleQuote:
    """The cap, what the member can spend and the points the sale would earn, without writing
    anything (the till shows it while the cashier types)."""
    amount_fen = _check_amount(amount_fen)
    rules = uow.rules
    cap = redeem_cap_points(rules.points, amount_fen)
    if member_id is None:
        return SaleQuote(0, 0, redeem_step(rules.points), None, amount_fen, None)
    now = uow.clock.now()
    with uow.read() as s:
        conn = s.connection()
        m = conn.execute(_MEMBER, {"member_id": member_id}).first()
        if m is None:
            raise MemberNotFound(query=member_id[:8])
        # One SUM over the open lots' partial index, not a Python walk over years of lots
        # (the till asks again as the cashier types).
        summary_spendable = int(conn.execute(_SPENDABLE_NOW, {
            "member_id": member_id, "now": now}).scalar() or 0)
        spendable = min(summary_spendable, max(0, pts.balance_of(conn, member_id)))
        earned_today = int(conn.execute(_EARNED_SINCE, {
            "member_id": member_id, "since": local_day_start(now, uow.clock.zone)}).scalar() or 0)
    redeem = min(max(0, redeem_points), cap, spendable)
    paid = amount_fen - points_value_fen(rules.points, redeem)
    earn = earn_for_sale(rules.points, paid_fen=paid,
                         tier_percent=level_of(rules.tiers, m.tier).earn_multiplier_percent,
                         day=uow.clock.local(now).date(), birthday=m.birthday,
                         earned_today=earned_today)
    return SaleQuote(cap, spendable, redeem_step(rules.points), earn, paid, m.tier)


# -- record ---------------------------------------------------------------------------------


def record_sale(
    uow: UnitOfWork,
    clerk: Clerk,
    *,
    txn_id: str,
    bill_no: str,
    amount_fen: int,
    member_id: str | None = None,
    guide_id: str | None = None,
    categories: tuple[str, ...] | list[str] = (),
    redeem_points: int = 0,
) -> SaleResult:
    """Records a sale of ``amount_fen`` (the bill, before points) and, for a member, its points:
    ``redeem_points`` off the bill (at most ``redeem_cap_percent`` of it and what the member can
    spend now), then points earned on what was paid, the referrer's reward on a referred
    member's first purchase, and an immediate tier upgrade when a threshold is reached. One
    ``sale.recorded`` event, one audit row, committed together.

    Refuses, changing nothing: a bad amount or bill number, a bill already recorded in this
    store, an unknown member or guide, redeeming more than the cap or the balance."""
    require(clerk, Action.VIEW_MEMBER)
    amount_fen = _check_amount(amount_fen)
    bill_no = clean_bill_no(bill_no)
    cats = _clean_categories(categories)
    rules = uow.rules
    if isinstance(redeem_points, bool) or not isinstance(redeem_points, int) \
            or redeem_points < 0:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Points to redeem must be 0 or more."))
    if redeem_points and member_id is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Only a member can redeem points."))
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        if not txn_id or len(txn_id) > 36:
            raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The till transaction id is missing."))
        m: Any = None
        if member_id is not None:  # the member, and whether the txn or bill is taken
            m = _FAST_MEMBER_FOR_SALE.first(conn, {
                "member_id": member_id, "txn_id": txn_id, "store_id": clerk.store_id,
                "bill_no": bill_no, "since": local_day_start(now, uow.clock.zone),
                "window_since": now - timedelta(days=365), "top_tier": rules.tiers.levels[-1].code,
                "g": rules.tiers.growth_fen_per_point, "p": rules.tiers.growth_per_purchase,
            })
        if m is None:
            taken = conn.execute(_SALE_TAKEN, {"txn_id": txn_id, "store_id": clerk.store_id,
                                               "bill_no": bill_no}).all()
            first = next((t.id for t in taken if t.txn_id == txn_id), None)
            bill_taken = bool(taken)
        else:
            first, bill_taken = m.repeated, m.bill_taken
        if first is not None:
            return _stored_result(conn, first)
        if bill_taken:
            raise DuplicateBill(bill_no=bill_no)
        if guide_id is not None:
            g = conn.execute(select(Staff.active).where(Staff.id == guide_id,
                                                        Staff.store_id == clerk.store_id)).first()
            if g is None or not g.active:
                raise GuideNotFound()
        sale_id = tx.new_id()
        entries: list[dict[str, Any]] = []
        earn: EarnBreakdown | None = None
        redeem_fen = ref_points = 0
        tier_before = tier_after = None
        redeem_lots: list[list[Any]] = []
        balances: dict[str, int] = {}
        known_lots: dict[str, tuple[int, str]] = {}
        figures: tuple[int, int] | None = None
        if member_id is not None:
            if m is None or m.status != "active":
                raise MemberNotFound(query=member_id[:8])
            tier_before = m.tier
            if m.balance is not None:
                balances[member_id] = m.balance
            if redeem_points:
                cap = redeem_cap_points(rules.points, amount_fen)
                step = redeem_step(rules.points)
                if redeem_points > cap:
                    raise pts.RedeemOverCap(cap=cap)
                if redeem_points % step:
                    raise InvalidInput(QT_TRANSLATE_NOOP(
                        "errors", "Points are redeemed in steps of {step}."), step=step)
                plan = pts.plan_spend(conn, member_id, now, redeem_points, m.balance or 0)
                known_lots = {lot: (rem, exp) for lot, _, rem, exp in plan}
                redeem_fen = points_value_fen(rules.points, redeem_points)
                entries.append(pts.new_entry(
                    tx, clerk, member_id=member_id, kind=pts.REDEEM, points=-redeem_points,
                    at=now, txn_id=txn_id, sale_id=sale_id, bill_no=bill_no,
                    consume=[(lot, k) for lot, k, _, _ in plan]))
            paid = amount_fen - redeem_fen
            earned_today = int(m.earned_today or 0)
            if m.tier != rules.tiers.levels[-1].code:  # this sale counts too
                figures = (int(m.spend or 0) + max(0, paid),
                           int(m.growth or 0) + growth_of_sale(rules.tiers, paid))
            earn = earn_for_sale(
                rules.points, paid_fen=paid,
                tier_percent=level_of(rules.tiers, m.tier).earn_multiplier_percent,
                day=uow.clock.local(now).date(), birthday=m.birthday, earned_today=earned_today)
            if earn.earned > 0:
                entries.append(pts.new_entry(
                    tx, clerk, member_id=member_id, kind=pts.EARN, points=earn.earned, at=now,
                    txn_id=txn_id, sale_id=sale_id, bill_no=bill_no, entry_id=sale_id,
                    lot_available_at=now + timedelta(days=rules.points.pending_days)))
            # Only a referred member's first purchase rewards anyone: ask only then.
            if m.referrer_id and not m.has_sale:
                ref_points = referral_points(
                    paid, rules.registration.referral_first_purchase_percent,
                    rules.points.points_per_yuan)
                referrer_ok = conn.execute(select(Member.status).where(
                    Member.id == m.referrer_id)).scalar() == "active"
                if ref_points > 0 and referrer_ok:
                    entries.append(pts.new_entry(
                        tx, clerk, member_id=m.referrer_id, kind=pts.REFERRAL,
                        points=ref_points, at=now, txn_id=txn_id, sale_id=sale_id,
                        bill_no=bill_no))
                else:
                    ref_points = 0
        paid_fen = amount_fen - redeem_fen
        sale = {
            "id": sale_id, "txn_id": txn_id, "store_id": clerk.store_id,
            "device_id": clerk.device_id, "bill_no": bill_no, "amount_fen": paid_fen,
            "member_id": member_id, "clerk_id": clerk.staff_id, "guide_id": guide_id,
            "categories": cats, "sold_at": now, "business_day": uow.clock.local(now).date(),
            "refunded_fen": 0,
        }
        _FAST_INSERT_SALE.run(conn, sale)
        wire_sale = {**sale, "sold_at": now.isoformat(),
                     "business_day": sale["business_day"].isoformat()}
        payload = events.SaleRecorded(
            sale=wire_sale, member_id=member_id, txn_id=txn_id, entries=entries,
            points=events.SalePoints(bill_fen=amount_fen, redeem_points=redeem_points,
                                     redeem_fen=redeem_fen, earned=earn.earned if earn else 0)
            if member_id is not None else UNSET)
        detail: dict[str, Any] = {}
        ev = tx.record(clerk, events.SALE_RECORDED, payload, entity_id=sale_id)
        after: dict[str, int] = {}
        if entries:
            consumed, after = pts.post_fresh(conn, entries, event_id=ev.id, balances=balances,
                                             lots=known_lots)
            redeem_lots = [list(c) for e in entries if e["kind"] == pts.REDEEM
                           for c in consumed[e["id"]]]
        balance = None
        if member_id is not None and earn is not None:
            tier_after = tiers.upgrade_if_reached(tx, clerk, member_id=member_id, now=now,
                                                  current=tier_before, figures=figures)
            balance = after[member_id] if member_id in after else (
                balances[member_id] if member_id in balances else pts.balance_of(conn, member_id))
            detail = _detail(txn_id, sale_id, bill_no, amount_fen, redeem_points, redeem_fen,
                             paid_fen, member_id, earn, ref_points, balance, tier_before,
                             tier_after)
            _FAST_INSERT_SALE_POINTS.run(conn, {
                "sale_id": sale_id, "member_id": member_id, "bill_fen": amount_fen,
                "redeem_points": redeem_points, "redeem_fen": redeem_fen,
                "earned": earn.earned, "clawed": 0, "restored": 0,
                "redeem_lots": redeem_lots, "detail": detail})
        tx.audit(clerk, SALE_RECORDED, "sale", sale_id, after={
            "bill_no": bill_no, "amount_fen": paid_fen, "member_id": member_id,
            "redeem_points": redeem_points, "earned": earn.earned if earn else 0,
            "referral_points": ref_points}, event=ev)
        tx.commit()
    return SaleResult(sale_id, txn_id, bill_no, amount_fen, redeem_points, redeem_fen, paid_fen,
                      member_id, earn, ref_points, balance or 0, tier_before, tier_after)


def _detail(txn_id: str, sale_id: str, bill_no: str, bill_fen: int, redeem_points: int,
            redeem_fen: int, paid_fen: int, member_id: str, earn: EarnBreakdown,
            ref_points: int, balance: int, tier_before: str | None, tier_after: str | None
            ) -> dict[str, Any]:
    return {
        "txn_id": txn_id, "sale_id": sale_id, "bill_no": bill_no, "bill_fen": bill_fen,
        "redeem_points": redeem_points, "redeem_fen": redeem_fen, "paid_fen": paid_fen,
        "member_id": member_id, "referral_points": ref_points, "balance": balance,
        "tier_before": tier_before, "tier_after": tier_after,
        "earn": {"base": earn.base, "multiplied": earn.multiplied, "bonus": earn.bonus,
                 "earned": earn.earned, "not_earned": earn.not_earned,
                 "multipliers": [[m.code, m.percent] for m in earn.multipliers]},
    }


def _stored_result(conn: Connection, sale_id: str) -> SaleResult:
    """The first result of a repeated request."""
    d = conn.execute(select(_SALE_POINTS.c.detail).where(
        _SALE_POINTS.c.sale_id == sale_id)).scalar()
    if d is None:
        s = conn.execute(select(_SALES).where(_SALES.c.id == sale_id)).one()
        return SaleResult(s.id, s.txn_id, s.bill_no, s.amount_fen, 0, 0, s.amount_fen,
                          s.member_id, None, 0, 0, None, None, repeated=True)
    e = d["earn"]
    earn = EarnBreakdown(e["base"], tuple(Multiplier(c, p) for c, p in e["multipliers"]),
                         e["multiplied"], e["bonus"], e["earned"], e["not_earned"])
    return SaleResult(d["sale_id"], d["txn_id"], d["bill_no"], d["bill_fen"],
                      d["redeem_points"], d["redeem_fen"], d["paid_fen"], d["member_id"], earn,
                      d["referral_points"], d["balance"], d["tier_before"], d["tier_after"],
                      repeated=True)


# -- refund ---------------------------------------------------------------------------------


def refund_sale_with_pin(uow: UnitOfWork, clerk: Clerk, *, manager_code: str,
                         manager_pin: str, txn_id: str, bill_no: str,
                         amount_fen: int | None = None) -> RefundResult:
    """The till's refund (Shift+F4): the cashier's inputs and a manager's staff number and PIN
    (a logged-in manager may leave them empty). A repeat of a done ``txn_id`` returns its first
    result without asking again; otherwise the PIN is checked (a wrong one counts towards the
    manager's lock, a right one is audited as ``staff.login``), then :func:`refund_sale`."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        done = pts._txn_result(s.connection(), txn_id, "refund")
    if done is not None:
        return RefundResult(**done, repeated=True)
    if clerk.may(Action.REFUND_SALE) and not manager_code.strip():
        approver = clerk
    else:
        approver = staff_approve(uow, code=manager_code.strip(), pin=manager_pin,
                                 device_id=clerk.device_id, action=Action.REFUND_SALE)
    return refund_sale(uow, clerk, approver=approver, txn_id=txn_id, bill_no=bill_no,
                       amount_fen=amount_fen)


def refund_sale(uow: UnitOfWork, clerk: Clerk, *, approver: Clerk, txn_id: str, bill_no: str,
                amount_fen: int | None = None) -> RefundResult:
    """Refunds ``amount_fen`` of a sale of this store (None: all that is left), approved by a
    manager (``approver``: the clerk themself if a manager, or the manager who entered their
    number and PIN at the till; named in the event and the audit). For a member sale, the
    points earned on the refunded part are taken back, even if already spent (the balance may
    go below zero: the member is flagged for the manager), and the points redeemed on it are
    given back as lots with their original expiry. Shares are cumulative over partial refunds,
    so a sale refunded in parts ends exactly where a full refund would."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.REFUND_SALE)
    bill_no = clean_bill_no(bill_no)
    if amount_fen is not None:
        amount_fen = _check_amount(amount_fen)
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done = pts._txn_result(conn, txn_id, "refund")
        if done is not None:
            return RefundResult(**done, repeated=True)
        sale = conn.execute(_SALE_BY_BILL, {"store_id": clerk.store_id,
                                            "bill_no": bill_no}).first()
        if sale is None:
            raise SaleNotFound(bill_no=bill_no)
        left = sale.amount_fen - sale.refunded_fen
        amount = left if amount_fen is None else amount_fen
        if amount <= 0 or amount > left:
            from pos_member.money import format_yuan

            raise RefundTooLarge(left=format_yuan(left), bill_no=bill_no)
        total = sale.refunded_fen + amount
        sp = conn.execute(select(_SALE_POINTS).where(
            _SALE_POINTS.c.sale_id == sale.id)).first()
        entries: list[dict[str, Any]] = []
        claw = restore = 0
        if sp is not None:
            claw = share(sp.earned, total, sale.amount_fen) - sp.clawed
            restore = share(sp.redeem_points, total, sale.amount_fen) - sp.restored
            if claw > 0:
                entries.append(pts.new_entry(
                    tx, clerk, member_id=sp.member_id, kind=pts.CLAWBACK, points=-claw, at=now,
                    txn_id=txn_id, sale_id=sale.id, bill_no=bill_no,
                    consume=[(sale.id, claw)]))
            entries.extend(_restore_entries(tx, clerk, sp, restore, now, txn_id, sale.id,
                                            bill_no))
        payload = events.SaleRefunded(sale_id=sale.id, txn_id=txn_id, member_id=sale.member_id,
                                      refund_fen=amount, clawed=claw, restored=restore,
                                      entries=entries,
                                      approved_by=approver.staff_id)
        ev = tx.record(clerk, events.SALE_REFUNDED, payload, entity_id=sale.id)
        _apply_refund(conn, sale.id, amount, claw, restore)
        for e in entries:
            pts.post_entry(conn, e, event_id=ev.id, fresh=True)
        balance = pts.balance_of(conn, sp.member_id) if sp is not None else None
        flagged = balance is not None and balance < 0
        if flagged and sp is not None:
            pts.raise_negative_flag(tx, clerk, member_id=sp.member_id, balance=balance or 0,
                                    bill_no=bill_no)
        result = {"txn_id": txn_id, "sale_id": sale.id, "bill_no": bill_no,
                  "refund_fen": amount, "refunded_total_fen": total, "clawed_points": claw,
                  "restored_points": restore, "balance": balance, "flagged": flagged}
        pts._keep_txn(conn, txn_id, "refund", sale.member_id, result, now)
        tx.audit(clerk, SALE_REFUNDED, "sale", sale.id,
                 before={"refunded_fen": sale.refunded_fen},
                 after={**result, "approved_by": approver.staff_id}, event=ev)
        tx.commit()
    return RefundResult(**result, member_id=sale.member_id)


def _restore_entries(tx: Transaction, clerk: Clerk, sp: Any, restore: int, now: datetime,
                     txn_id: str, sale_id: str, bill_no: str) -> list[dict[str, Any]]:
    """Redeemed points given back, one entry per lot they came from, each with that lot's
    expiry (an already past expiry makes the expiry job take them at its next run)."""
    out: list[dict[str, Any]] = []
    skip = sp.restored
    for lot_id, n, expires in sp.redeem_lots:
        take = min(n, max(0, skip))
        skip -= take
        avail = n - take
        k = min(avail, restore)
        if k > 0:
            out.append(pts.new_entry(
                tx, clerk, member_id=sp.member_id, kind=pts.RESTORE, points=k, at=now,
                txn_id=txn_id, sale_id=sale_id, bill_no=bill_no,
                lot_expires_at=pts._dt(expires), note=str(lot_id)[:36]))
            restore -= k
        if restore <= 0:
            break
    return out


def _apply_refund(conn: Connection, sale_id: str, amount: int, claw: int, restore: int) -> None:
    conn.execute(update(_SALES).where(_SALES.c.id == sale_id)
                 .values(refunded_fen=_SALES.c.refunded_fen + amount))
    conn.execute(update(_SALE_POINTS).where(_SALE_POINTS.c.sale_id == sale_id)
                 .values(clawed=_SALE_POINTS.c.clawed + claw,
                         restored=_SALE_POINTS.c.restored + restore))


# -- pulled events --------------------------------------------------------------------------


def apply_sale_recorded(conn: Connection, ev: Mapping[str, Any]) -> bool:
    p = ev["payload"]
    s = dict(p["sale"])
    row = {
        "id": str(s["id"]), "txn_id": str(s["txn_id"]), "store_id": str(s["store_id"]),
        "device_id": str(s["device_id"]), "bill_no": str(s["bill_no"]),
        "amount_fen": int(s["amount_fen"]), "member_id": s.get("member_id"),
        "clerk_id": s.get("clerk_id"), "guide_id": s.get("guide_id"),
        "categories": list(s.get("categories") or []), "sold_at": pts._dt(s["sold_at"]),
        "business_day": datetime.fromisoformat(s["business_day"]).date()
        if "T" in s["business_day"] else _date(s["business_day"]),
        "refunded_fen": 0,
    }
    entries = [pts._decode(e) for e in p.get("entries") or ()]
    pp = p.get("points")
    if conn.execute(select(_SALES.c.id).where(_SALES.c.id == row["id"])).first() is not None:
        return False
    if row["member_id"] is not None:  # a member merged away here: the sale is the winner's
        row["member_id"] = pts.current_member(conn, str(row["member_id"]))
    if conn.execute(_SALE_BY_BILL, {"store_id": row["store_id"],
                                    "bill_no": row["bill_no"]}).first() is not None:
        # Two tills of a store gave one bill number offline: keep both sales.
        log.warning("pulled sale %s: bill %s taken here, kept with a suffix", row["id"],
                    row["bill_no"])
        row["bill_no"] = f"{row['bill_no'][:27]}~{row['id'][-4:]}"
    if conn.execute(_SALE_BY_TXN, {"txn_id": row["txn_id"]}).first() is not None:
        return False
    conn.execute(insert(_SALES), row)
    redeem_lots: list[list[Any]] = []
    for e in entries:
        consumed = pts.post_entry(conn, e, event_id=ev["id"])
        if e["kind"] == pts.REDEEM:
            redeem_lots = [list(c) for c in consumed]
    if pp is not None and row["member_id"] is not None:
        conn.execute(insert(_SALE_POINTS), {
            "sale_id": row["id"], "member_id": row["member_id"],
            "bill_fen": int(pp["bill_fen"]), "redeem_points": int(pp["redeem_points"]),
            "redeem_fen": int(pp["redeem_fen"]), "earned": int(pp["earned"]), "clawed": 0,
            "restored": 0, "redeem_lots": redeem_lots, "detail": {}})
    return True


def apply_sale_refunded(conn: Connection, ev: Mapping[str, Any]) -> bool:
    p = ev["payload"]
    sale_id, amount = str(p["sale_id"]), int(p["refund_fen"])
    claw, restore = int(p.get("clawed", 0)), int(p.get("restored", 0))
    entries = [pts._decode(e) for e in p.get("entries") or ()]
    if conn.execute(select(_SALES.c.id).where(_SALES.c.id == sale_id)).first() is None:
        log.warning("pulled refund of sale %s, which is not here", sale_id)
    else:
        _apply_refund(conn, sale_id, amount, claw, restore)
    for e in entries:
        pts.post_entry(conn, e, event_id=ev["id"])
    return True


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


# Pulled event type → handler, for ``services/apply.py``'s dispatch table.
POINTS_HANDLERS = {
    SALE_RECORDED: apply_sale_recorded,
    SALE_REFUNDED: apply_sale_refunded,
    pts.WELCOMED: pts.points_events_handler,
    pts.REDEEMED: pts.points_events_handler,
    pts.ADJUSTED: pts.points_events_handler,
    pts.EXPIRED: pts.points_events_handler,
    tiers.TIER_CHANGED: tiers.apply_tier_changed,
}
