"""Sales rung up at the till: the source of points, of a member's rolling
spend (tiers) and of the recruitment KPIs (会销比 counts walk-in sales too).

:func:`record_sale` is the one entry point other areas call (the KPI demo does): a bill, its
amount, the member or a walk-in, the guide, optional categories and points to redeem. Repeating
a request with the same ``txn_id`` returns the first result and writes nothing.

What a member sale does to points is :mod:`pos_member.services.sale_points`; refunds are
:mod:`pos_member.services.sale_refunds`; sales pulled from other tills,
:mod:`pos_member.services.sales_sync`; the points a sale earns and redeems are worked out by
:mod:`pos_member.points_rules` and posted through :mod:`pos_member.services.points_ledger`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
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
    true,
)

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.models import Member, PointsAccount, PointsEntry, Sale, SalePoints, Staff
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import (
    DuplicateBill,
    GuideNotFound,
    InvalidInput,
    InvalidSaleAmount,
    MemberNotFound,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.points_rules import (
    EarnBreakdown,
    Multiplier,
    earn_for_sale,
    level_of,
    points_value_fen,
    redeem_cap_points,
    redeem_step,
)
from pos_member.services import member_directory, points_ledger, rfm
from pos_member.services.member_standing import Standing
from pos_member.services.points_notices import PointsNotice
from pos_member.services.profile_seal import birthday_of
from pos_member.services.sale_points import SalePointsPlan, member_points, post_sale_points
from pos_member.text_input import one_line

SALE_RECORDED = events.SALE_RECORDED.type
SALE_REFUNDED = events.SALE_REFUNDED.type
MAX_AMOUNT_FEN = 10_000_000_00  # ¥10,000,000: more is a typing slip, not a sale
MAX_BILL_NO = 32

SALES = Sale.__table__
SALE_POINTS = SalePoints.__table__
_ENTRIES = PointsEntry.__table__
SALE_BY_TXN = select(SALES.c.id).where(SALES.c.txn_id == bindparam("txn_id"))
SALE_BY_BILL = select(SALES).where(SALES.c.store_id == bindparam("store_id"),
                                     SALES.c.bill_no == bindparam("bill_no"))
_MEMBER = select(Member.tier, Member.birthday_enc, Member.referrer_id, Member.status).where(
    Member.id == bindparam("member_id"))
_EARNED_SINCE = (select(func.coalesce(func.sum(_ENTRIES.c.points), 0))
                 .where(_ENTRIES.c.member_id == bindparam("member_id"),
                        _ENTRIES.c.kind == points_ledger.EARN, _ENTRIES.c.at >= bindparam("since")))
_INSERT_SALE = insert(SALES)
_LOTS = points_ledger.LOTS
_SPENDABLE_NOW = select(func.sum(_LOTS.c.remaining)).where(
    _LOTS.c.member_id == bindparam("member_id"), points_ledger.OPEN,
    _LOTS.c.expires_at > bindparam("now"), _LOTS.c.available_at <= bindparam("now"))
_HAS_SALE = select(SALES.c.id).where(SALES.c.member_id == bindparam("member_id")).limit(1)
# The hot path of a member sale reads in one statement what it needs: the request's txn id or
# bill number already taken, the member with their balance, today's earned points, whether they
# bought before, and (below the top tier) the rolling spend and growth of tiers.py. A walk-in
# sale (or an unknown member) asks only whether the txn id or the bill number is taken.
_SALE_TAKEN = select(SALES.c.id, SALES.c.txn_id).where(or_(
    SALES.c.txn_id == bindparam("txn_id"),
    and_(SALES.c.store_id == bindparam("store_id"), SALES.c.bill_no == bindparam("bill_no"))))
_ACCOUNTS = PointsAccount.__table__
_NET = SALES.c.amount_fen - SALES.c.refunded_fen
_IN_WINDOW = (SALES.c.member_id == bindparam("member_id"),
              SALES.c.sold_at >= bindparam("window_since"))
# tiers.standing_figures in the same statement: the rolling spend and growth summed in one walk
# of the member's sales of the window (a derived table; two scalar subqueries walked them twice:
# 69 -> 57 us for a member with a hundred sales), both NULL at the top tier, where there is
# nothing to reach: there the member's row, joined first, stops the walk before it begins.
_BELOW_TOP = Member.tier != bindparam("top_tier")
_TIER_OF = Member.__table__.alias("tier_of")
_WINDOW = select(
    func.sum(case((_NET > 0, _NET), else_=0)).label("spend"),
    func.sum(case((_NET > 0, _NET // bindparam("g") + bindparam("p")), else_=0))
    .label("growth"),
).select_from(_TIER_OF.join(SALES, SALES.c.member_id == _TIER_OF.c.id)).where(
    _TIER_OF.c.id == bindparam("member_id"), _TIER_OF.c.tier != bindparam("top_tier"),
    *_IN_WINDOW).subquery("in_window")
_MEMBER_FOR_SALE = select(
    Member.tier, Member.birthday_enc, Member.referrer_id, Member.status,
    Member.store_id.label("home_store_id"),
    select(_ACCOUNTS.c.balance).where(_ACCOUNTS.c.member_id == bindparam("member_id"))
    .scalar_subquery().label("balance"),
    _EARNED_SINCE.scalar_subquery().label("earned_today"),
    exists(_HAS_SALE).label("has_sale"),
    select(SALES.c.id).where(SALES.c.txn_id == bindparam("txn_id")).scalar_subquery()
    .label("repeated"),
    exists(select(SALES.c.id).where(SALES.c.store_id == bindparam("store_id"),
                                     SALES.c.bill_no == bindparam("bill_no"))).label("bill_taken"),
    case((_BELOW_TOP, _WINDOW.c.spend), else_=None).label("spend"),
    case((_BELOW_TOP, _WINDOW.c.growth), else_=None).label("growth"),
).select_from(Member.__table__.join(_WINDOW, true())).where(Member.id == bindparam("member_id"))
# Run straight on the driver (pos_member/db/prepared.py): the hot path of a member sale.
_FAST_MEMBER_FOR_SALE = Prepared(_MEMBER_FOR_SALE)
_FAST_SALE_TAKEN = Prepared(_SALE_TAKEN)  # a walk-in's one read
_FAST_INSERT_SALE = Prepared(_INSERT_SALE, column_keys=(
    "id", "txn_id", "store_id", "device_id", "bill_no", "amount_fen", "member_id", "clerk_id",
    "guide_id", "categories", "sold_at", "business_day", "refunded_fen", "home_store_id"))
# Built once: building the select on every sale with a guide cost more than running it.
_FAST_GUIDE = Prepared(select(Staff.active).where(Staff.id == bindparam("guide_id"),
                                                  Staff.store_id == bindparam("store_id")))


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


def check_amount(amount_fen: object) -> int:
    """A sale's or a refund's amount: integer fen, more than 0, at most ``MAX_AMOUNT_FEN``."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidSaleAmount()
    if amount_fen <= 0 or amount_fen > MAX_AMOUNT_FEN:
        raise InvalidSaleAmount()
    return amount_fen


