"""What a member sale does to points (split out of ``sales``, which records the sale): the
entries worked out before anything is written — points redeemed off the bill, earned on what
was paid, the referrer's reward on a referred member's first purchase — then posted with the
tier upgrade and the sale's points row (``sale_points``) that a refund and a repeat read.
Rules in docs/rules.md ("Points")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select

from pos_member.db.models import Member, PointsAccount, SalePoints
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction
from pos_member.errors import InvalidInput, RedeemOverCap
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Clerk
from pos_member.points_rules import (
    EarnBreakdown,
    earn_for_sale,
    growth_of_sale,
    level_of,
    points_value_fen,
    redeem_cap_points,
    redeem_step,
    referral_points,
)
from pos_member.services import member_directory, member_standing, points_ledger, tiers
from pos_member.services.points_notices import PointsNotice, tell_points
from pos_member.services.profile_seal import birthday_of

# A referred member's first sale: the referrer's standing and points balance (NULL: no
# account yet), read straight on the driver.
_FAST_REFERRER = Prepared(select(
    Member.status, select(PointsAccount.balance).where(PointsAccount.member_id == Member.id)
    .scalar_subquery().label("balance")).where(Member.id == bindparam("id")))
# Run straight on the driver (pos_member/db/prepared.py): every member sale writes one.
_FAST_INSERT_SALE_POINTS = Prepared(insert(SalePoints.__table__), column_keys=(
    "sale_id", "member_id", "bill_fen", "redeem_points", "redeem_fen", "earned", "clawed",
    "restored", "redeem_lots", "detail"))


@dataclass(slots=True)
class SalePointsPlan:
    """What a member sale does to points, worked out before anything is written."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    earn: EarnBreakdown | None = None
    redeem_fen: int = 0
    ref_points: int = 0
    tier_before: str | None = None
    balances: dict[str, int] = field(default_factory=dict)  # read in this transaction
    no_account: set[str] = field(default_factory=set)  # found without a points account yet
    known_lots: dict[str, tuple[int, str]] = field(default_factory=dict)
    figures: tuple[int, int] | None = None  # rolling spend and growth, this sale included
    remote: bool = False  # a member of another store: no tier upgrade here (their spend is there)


def member_points(tx: Transaction, clerk: Clerk, m: Any, *, member_id: str, sale_id: str,
                   txn_id: str, bill_no: str, amount_fen: int, redeem_points: int,
                   now: datetime, no_earn_fen: int = 0,
                   standing: member_standing.Standing | None = None) -> SalePointsPlan:
    """The entries of a member sale: points redeemed off the bill, points earned on what was
    paid, the referrer's reward on a referred member's first purchase. ``standing``: the
    member's, as read already in this transaction."""
    rules, conn = tx.rules, tx.conn
    earns = member_standing.check(conn, member_id, member_standing.REDEEM if redeem_points
                                  else member_standing.EARN, clerk=clerk, standing=standing)
    pp = SalePointsPlan(tier_before=m.tier, remote=getattr(m, "remote", False))
    if m.balance is not None:
        pp.balances[member_id] = m.balance
    else:  # no points account yet (a first sale): posting makes it, on the fast path too
        pp.balances[member_id] = 0
        pp.no_account.add(member_id)
    if redeem_points:
        cap = redeem_cap_points(rules.points, amount_fen)
        step = redeem_step(rules.points)
        if redeem_points > cap:
            raise RedeemOverCap(cap=cap)
        if redeem_points % step:
            raise InvalidInput(QT_TRANSLATE_NOOP(
                "errors", "Points are redeemed in steps of {step}."), step=step)
        plan = points_ledger.plan_spend(conn, member_id, now, redeem_points, m.balance or 0)
        pp.known_lots = {lot: (rem, exp) for lot, _, rem, exp in plan}
        pp.redeem_fen = points_value_fen(rules.points, redeem_points)
        pp.entries.append(points_ledger.new_entry(
            tx, clerk, member_id=member_id, kind=points_ledger.REDEEM, points=-redeem_points,
            at=now, txn_id=txn_id, sale_id=sale_id, bill_no=bill_no,
            consume=[(lot, k) for lot, k, _, _ in plan]))
    paid = amount_fen - pp.redeem_fen
    # This sale counts too; not for a member of another store, whose spend is at their home.
    if m.tier != rules.tiers.levels[-1].code and not pp.remote:
        pp.figures = (int(m.spend or 0) + max(0, paid),
                      int(m.growth or 0) + growth_of_sale(rules.tiers, paid))
    pp.earn = earn_for_sale(  # a frozen member earns nothing (docs/rules.md)
        rules.points, paid_fen=max(0, paid - no_earn_fen) if earns else 0,
        tier_percent=level_of(rules.tiers, m.tier).earn_multiplier_percent,
        day=tx.clock.local(now).date(),
        birthday=birthday_of(tx.cipher, getattr(m, "birthday_enc", None)),
        earned_today=int(m.earned_today or 0))
    if pp.earn.earned > 0:
        pp.entries.append(points_ledger.new_entry(
            tx, clerk, member_id=member_id, kind=points_ledger.EARN, points=pp.earn.earned,
            at=now, txn_id=txn_id, sale_id=sale_id, bill_no=bill_no, entry_id=sale_id,
            lot_available_at=now + timedelta(days=rules.points.pending_days)))
    # Only a referred member's first purchase rewards anyone: ask only then.
    if m.referrer_id and not m.has_sale:
        ref_points = referral_points(
            paid, rules.registration.referral_first_purchase_percent,
            rules.points.points_per_yuan)
        referrer = _FAST_REFERRER.first(conn, {"id": m.referrer_id})
        referrer_ok = (referrer.status if referrer is not None else member_directory.status_of(
            conn, m.referrer_id)) == "active"  # another store's member refers too
        if referrer is not None:  # their balance too, for posting on the fast path
            pp.balances[m.referrer_id] = referrer.balance or 0
            if referrer.balance is None:
                pp.no_account.add(m.referrer_id)
        if ref_points > 0 and referrer_ok:
            pp.entries.append(points_ledger.new_entry(
                tx, clerk, member_id=m.referrer_id, kind=points_ledger.REFERRAL,
                points=ref_points, at=now, txn_id=txn_id, sale_id=sale_id, bill_no=bill_no))
            pp.ref_points = ref_points
    return pp


