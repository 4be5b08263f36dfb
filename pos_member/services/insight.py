"""Programme health (issue 19, SPEC §2.8): how the membership programme is doing, per store and
tier over a chosen period — members, activity, 复购率, cohort 留存率, ARPU, 客单价 member vs
non-member, member sales share, points 兑换率 and outstanding points, 储值负债, churn.

Every figure is an SQL aggregate over the ledgers themselves (``sales``, ``points_entries``,
``sv_ledger``, ``members``), or over running figures of them that SQLite keeps in the
statement changing the rows (till migration 0026: ``insight_queries.kept_counts``), never over
a copy that could drift. The queries
(``insight_queries``) return additive counts per (store, tier); totals are sums of those and
the ratios are computed last, so a store's row and its tiers' rows always agree. Each figure's
definition is in docs/rules.md ("Programme health"). Read-only: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.db.uow import UnitOfWork
from pos_member.errors import NoMembersInStore, PeriodNotBegun, PeriodReversed
from pos_member.permissions import Action, Clerk, require
from pos_member.services import insight_queries as q
from pos_member.services.day_report import day_bounds

RETENTION_DAYS = (7, 30, 90)
ACTIVE_DAYS = 30  # "active": a purchase in the 30 days ending on the report's last day


@dataclass(frozen=True, slots=True)
class Tally:
    """Additive counts of one (store, tier): summing two tallies gives their union's."""

    members: int = 0  # registered by the end of the period, not merged away
    new_members: int = 0  # registered within the period
    active_members: int = 0  # with a purchase in the ACTIVE_DAYS ending on the last day
    buyers: int = 0  # members with a purchase in the period
    repeat_buyers: int = 0  # members with two or more purchases in the period
    member_spend_fen: int = 0  # what the row's members paid in the period, net of refunds
    member_bills: int = 0  # purchases at the store by members (of the tier)
    member_bills_fen: int = 0  # their amount, net of refunds
    walk_in_bills: int = 0  # purchases at the store without a member (store rows only)
    walk_in_bills_fen: int = 0
    points_issued: int = 0  # earned, welcome and referral points, less clawbacks, in the period
    points_redeemed: int = 0  # redeemed on bills and for gifts, less returns, in the period
    points_outstanding: int = 0  # the ledger's sum at the end of the period
    sv_principal_fen: int = 0  # stored-value principal outstanding at the end of the period
    sv_bonus_fen: int = 0  # stored-value bonus outstanding at the end of the period
    churn_base: int = 0  # members not yet lost at the start (see docs/rules.md)
    churned: int = 0  # of those, lost by the end of the period

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True, slots=True)
class Cohort:
    """One month's new members and how many came back within 7, 30 and 90 days. A member
    counts towards day N only once N days have passed by the end of the period (matured)."""

    month: str  # "2026-01"
    members: int = 0
    matured: tuple[int, ...] = (0, 0, 0)  # per RETENTION_DAYS
    retained: tuple[int, ...] = (0, 0, 0)

    def __add__(self, other: Cohort) -> Cohort:
        return Cohort(self.month, self.members + other.members,
                      tuple(a + b for a, b in zip(self.matured, other.matured, strict=True)),
                      tuple(a + b for a, b in zip(self.retained, other.retained, strict=True)))

    def rate(self, days: int) -> Decimal | None:
        i = RETENTION_DAYS.index(days)
        return ratio(self.retained[i], self.matured[i])


def ratio(num: int, den: int) -> Decimal | None:
    """A fraction to four places, or None where there is nothing to divide by (shown "—")."""
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None


def per(fen: int, n: int) -> int | None:
    """An average amount in whole fen (half up), or None over nothing."""
    return (2 * fen + n) // (2 * n) if n else None