def _clean_categories(categories: tuple[str, ...] | list[str]) -> list[str]:
    out: list[str] = []
    for c in categories:  # no control character: a NUL would stop the till's push (one_line)
        c = one_line(unicodedata.normalize("NFKC", str(c)))
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
               redeem_points: int = 0, no_earn_fen: int = 0) -> SaleQuote:
    """The cap, what the member can spend and the points the sale would earn, without writing
    anything (the till shows it while the cashier types)."""
    amount_fen = check_amount(amount_fen)
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
        spendable = min(summary_spendable, max(0, points_ledger.balance_of(conn, member_id)))
        earned_today = int(conn.execute(_EARNED_SINCE, {
            "member_id": member_id, "since": local_day_start(now, uow.clock.zone)}).scalar() or 0)
    redeem = min(max(0, redeem_points), cap, spendable)
    paid = amount_fen - points_value_fen(rules.points, redeem)
    earn = earn_for_sale(rules.points, paid_fen=max(0, paid - no_earn_fen),
                         tier_percent=level_of(rules.tiers, m.tier).earn_multiplier_percent,
                         day=uow.clock.local(now).date(),
                         birthday=birthday_of(uow.cipher, m.birthday_enc),
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
    within: Callable[[Transaction, str], None] | None = None,
    no_earn_fen: int | Callable[[Connection], int] = 0,
    sold_at: datetime | None = None,
    standing_of: Callable[[Connection], Standing] | None = None,
    points_notice: PointsNotice | None = None,
) -> SaleResult:
    """Records a sale of ``amount_fen`` (the bill, before points) and, for a member, its points:
    ``redeem_points`` off the bill (at most ``redeem_cap_percent`` of it and what the member can
    spend now), then points earned on what was paid, the referrer's reward on a referred
    member's first purchase, and an immediate tier upgrade when a threshold is reached. One
    ``sale.recorded`` event, one audit row, committed together.

    Refuses, changing nothing: a bad amount or bill number, a bill already recorded in this
    store, an unknown member or guide, redeeming more than the cap or the balance.

    ``within(tx, sale_id)`` writes what a caller keeps beside the sale in the same transaction
    (the POS's lines and tenders: pos_member.integration); not called for a repeat.
    ``no_earn_fen``: the part of what was paid that earns no points (a checkout's
    stored-value tender, per ``points.stored_value_earns``), or how to read it in the sale's
    transaction.
    ``sold_at``: when the sale was rung up, if before now (a sale the main POS reports late:
    it counts on its own business day); points follow the moment it is recorded.
    ``standing_of``: how to read the member's standing in the sale's transaction (a checkout
    keeps what it read for its payment's checks).
    ``points_notice``: takes the member's message about the sale's points (change, balance,
    key) instead of it being queued (a checkout tells them once with its payment)."""
    require(clerk, Action.VIEW_MEMBER)
    amount_fen = check_amount(amount_fen)
    bill_no = clean_bill_no(bill_no)
    cats = _clean_categories(categories)
    if isinstance(redeem_points, bool) or not isinstance(redeem_points, int) \
            or redeem_points < 0:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Points to redeem must be 0 or more."))
    if redeem_points and member_id is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Only a member can redeem points."))
    now = uow.clock.now()
    sold = now if sold_at is None else min(sold_at, now)
    with uow.begin() as tx:
        conn = tx.conn
        if not txn_id or len(txn_id) > 36:
            raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The till transaction id is missing."))
        m, first = _member_and_repeat(tx, clerk, member_id=member_id, txn_id=txn_id,
                                      bill_no=bill_no, now=now)
        if first is not None:
            return _stored_result(conn, first)
        if guide_id is not None:
            _check_guide(conn, guide_id, clerk.store_id)
        sale_id = tx.new_id()
        pp = SalePointsPlan()
        if member_id is not None:
            if m is None or m.status != "active":
                raise MemberNotFound(query=member_id[:8])
            pp = member_points(tx, clerk, m, member_id=member_id, sale_id=sale_id,
                                txn_id=txn_id, bill_no=bill_no, amount_fen=amount_fen,
                                redeem_points=redeem_points, now=now,
                                no_earn_fen=no_earn_fen(conn) if callable(no_earn_fen)
                                else no_earn_fen,
                                standing=standing_of(conn) if standing_of else None)
        paid_fen = amount_fen - pp.redeem_fen
        sale = {
            "id": sale_id, "txn_id": txn_id, "store_id": clerk.store_id,
            "device_id": clerk.device_id, "bill_no": bill_no, "amount_fen": paid_fen,
            "member_id": member_id, "clerk_id": clerk.staff_id, "guide_id": guide_id,
            "categories": cats, "sold_at": sold,
            "business_day": uow.clock.local(sold).date(),
            "refunded_fen": 0,
        }
        # the member's home store, which the report reads the row by (till migration 0026;
        # the trigger setting it otherwise is skipped): not in the event
        _FAST_INSERT_SALE.run(conn, {**sale, "home_store_id": m.home_store_id
                                     if member_id is not None else None})
        if member_id is not None and paid_fen > 0:  # the member's RFM figures (issue 19)
            rfm.on_purchase(conn, member_id, sale["business_day"], paid_fen)
        wire_sale = {**sale, "sold_at": sold.isoformat(),
                     "business_day": sale["business_day"].isoformat()}
        earn = pp.earn
        payload = events.SaleRecorded(
            sale=wire_sale, member_id=member_id, txn_id=txn_id, entries=pp.entries,
            points=events.SalePoints(bill_fen=amount_fen, redeem_points=redeem_points,
                                     redeem_fen=pp.redeem_fen,
                                     earned=earn.earned if earn else 0)
            if member_id is not None else UNSET)
        ev = tx.record(clerk, events.SALE_RECORDED, payload, entity_id=sale_id)
        balance, tier_after = post_sale_points(
            tx, clerk, pp, event_id=ev.id, member_id=member_id, sale_id=sale_id, txn_id=txn_id,
            bill_no=bill_no, amount_fen=amount_fen, redeem_points=redeem_points, now=now,
            notice=points_notice)
        tx.audit(clerk, SALE_RECORDED, "sale", sale_id, after={
            "bill_no": bill_no, "amount_fen": paid_fen, "member_id": member_id,
            "redeem_points": redeem_points, "earned": earn.earned if earn else 0,
            "referral_points": pp.ref_points}, event=ev)
        if within is not None:
            within(tx, sale_id)
        tx.commit()
    return SaleResult(sale_id, txn_id, bill_no, amount_fen, redeem_points, pp.redeem_fen,
                      paid_fen, member_id, earn, pp.ref_points, balance or 0, pp.tier_before,
                      tier_after)