def post_sale_points(tx: Transaction, clerk: Clerk, pp: SalePointsPlan, *, event_id: str,
                      member_id: str | None, sale_id: str, txn_id: str, bill_no: str,
                      amount_fen: int, redeem_points: int, now: datetime,
                      notice: PointsNotice | None = None) -> tuple[int | None, str | None]:
    """Posts the sale's entries, upgrades the tier when a threshold is reached and keeps the
    sale's points (``sale_points``); the member's balance after it and the tier after it.
    ``notice``: takes the member's points message (change, balance, key) instead of it being
    queued here."""
    conn = tx.conn
    redeem_lots: list[list[Any]] = []
    after: dict[str, int] = {}
    if pp.entries:
        consumed, after = points_ledger.post_fresh(conn, pp.entries, event_id=event_id,
                                                   balances=pp.balances, lots=pp.known_lots,
                                                   no_account=pp.no_account)
        redeem_lots = [list(c) for e in pp.entries if e["kind"] == points_ledger.REDEEM
                       for c in consumed[e["id"]]]
    if member_id is None or pp.earn is None:
        return None, None
    tier_after = pp.tier_before if pp.remote else tiers.upgrade_if_reached(
        tx, clerk, member_id=member_id, now=now, current=pp.tier_before, figures=pp.figures)
    balances = pp.balances
    balance = after[member_id] if member_id in after else (
        balances[member_id] if member_id in balances
        else points_ledger.balance_of(conn, member_id))
    detail = _detail(txn_id, sale_id, bill_no, amount_fen, redeem_points, pp.redeem_fen,
                     amount_fen - pp.redeem_fen, member_id, pp.earn, pp.ref_points, balance,
                     pp.tier_before, tier_after)
    if notice is None:
        tell_points(tx, member_id=member_id, change=pp.earn.earned - redeem_points,
                    balance=balance, reason="sale", key=event_id)
    else:
        notice(pp.earn.earned - redeem_points, balance, event_id)
    _FAST_INSERT_SALE_POINTS.run(conn, {
        "sale_id": sale_id, "member_id": member_id, "bill_fen": amount_fen,
        "redeem_points": redeem_points, "redeem_fen": pp.redeem_fen,
        "earned": pp.earn.earned, "clawed": 0, "restored": 0,
        "redeem_lots": redeem_lots, "detail": detail})
    return balance, tier_after


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