@dataclass(frozen=True, slots=True)
class HealthRow:
    """One line of the report: a store and a tier, a store's total (``tier`` None) or the
    chain's (both None)."""

    store_id: str | None
    tier: str | None
    tally: Tally
    cohorts: tuple[Cohort, ...] = ()
    store_sales_fen: int = 0  # everything sold at the store in the period, net (for the share)

    @property
    def activity(self) -> Decimal | None:  # 活跃度
        return ratio(self.tally.active_members, self.tally.members)

    @property
    def repurchase_rate(self) -> Decimal | None:  # 复购率
        return ratio(self.tally.repeat_buyers, self.tally.buyers)

    @property
    def arpu_fen(self) -> int | None:
        return per(self.tally.member_spend_fen, self.tally.members)

    @property
    def member_ticket_fen(self) -> int | None:  # 客单价, members
        return per(self.tally.member_bills_fen, self.tally.member_bills)

    @property
    def walk_in_ticket_fen(self) -> int | None:  # 客单价, non-members (store and chain rows)
        return None if self.tier is not None else per(self.tally.walk_in_bills_fen,
                                                      self.tally.walk_in_bills)

    @property
    def member_sales_share(self) -> Decimal | None:
        return ratio(self.tally.member_bills_fen, self.store_sales_fen)

    @property
    def redemption_rate(self) -> Decimal | None:  # 兑换率
        return ratio(self.tally.points_redeemed, self.tally.points_issued)

    @property
    def churn_rate(self) -> Decimal | None:
        return ratio(self.tally.churned, self.tally.churn_base)


@dataclass(frozen=True, slots=True)
class HealthReport:
    start: date
    end: date  # the last day reported: the period's, or today when the period runs past it
    churned_days: int  # the rules' [lifecycle] churned_days the churn rate used
    rows: tuple[HealthRow, ...] = field(default_factory=tuple)

    def row(self, store_id: str | None, tier: str | None = None) -> HealthRow:
        for r in self.rows:
            if (r.store_id, r.tier) == (store_id, tier):
                return r
        raise KeyError((store_id, tier))


FIRST_DAY = date(2000, 1, 1)  # a period starting earlier starts here, as one running past
# today stops at today


def programme_health(uow: UnitOfWork, *, clerk: Clerk, start: date, end: date,
                     store_id: str | None = None) -> HealthReport:
    """The report over the business days ``start``..``end`` (both included) for ``store_id``,
    or for every store this database holds members of (with a chain row) when None. A period
    running past today stops at today; one starting after today, a reversed one and a store
    without members are refused (nothing is written either way). The store manager's, like
    the recruitment dashboard (``VIEW_KPI``). The member figures come from the kept figures
    and one period of rows (``insight_queries.kept_counts``, till migration 0026): the same as
    over whole ledgers (``health_report`` without ``member_counts``), at a chain's scale."""
    require(clerk, Action.VIEW_KPI)
    kept = q.till_kept()
    with uow.read() as s:
        return health_report(
            s, start=start, end=end, store_id=store_id, today=uow.clock.today(),
            zone=uow.clock.zone, churned_days=uow.rules.lifecycle.churned_days,
            member_counts=lambda p, store, active_from, churned_days: q.kept_counts(
                s, p, store, active_from, churned_days, kept),
            till_stores=q.distinct_values(s, "sales", "store_id") if store_id is None
            else None, members_index=q.MEMBERS_BY_ID)