def _check_guide(conn: Connection, guide_id: str, store_id: str) -> None:
    g = _FAST_GUIDE.first(conn, {"guide_id": guide_id, "store_id": store_id})
    if g is None or not g.active:
        raise GuideNotFound()


def _member_and_repeat(tx: Transaction, clerk: Clerk, *, member_id: str | None, txn_id: str,
                       bill_no: str, now: datetime) -> tuple[Any, str | None]:
    """The member's row for the sale (one read: ``_MEMBER_FOR_SALE``; None for a walk-in or
    an unknown member) and the sale already recorded under ``txn_id`` (None: a new request).
    A bill number recorded already in this store is refused."""
    rules, conn = tx.rules, tx.conn
    m: Any = None
    if member_id is not None:  # the member, and whether the txn or bill is taken
        m = _FAST_MEMBER_FOR_SALE.first(conn, {
            "member_id": member_id, "txn_id": txn_id, "store_id": clerk.store_id,
            "bill_no": bill_no, "since": local_day_start(now, tx.clock.zone),
            "window_since": now - timedelta(days=365), "top_tier": rules.tiers.levels[-1].code,
            "g": rules.tiers.growth_fen_per_point, "p": rules.tiers.growth_per_purchase,
        })
    if m is None:
        taken = _FAST_SALE_TAKEN.all(conn, {"txn_id": txn_id, "store_id": clerk.store_id,
                                            "bill_no": bill_no})
        first = next((t.id for t in taken if t.txn_id == txn_id), None)
        bill_taken = bool(taken)
        if member_id is not None:  # a member of another store: the chain's directory
            m = _directory_member(conn, member_id, since=local_day_start(now, tx.clock.zone))
    else:
        first, bill_taken = m.repeated, m.bill_taken
    if first is None and bill_taken:
        raise DuplicateBill(bill_no=bill_no)
    return m, first


