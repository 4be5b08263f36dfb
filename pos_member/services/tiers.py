"""Tiers (会员等级) and growth value (成长值), SPEC §2.4.

- Rolling spend: what the member paid over the last 365 days, net of refunds (``sales``).
- Growth value: per sale in the same window, 1 per ``growth_fen_per_point`` fen paid (net of
  refunds) plus ``growth_per_purchase`` for the visit (a fully refunded sale counts nothing).
  Both come from ``sales`` rows, which sync carries, so every till computes the same figures.
- Upgrade at once (:func:`upgrade_if_reached`, in the sale's own transaction). Downgrades only
  at the periodic evaluation (:func:`evaluate_tiers`, every ``evaluation_months`` from January),
  never within ``protection_days`` of the last upgrade, and not while the rolling spend is at
  least ``keep_percent`` of the tier's spend threshold.
- A change is a ``member.tier_changed`` event; pulled ones apply when newer (hybrid clock) than
  the change in force here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update

from pos_member import events
from pos_member.db.models import Member, PointsAccount, Sale, Setting
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.permissions import Clerk
from pos_member.points_rules import downgrade_target, level_index, qualifying_level
from pos_member.services import member_directory, member_standing
from pos_member.services.outbox import last_sync_at, on_its_own

TIER_CHANGED = events.MEMBER_TIER_CHANGED.type
EVALUATED_SETTING = "tiers_evaluated_period"

_SALES = Sale.__table__
_ACCOUNTS = PointsAccount.__table__
_MEMBERS = Member.__table__
_NET = _SALES.c.amount_fen - _SALES.c.refunded_fen
# One aggregate in SQL (integer division in SQLite), so a member with years of purchases costs
# one indexed range read, not a Python loop over rows.
_WINDOW = (
    select(
        func.coalesce(func.sum(case((_NET > 0, _NET), else_=0)), 0),
        func.coalesce(func.sum(case(
            (_NET > 0, _NET // bindparam("g") + bindparam("p")), else_=0)), 0),
    )
    .where(_SALES.c.member_id == bindparam("member_id"), _SALES.c.sold_at >= bindparam("since"))
)


@dataclass(frozen=True, slots=True)
class TierStanding:
    tier: str
    spend_fen: int  # rolling 12 months, net of refunds
    growth: int
    next_tier: str | None
    next_spend_fen: int | None  # the spend still needed for the next tier
    next_growth: int | None


def standing_figures(conn: Connection, tiers: Any, member_id: str, now: datetime
                     ) -> tuple[int, int]:
    """(rolling spend in fen, growth value) of the member at ``now``."""
    spend, growth = conn.execute(_WINDOW, {
        "member_id": member_id, "since": now - timedelta(days=365),
        "g": tiers.growth_fen_per_point, "p": tiers.growth_per_purchase}).one()
    return int(spend), int(growth)  # = sum of points_rules.growth_of_sale over the sales


def upgrade_if_reached(tx: Transaction, clerk: Clerk, *, member_id: str, now: datetime,
                       current: str | None = None, figures: tuple[int, int] | None = None
                       ) -> str:
    """Moves the member up at once if their figures reach a higher tier; returns the tier.
    ``current``: the member's tier, when the caller has just read it; ``figures``: the member's
    (rolling spend, growth) at ``now`` as :func:`standing_figures` gives them, when the caller
    has just computed them in this transaction."""
    conn = tx.conn
    tiers = tx.rules.tiers
    if current is None:
        current = conn.scalar(select(_MEMBERS.c.tier).where(_MEMBERS.c.id == member_id))
    current = current or tiers.levels[0].code
    if level_index(tiers, current) == len(tiers.levels) - 1:
        return current  # the top tier: nothing to reach
    # A tier set by hand holds until its end. Given the figures (a sale), the hand-set tier is
    # read only when they reach a higher tier: one read fewer on nearly every sale.
    if figures is None and member_standing.tier_locked(conn, member_id, now):
        return current
    spend, growth = figures or standing_figures(conn, tiers, member_id, now)
    target = qualifying_level(tiers, spend_fen=spend, growth=growth)
    if level_index(tiers, target.code) <= level_index(tiers, current):
        return current
    if figures is not None and member_standing.tier_locked(conn, member_id, now):
        return current
    change_tier(tx, clerk, member_id=member_id, old=current, new=target.code, now=now,
            reason="upgrade", spend=spend, growth=growth)
    return target.code


def change_tier(tx: Transaction, clerk: Clerk, *, member_id: str, old: str, new: str,
            now: datetime, reason: str, spend: int, growth: int) -> None:
    payload = events.MemberTierChanged(member_id=member_id, from_=old, to=new, reason=reason,
                                       at=now.isoformat(), spend_fen=spend, growth=growth)
    ev = tx.record(clerk, events.MEMBER_TIER_CHANGED, payload, entity_id=member_id)
    set_tier(tx.conn, member_id, new, ev.hlc,
              now if reason == "upgrade" else None)
    tx.audit(clerk, TIER_CHANGED, "member", member_id, before={"tier": old},
             after={"tier": new, "reason": reason, "spend_fen": spend, "growth": growth},
             event=ev)


def set_tier(conn: Connection, member_id: str, tier: str, hlc: str,
              upgraded_at: datetime | None) -> None:
    """The member's tier here, and in this till's directory row for them (a change made at
    this till never comes back in a pull: its own events are skipped), when newer there."""
    conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(tier=tier))
    member_directory.set_tier(conn, member_id, tier, hlc)
    values: dict[str, Any] = {"tier_hlc": hlc}
    if upgraded_at is not None:
        values["tier_since"] = upgraded_at
    done = conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.member_id == member_id)
                        .values(**values)).rowcount
    if not done:
        conn.execute(insert(_ACCOUNTS), {"member_id": member_id, "balance": 0,
                                         "tier_since": upgraded_at, "tier_hlc": hlc})


def apply_tier_changed(conn: Connection, ev: Mapping[str, Any],
                       p: events.MemberTierChanged) -> bool:
    """A pulled tier change (its typed payload): applied when newer than the one in force
    here."""
    member_id, new, reason = p.member_id, p.to, p.reason
    at = datetime.fromisoformat(p.at)
    current = conn.scalar(select(_ACCOUNTS.c.tier_hlc).where(_ACCOUNTS.c.member_id == member_id))
    if current is not None and current >= ev["hlc"]:
        return False
    set_tier(conn, member_id, new, ev["hlc"], at if reason == "upgrade" else None)
    return True


def evaluation_period(day: date, months: int) -> str:
    """The evaluation period a day falls in: periods of ``months`` from January."""
    index = (day.month - 1) // months
    return f"{day.year}-P{index + 1}"


def period_start(day: date, months: int) -> date:
    """The first day of the evaluation period ``day`` falls in."""
    return date(day.year, (day.month - 1) // months * months + 1, 1)


@dataclass(frozen=True, slots=True)
class EvaluationRun:
    period: str
    ran: bool  # False: this period was evaluated already, or it waits for a sync
    checked: int
    downgraded: int
    waiting_for_sync: bool = False


def evaluate_tiers(uow: UnitOfWork, *, clerk: Clerk, force: bool = False) -> EvaluationRun:
    """The periodic downgrade evaluation, once per period (kept in ``settings``): for each
    member of this store above the lowest tier, the downgrade rules of
    :func:`pos_member.points_rules.downgrade_target`. Catching up after a long stop evaluates
    once, with today's figures. Members of other stores are evaluated by their own store.

    A till that syncs with HQ evaluates only once it has synced in the new period: a downgrade
    decided on a till that has not yet pulled the member's purchases at other stores would be
    wrong, and it is not taken back when those arrive. Until then the run waits
    (``waiting_for_sync``); the till's hourly job tries again."""
    now = uow.clock.now()
    tiers = uow.rules.tiers
    today = uow.clock.local(now).date()
    period = evaluation_period(today, tiers.evaluation_months)
    checked = downgraded = 0
    with uow.begin() as tx:
        conn = tx.conn
        t = Setting.__table__
        last = conn.scalar(select(t.c.value).where(t.c.key == EVALUATED_SETTING))
        if last == period and not force:
            return EvaluationRun(period, False, 0, 0)
        if not force and not _synced_since(uow, period_start(today, tiers.evaluation_months)):
            return EvaluationRun(period, False, 0, 0, waiting_for_sync=True)
        rows = conn.execute(
            select(_MEMBERS.c.id, _MEMBERS.c.tier, _ACCOUNTS.c.tier_since)
            .outerjoin(_ACCOUNTS, _ACCOUNTS.c.member_id == _MEMBERS.c.id)
            .where(_MEMBERS.c.store_id == clerk.store_id, _MEMBERS.c.status == "active",
                   _MEMBERS.c.tier != tiers.levels[0].code)
        ).all()
        for member_id, tier, since in rows:
            if member_standing.tier_locked(conn, member_id, now):
                continue  # a tier set by hand holds until its end
            checked += 1
            spend, growth = standing_figures(conn, tiers, member_id, now)
            days = None
            if since is not None:
                since = since if since.tzinfo else since.replace(tzinfo=now.tzinfo)
                days = (now - since).days
            target = downgrade_target(tiers, current=tier, spend_fen=spend, growth=growth,
                                      days_since_upgrade=days)
            if target is not None:
                change_tier(tx, clerk, member_id=member_id, old=tier, new=target.code, now=now,
                        reason="evaluation", spend=spend, growth=growth)
                downgraded += 1
        if last is None:
            conn.execute(insert(t), {"key": EVALUATED_SETTING, "value": period})
        else:
            conn.execute(update(t).where(t.c.key == EVALUATED_SETTING).values(value=period))
        tx.commit()
    return EvaluationRun(period, True, checked, downgraded)


def _synced_since(uow: UnitOfWork, day: date) -> bool:
    """True for a till on its own (never enrolled), or one whose last sync was on or after
    ``day`` (local)."""
    if on_its_own(uow):
        return True
    last = last_sync_at(uow)
    return last is not None and uow.clock.local(last).date() >= day


def tier_standing(uow: UnitOfWork, *, member_id: str) -> TierStanding:
    now = uow.clock.now()
    tiers = uow.rules.tiers
    with uow.read() as s:
        conn = s.connection()
        tier = conn.scalar(select(_MEMBERS.c.tier).where(_MEMBERS.c.id == member_id))
        spend, growth = standing_figures(conn, tiers, member_id, now)
    tier = tier or tiers.levels[0].code
    i = level_index(tiers, tier)
    if i + 1 < len(tiers.levels):
        nxt = tiers.levels[i + 1]
        return TierStanding(tier, spend, growth, nxt.code,
                            max(0, nxt.annual_spend_fen - spend), max(0, nxt.growth - growth))
    return TierStanding(tier, spend, growth, None, None, None)