def health_report(s: q.Session | q.Connection, *, start: date, end: date, store_id: str | None,
                  today: date, zone: q.tzinfo, churned_days: int,
                  grouped: bool | None = None,
                  till_stores: list[str] | None = None,
                  member_counts: q.MemberCounts | None = None,
                  members_index: str | None = None) -> HealthReport:
    """The report over any database holding tables named and shaped like the till's
    ``members``, ``sales``, ``points_entries`` and ``sv_ledger``: the till's own, or HQ's
    reporting copy on PostgreSQL (``sync/server/insight.py``). Refusals as above.
    ``grouped``: how a chain report reads its members' figures (``insight_queries.tallies``;
    None: the faster for the database); ``member_counts``, ``till_stores``: where the member
    counts come from (the kept figures, ``insight_queries.kept_counts``, on the till and at
    HQ; None: the whole ledgers) and the stores that rang sales, ``members_index`` the index
    the bills' buyers are read through (``insight_queries.tallies``)."""
    if end < start:
        raise PeriodReversed(start=start.isoformat(), end=end.isoformat())
    if start > today:
        raise PeriodNotBegun(start=start.isoformat(), today=today.isoformat())
    # nothing a till holds is older; and a day near year 1 has no bounds a year back (churn)
    start, end = max(start, FIRST_DAY), max(min(end, today), FIRST_DAY)
    p = q.Period(start, end, day_bounds(start, zone)[0], day_bounds(end, zone)[1])
    if store_id is not None and s.scalar(
            select(Member.id).where(Member.store_id == store_id, Member.status == "active",
                                    Member.registered_at < p.end_at).limit(1)) is None:
        raise NoMembersInStore(end=end.isoformat())
    active_from = day_bounds(end - timedelta(days=ACTIVE_DAYS - 1), zone)[0]
    counts, store_sales = q.tallies(s, p, store_id=store_id, active_from=active_from,
                                    churned_days=churned_days, grouped=grouped,
                                    till_stores=till_stores,
                                    member_counts=member_counts, members_index=members_index)
    tallies = {k: Tally(**v) for k, v in counts.items()}
    cohorts = _cohorts(s, p, store_id, zone)
    return HealthReport(start, end, churned_days,
                        _rows(tallies, store_sales, cohorts, chain=store_id is None))


def _cohorts(s: q.Session | q.Connection, p: q.Period, store_id: str | None,
             zone: q.tzinfo) -> dict[q.Key, list[Cohort]]:
    """Each month touching the period: its new members (the whole month's) per (store, tier)."""
    out: dict[q.Key, list[Cohort]] = {}
    month = p.start.replace(day=1)
    while month <= p.end:
        nxt = (month + timedelta(days=32)).replace(day=1)
        lo, hi = day_bounds(month, zone)[0], day_bounds(nxt, zone)[0]
        for key, members, matured, retained in q.cohort(s, p, lo, hi, store_id=store_id,
                                                        days=RETENTION_DAYS):
            out.setdefault(key, []).append(Cohort(month.strftime("%Y-%m"), members, matured,
                                                  retained))
        month = nxt
    return out


def _rows(tallies: dict[q.Key, Tally], store_sales: dict[str, int],
          cohorts: dict[q.Key, list[Cohort]], *, chain: bool) -> tuple[HealthRow, ...]:
    """Tier rows, then each store's total (tiers summed, walk-ins added), then the chain's."""
    rows: list[HealthRow] = []
    totals: list[HealthRow] = []
    for store in sorted({k[0] for k in tallies} | set(store_sales)):
        keys = sorted((k for k in tallies if k[0] == store), key=lambda k: k[1] or "")
        store_rows = [HealthRow(store, tier, tallies[(store, tier)],
                                tuple(cohorts.get((store, tier), ())),
                                store_sales.get(store, 0)) for _, tier in keys if tier]
        total = _sum(store, None, [tallies[k] for k in keys],
                     [cohorts.get(k, []) for k in keys], store_sales.get(store, 0))
        rows.extend(store_rows)
        rows.append(total)
        totals.append(total)
    if chain and totals:
        rows.append(_sum(None, None, [t.tally for t in totals], [list(t.cohorts) for t in totals],
                         sum(t.store_sales_fen for t in totals)))
    return tuple(rows)


def _sum(store: str | None, tier: str | None, tallies: list[Tally],
         cohort_lists: list[list[Cohort]], sales_fen: int) -> HealthRow:
    tally = sum(tallies, Tally())
    by_month: dict[str, Cohort] = {}
    for cohort in (c for lst in cohort_lists for c in lst):
        have = by_month.get(cohort.month)
        by_month[cohort.month] = cohort if have is None else have + cohort
    return HealthRow(store, tier, tally, tuple(by_month[m] for m in sorted(by_month)),
                     sales_fen)