def _directory_member(conn: Connection, member_id: str, *, since: datetime) -> Any:
    """A member this till knows only from the chain's directory (``member_directory``), with
    what this till holds of their points (its own sales' entries), or None."""
    balance = conn.scalar(select(_ACCOUNTS.c.balance).where(_ACCOUNTS.c.member_id == member_id))
    earned = conn.execute(_EARNED_SINCE, {"member_id": member_id, "since": since}).scalar()
    return member_directory.sale_member(conn, member_id, balance=balance,
                                        earned_today=int(earned or 0))


def _stored_result(conn: Connection, sale_id: str) -> SaleResult:
    """The first result of a repeated request."""
    d = conn.execute(select(SALE_POINTS.c.detail).where(
        SALE_POINTS.c.sale_id == sale_id)).scalar()
    if d is None:
        s = conn.execute(select(SALES).where(SALES.c.id == sale_id)).one()
        return SaleResult(s.id, s.txn_id, s.bill_no, s.amount_fen, 0, 0, s.amount_fen,
                          s.member_id, None, 0, 0, None, None, repeated=True)
    e = d["earn"]
    earn = EarnBreakdown(e["base"], tuple(Multiplier(c, p) for c, p in e["multipliers"]),
                         e["multiplied"], e["bonus"], e["earned"], e["not_earned"])
    return SaleResult(d["sale_id"], d["txn_id"], d["bill_no"], d["bill_fen"],
                      d["redeem_points"], d["redeem_fen"], d["paid_fen"], d["member_id"], earn,
                      d["referral_points"], d["balance"], d["tier_before"], d["tier_after"],
                      repeated=True)
