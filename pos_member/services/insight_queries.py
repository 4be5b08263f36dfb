"""The SQL aggregates behind the programme-health report (``insight.py``): each returns additive
counts per (home store, tier) straight from the ledgers; definitions in docs/rules.md
("Programme health").

A "purchase" is a sale not wholly refunded (``refunded_fen < amount_fen``); amounts are net of
refunds. Member figures follow the member's home store (``members.store_id``) and present tier;
till figures (客单价, member sales share) follow the store the sale was rung up at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Table,
    and_,
    case,
    exists,
    func,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from pos_member.db.models import Member, PointsEntry, Sale, SvLedgerEntry
from pos_member.services.points_ledger import (
    CLAWBACK,
    EARN,
    GIFT,
    REDEEM,
    REFERRAL,
    RESTORE,
    WELCOME,
)

__all__ = ["Connection", "Kept", "Key", "MemberCounts", "Period", "Session", "cohort",
           "distinct_values", "kept_counts", "tallies", "tzinfo"]

Key = tuple[str, str | None]  # (store id, tier); tier None: walk-ins and unknown buyers
ISSUED = (EARN, WELCOME, REFERRAL, CLAWBACK)  # clawbacks are negative: issued net of refunds
REDEEMED = (REDEEM, GIFT, RESTORE)  # redemptions negative, returns positive
PURCHASE = Sale.refunded_fen < Sale.amount_fen
NET = Sale.amount_fen - Sale.refunded_fen


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # included
    start_at: datetime  # local midnight starting ``start``
    end_at: datetime  # local midnight after ``end``


def _one(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _members(p: Period, store_id: str | None) -> list[ColumnElement[bool]]:
    """The members a row counts: registered by the end, not merged into another."""
    where = [Member.status == "active", Member.registered_at < p.end_at]
    if store_id is not None:
        where.append(Member.store_id == store_id)
    return where


def _in_period(p: Period) -> ColumnElement[bool]:
    return and_(Sale.business_day >= p.start, Sale.business_day <= p.end)


# The per-(store, tier) member counts from kept figures instead of whole ledgers
# (:func:`kept_counts`: the till's ``programme_health``, and HQ's in sync/server/insight.py)
MemberCounts = Callable[[Period, str | None, datetime, int], dict[Key, dict[str, int]]]


def tallies(s: Session | Connection, p: Period, *, store_id: str | None, active_from: datetime,
            churned_days: int, grouped: bool | None = None,
            till_stores: list[str] | None = None, member_counts: MemberCounts | None = None,
            members_index: str | None = None,
            ) -> tuple[dict[Key, dict[str, int]], dict[str, int]]:
    """The counts of ``insight.Tally`` per (store, tier), and each store's net sales.

    Without ``member_counts`` (whole ledgers: HQ on SQLite, and the reference the kept
    figures are tested against), a store, or the chain on SQLite: one pass over the row's
    members, each member's figures read through their own index ranges (sales by
    ``(member_id, sold_at)``, points by ``(member_id, at)``, stored value by ``(member_id,
    business_day)``): the cost follows the store's members, not the chain's ledgers
    (bench/insight.py). The chain on PostgreSQL (HQ): each ledger read once, grouped by
    member (``grouped``). ``till_stores``: every store a sale was rung up at, when the caller
    knows them (a chain report then reads the month's sales of each through
    ``ix_sales_store_day``); ``member_counts``: the member counts from kept figures
    (:func:`kept_counts`, the till's and HQ's), given the period, the store, ``active_from``
    and ``churned_days``; ``members_index``: the index the bills' buyers'
    tiers are read through (SQLite's ``INDEXED BY``)."""
    out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if member_counts is not None:
        for key, counts in member_counts(p, store_id, active_from, churned_days).items():
            out[key].update(counts)
        store_sales = _till(s, p, store_id, out, till_stores, members_index)
        return {k: dict(v) for k, v in out.items()}, store_sales
    # OFFSET 0 keeps the per-member rows a subquery of their own: flattened into the outer
    # GROUP BY, each use of a column would run its look-up again.
    postgres = _dialect(s) == "postgresql"
    if grouped is None:  # the chain on PostgreSQL: whole ledgers hashed in bulk, in parallel;
        # a store there, and anything on SQLite: look-ups (grouped, PostgreSQL would still
        # scan the chain's whole ledgers for one store's members)
        grouped = store_id is None and postgres
    if grouped:
        rows = _grouped(p, store_id, active_from)
    elif postgres:  # three LATERAL look-ups per member, not ten scalar subqueries
        rows = _lateral(p, store_id, active_from)
    else:
        rows = _per_member(p, store_id, active_from)
    per = rows.offset(0).subquery()
    first_kept = p.start - timedelta(days=churned_days - 1)
    lost_by = p.end - timedelta(days=churned_days)
    kept = per.c.last_before >= first_kept
    names = ("members", "new_members", "active_members", "buyers", "repeat_buyers",
             "member_spend_fen", "points_issued", "points_redeemed", "points_outstanding",
             "sv_principal_fen", "sv_bonus_fen", "churn_base", "churned")
    total = func.sum
    rows = s.execute(select(
        per.c.store_id, per.c.tier, func.count(), _one(per.c.joined >= p.start_at),
        _one(per.c.active), _one(per.c.n >= 1), _one(per.c.n >= 2), total(per.c.spend),
        total(per.c.issued), -total(per.c.redeemed), total(per.c.points),
        total(per.c.principal), total(per.c.bonus), _one(kept),
        _one(and_(kept, per.c.n == 0, per.c.last_before <= lost_by)),
    ).group_by(per.c.store_id, per.c.tier))
    for store, tier, *values in rows:
        for name, value in zip(names, values, strict=True):
            out[(store, tier)][name] += int(value or 0)
    store_sales = _till(s, p, store_id, out, till_stores)
    return {k: dict(v) for k, v in out.items()}, store_sales


def _per_member(p: Period, store_id: str | None, active_from: datetime) -> Any:
    """One row per member of the report: their figures as correlated look-ups. Active: a
    purchase from ``active_from`` (local midnight starting the active window) to the end."""
    mine = Sale.member_id == Member.id
    in_period = and_(Sale.sold_at >= p.start_at, Sale.sold_at < p.end_at)

    def one(*cols: Any, where: list[Any]) -> Any:
        return select(*cols).where(*where).correlate(Member).scalar_subquery()

    e, v = PointsEntry, SvLedgerEntry
    mine_e, mine_v = e.member_id == Member.id, v.member_id == Member.id

    def points(kinds: tuple[str, ...]) -> Any:
        return one(func.coalesce(func.sum(e.points), 0),
                   where=[mine_e, e.at >= p.start_at, e.at < p.end_at, e.kind.in_(kinds)])

    return select(
        Member.store_id, Member.tier, Member.registered_at.label("joined"),
        select(Sale.id).where(mine, PURCHASE, Sale.sold_at >= active_from,
                              Sale.sold_at < p.end_at).correlate(Member).exists()
        .label("active"),
        one(func.count(), where=[mine, PURCHASE, in_period]).label("n"),
        one(func.coalesce(func.sum(NET), 0), where=[mine, in_period]).label("spend"),
        points(ISSUED).label("issued"), points(REDEEMED).label("redeemed"),
        one(func.coalesce(func.sum(e.points), 0), where=[mine_e, e.at < p.end_at])
        .label("points"),
        one(func.coalesce(func.sum(v.principal_delta_fen), 0),
            where=[mine_v, v.business_day <= p.end]).label("principal"),
        one(func.coalesce(func.sum(v.bonus_delta_fen), 0),
            where=[mine_v, v.business_day <= p.end]).label("bonus"),
        one(func.max(Sale.business_day), where=[mine, PURCHASE, Sale.business_day < p.start])
        .label("last_before"),
    ).where(*_members(p, store_id))


def _grouped(p: Period, store_id: str | None, active_from: datetime) -> Any:
    """The same rows as :func:`_per_member`, each ledger read once and grouped by member
    (joined to the members after): three aggregates instead of ten look-ups per member, which
    PostgreSQL runs several times faster (bench/insight_hq.py). For a store, each ledger is
    read for the store's members only."""
    mine: list[Any] = []
    if store_id is not None:
        home = select(Member.id).where(Member.store_id == store_id)
        mine = [Sale.member_id.in_(home), PointsEntry.member_id.in_(home),
                SvLedgerEntry.member_id.in_(home)]
    in_period = and_(Sale.sold_at >= p.start_at, Sale.sold_at < p.end_at)
    sales = (select(
        Sale.member_id.label("m"),
        func.sum(case((and_(PURCHASE, in_period), 1), else_=0)).label("n"),
        func.sum(case((in_period, NET), else_=0)).label("spend"),
        func.max(case((and_(PURCHASE, Sale.sold_at >= active_from), 1), else_=0))
        .label("active"),
        func.max(case((and_(PURCHASE, Sale.business_day < p.start), Sale.business_day)))
        .label("last_before"),
    ).where(Sale.member_id.is_not(None), Sale.sold_at < p.end_at, *mine[:1])
        .group_by(Sale.member_id).subquery())
    e, v = PointsEntry, SvLedgerEntry
    in_p = and_(e.at >= p.start_at, e.at < p.end_at)

    def points_of(kinds: tuple[str, ...]) -> Any:
        return func.sum(case((and_(in_p, e.kind.in_(kinds)), e.points), else_=0))

    points = (select(e.member_id.label("m"), points_of(ISSUED).label("issued"),
                     points_of(REDEEMED).label("redeemed"), func.sum(e.points).label("points"))
              .where(e.at < p.end_at, *mine[1:2]).group_by(e.member_id).subquery())
    sv = (select(v.member_id.label("m"), func.sum(v.principal_delta_fen).label("principal"),
                 func.sum(v.bonus_delta_fen).label("bonus"))
          .where(v.business_day <= p.end, *mine[2:]).group_by(v.member_id).subquery())

    def zero(col: Any) -> Any:
        return func.coalesce(col, 0)

    return (select(
        Member.store_id, Member.tier, Member.registered_at.label("joined"),
        (zero(sales.c.active) == 1).label("active"), zero(sales.c.n).label("n"),
        zero(sales.c.spend).label("spend"), zero(points.c.issued).label("issued"),
        zero(points.c.redeemed).label("redeemed"), zero(points.c.points).label("points"),
        zero(sv.c.principal).label("principal"), zero(sv.c.bonus).label("bonus"),
        sales.c.last_before.label("last_before"))
        .select_from(Member).outerjoin(sales, sales.c.m == Member.id)
        .outerjoin(points, points.c.m == Member.id).outerjoin(sv, sv.c.m == Member.id)
        .where(*_members(p, store_id)))


def _lateral(p: Period, store_id: str | None, active_from: datetime) -> Any:
    """:func:`_per_member`'s rows on PostgreSQL: each member's ledgers read through their own
    index ranges as there, but one LATERAL aggregate per ledger gives all its figures at once
    (PostgreSQL runs a subquery per figure and member at some 20 µs each)."""
    in_period = and_(Sale.sold_at >= p.start_at, Sale.sold_at < p.end_at)
    sales = select(
        func.coalesce(func.sum(case((and_(PURCHASE, in_period), 1), else_=0)), 0).label("n"),
        func.coalesce(func.sum(case((in_period, NET), else_=0)), 0).label("spend"),
        func.coalesce(func.max(case((and_(PURCHASE, Sale.sold_at >= active_from), 1),
                                    else_=0)), 0).label("active"),
        func.max(case((and_(PURCHASE, Sale.business_day < p.start), Sale.business_day)))
        .label("last_before"),
    ).where(Sale.member_id == Member.id, Sale.sold_at < p.end_at).correlate(Member).lateral()
    e, v = PointsEntry, SvLedgerEntry
    in_p = and_(e.at >= p.start_at, e.at < p.end_at)

    def points_of(kinds: tuple[str, ...]) -> Any:
        return func.coalesce(func.sum(case((and_(in_p, e.kind.in_(kinds)), e.points),
                                           else_=0)), 0)

    points = select(points_of(ISSUED).label("issued"), points_of(REDEEMED).label("redeemed"),
                    func.coalesce(func.sum(e.points), 0).label("points")).where(
        e.member_id == Member.id, e.at < p.end_at).correlate(Member).lateral()
    sv = select(func.coalesce(func.sum(v.principal_delta_fen), 0).label("principal"),
                func.coalesce(func.sum(v.bonus_delta_fen), 0).label("bonus")).where(
        v.member_id == Member.id, v.business_day <= p.end).correlate(Member).lateral()
    return (select(
        Member.store_id, Member.tier, Member.registered_at.label("joined"),
        (sales.c.active == 1).label("active"), sales.c.n, sales.c.spend, points.c.issued,
        points.c.redeemed, points.c.points, sv.c.principal, sv.c.bonus, sales.c.last_before)
        .select_from(Member).join(sales, true()).join(points, true()).join(sv, true())
        .where(*_members(p, store_id)))


def _till(s: Session | Connection, p: Period, store_id: str | None,
          out: dict[Key, dict[str, int]], stores: list[str] | None = None,
          members_index: str | None = None) -> dict[str, int]:
    """Bills rung up at each store in the period: members' by the buyer's tier, walk-ins'.
    ``members_index``: the index the buyers' tiers are read through (SQLite)."""
    walk_in = Sale.member_id.is_(None)
    q = (select(Sale.store_id, Member.tier, walk_in.label("walk_in"), _one(PURCHASE),
                func.sum(NET))
         .outerjoin(Member, Member.id == Sale.member_id).where(_in_period(p))
         .group_by(Sale.store_id, Member.tier, walk_in))
    if members_index is not None:
        q = q.with_hint(Member, f"INDEXED BY {members_index}", "sqlite")
    if store_id is not None:
        q = q.where(Sale.store_id == store_id)
    elif stores is not None:
        q = q.where(Sale.store_id.in_(stores))
    store_sales: dict[str, int] = defaultdict(int)
    for store, tier, is_walk_in, bills, fen in s.execute(q):
        row = out[(store, None if is_walk_in else tier)]
        prefix = "walk_in" if is_walk_in else "member"
        row[f"{prefix}_bills"] += int(bills or 0)
        row[f"{prefix}_bills_fen"] += int(fen or 0)
        store_sales[store] += int(fen or 0)
    return dict(store_sales)


def _dialect(s: Session | Connection) -> str:
    return (s.dialect if isinstance(s, Connection) else s.get_bind().dialect).name


def _days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def cohort(s: Session | Connection, p: Period, lo: datetime, hi: datetime, *, store_id: str | None,
           days: tuple[int, ...]) -> Iterator[tuple[Key, int, tuple[int, ...], tuple[int, ...]]]:
    """Members registered in [lo, hi) (and by the end of the period) per (store, tier): how
    many, how many had ``days[i]`` days behind them by the end (matured), and how many of
    those came back to buy more than a day and at most ``days[i]`` days after registering."""
    dialect = _dialect(s)
    gap = _days_between(Sale.sold_at, Member.registered_at, dialect)
    back = (select(func.min(gap)).where(Sale.member_id == Member.id, PURCHASE, gap > 1)
            .correlate(Member).scalar_subquery())
    m = (select(Member.store_id, Member.tier, Member.registered_at, back.label("back"))
         .where(*_members(p, store_id), Member.registered_at >= lo, Member.registered_at < hi)
         .subquery())
    matured = [m.c.registered_at <= p.end_at - timedelta(days=n) for n in days]
    cols = [func.count()] + [_one(c) for c in matured] + [
        _one(and_(c, m.c.back <= n)) for c, n in zip(matured, days, strict=True)]
    for store, tier, count, *rest in s.execute(
            select(m.c.store_id, m.c.tier, *cols).group_by(m.c.store_id, m.c.tier)):
        k = len(days)
        yield ((store, tier), int(count), tuple(int(v) for v in rest[:k]),
               tuple(int(v) for v in rest[k:]))


# -- at a chain's scale: kept figures and one period of rows (HQ's and the till's) -----------


@dataclass(frozen=True, slots=True)
class Kept:
    """Where a database keeps what :func:`kept_counts` reads, the same SQL at HQ (PostgreSQL,
    ``sync/server/insight.py``) and at the till (SQLite, :func:`till_kept`): tables named and
    shaped like the till's ``members``, ``sales``, ``points_entries`` and ``sv_ledger``, and
    - ``sums(members)``: the members joined to each one's running sums of their whole points
      and stored-value ledgers: (the FROM, points, principal, bonus);
    - ``last_before(members, since, day)``: a member's last purchase day before ``day``, if
      on or after ``since`` (None, or any day before ``since``: none there);
    - ``rows(ledger, homes, store_id)``: the conditions picking a ledger's rows of the
      members of ``homes`` (``[store_id]``, or every home store when ``store_id`` is None):
      by the rows' home store (``home_store_id``) unless told otherwise;
    - ``index(table, store_id)``: the index a table is to be read through for ``store_id``'s
      report (SQLite's ``INDEXED BY``: a till has no statistics to choose by), or None; the
      members joined to a ledger's rows by id are read through the chain's (``store_id``
      None)."""

    members: Table
    sales: Table
    points: Table
    sv: Table
    sums: Callable[[Table], tuple[FromClause, Any, Any, Any]]
    last_before: Callable[[Table, date, date], Any]
    rows: Callable[[Table, list[str], str | None], list[Any]] = (
        lambda ledger, homes, _store: [ledger.c.home_store_id.in_(homes)])
    index: Callable[[Table, str | None], str | None] = lambda _t, _s: None

    def hinted(self, query: Any, table: Table, store_id: str | None) -> Any:
        name = self.index(table, store_id)
        return query if name is None else query.with_hint(table, f"INDEXED BY {name}",
                                                          "sqlite")


def kept_counts(s: Session | Connection, p: Period, store_id: str | None, active_from: datetime,
                churned_days: int, kept: Kept) -> dict[Key, dict[str, int]]:
    """The member counts of ``insight.Tally`` per (home store, tier), the same figures as
    :func:`tallies` over whole ledgers (docs/rules.md, "Programme health"), in four set-based
    aggregates: the members alone (members, new members, their running sums, the churn base and
    the churned: from the last purchase before the period, and for those lapsed by its end
    whether they bought in it), the period's buyers (a period of
    sales, and the active window's, grouped by member, joined to them), the points posted since
    the period began and the stored value after it ended (what was posted after the end comes
    off the running sums)."""
    m = kept.members
    homes = [store_id] if store_id is not None else distinct_values(s, m.name, "store_id")
    mine = [m.c.status == "active", m.c.registered_at < p.end_at]
    if store_id is not None:
        mine.append(m.c.store_id == store_id)
    first_kept = p.start - timedelta(days=churned_days - 1)
    lost_by = p.end - timedelta(days=churned_days)
    out: dict[Key, dict[str, int]] = {}

    def add(query: Any, names: tuple[str, ...]) -> None:
        for store, tier, *values in s.execute(query):
            row = out.setdefault((store, tier), {})
            for name, value in zip(names, values, strict=True):
                row[name] = row.get(name, 0) + int(value or 0)

    def lapsed(last: Any) -> ColumnElement[bool]:
        return and_(last >= first_kept, last <= lost_by)

    n = func.count
    sl = kept.sales
    buy, net = sl.c.refunded_fen < sl.c.amount_fen, sl.c.amount_fen - sl.c.refunded_fen
    in_period = sl.c.sold_at >= p.start_at
    joined, points, principal, bonus = kept.sums(m)
    # OFFSET 0: the member's look-ups run once each, not once per use (SQLite flattens)
    per = kept.hinted(select(m.c.id, m.c.store_id, m.c.tier, m.c.registered_at,
                             points.label("points"), principal.label("principal"),
                             bonus.label("bonus"),
                             kept.last_before(m, first_kept, p.start).label("last"))
                      .select_from(joined).where(*mine), m, store_id).offset(0).subquery()
    # churned: lapsed by the end with no purchase in the period (looked up for those alone)
    bought = exists(select(sl.c.id).where(sl.c.member_id == per.c.id, buy, in_period,
                                          sl.c.sold_at < p.end_at))
    add(select(per.c.store_id, per.c.tier, n(), n().filter(per.c.registered_at >= p.start_at),
               func.sum(per.c.points), func.sum(per.c.principal), func.sum(per.c.bonus),
               n().filter(per.c["last"] >= first_kept),
               n().filter(and_(lapsed(per.c["last"]), ~bought)))
        .group_by(per.c.store_id, per.c.tier),
        ("members", "new_members", "points_outstanding", "sv_principal_fen", "sv_bonus_fen",
         "churn_base", "churned"))

    b = kept.hinted(
        select(sl.c.member_id, n().filter(and_(buy, in_period)).label("n"),
               func.coalesce(func.sum(net).filter(in_period), 0).label("spend"),
               func.max(case((and_(buy, sl.c.sold_at >= active_from), 1), else_=0))
               .label("active"))
        .where(*kept.rows(sl, homes, store_id), sl.c.member_id.is_not(None),
               sl.c.sold_at >= min(active_from, p.start_at), sl.c.sold_at < p.end_at)
        .group_by(sl.c.member_id), sl, store_id).subquery()
    add(kept.hinted(
        select(m.c.store_id, m.c.tier, n().filter(b.c.active == 1), n().filter(b.c.n >= 1),
               n().filter(b.c.n >= 2), func.sum(b.c.spend))
        .select_from(b.join(m, m.c.id == b.c.member_id)).where(*mine)
        .group_by(m.c.store_id, m.c.tier), m, None),
        ("active_members", "buyers", "repeat_buyers", "member_spend_fen"))

    e = kept.points
    before_end = e.c.at < p.end_at
    pe = kept.hinted(
        select(e.c.member_id,
               func.sum(e.c.points).filter(and_(before_end, e.c.kind.in_(ISSUED)))
               .label("issued"),
               func.sum(e.c.points).filter(and_(before_end, e.c.kind.in_(REDEEMED)))
               .label("redeemed"),
               func.sum(e.c.points).filter(e.c.at >= p.end_at).label("after"))
        .where(*kept.rows(e, homes, store_id), e.c.at >= p.start_at)
        .group_by(e.c.member_id),
        e, store_id).subquery()
    add(kept.hinted(select(m.c.store_id, m.c.tier, func.sum(pe.c.issued),
                           -func.sum(pe.c.redeemed), -func.sum(pe.c.after))
                    .select_from(pe.join(m, m.c.id == pe.c.member_id)).where(*mine)
                    .group_by(m.c.store_id, m.c.tier), m, None),
        ("points_issued", "points_redeemed", "points_outstanding"))

    v = kept.sv
    sv = kept.hinted(
        select(v.c.member_id, func.sum(v.c.principal_delta_fen).label("principal"),
               func.sum(v.c.bonus_delta_fen).label("bonus"))
        .where(*kept.rows(v, homes, store_id), v.c.business_day > p.end)
        .group_by(v.c.member_id),
        v, store_id).subquery()
    add(kept.hinted(select(m.c.store_id, m.c.tier, -func.sum(sv.c.principal),
                           -func.sum(sv.c.bonus))
                    .select_from(sv.join(m, m.c.id == sv.c.member_id)).where(*mine)
                    .group_by(m.c.store_id, m.c.tier), m, None),
        ("sv_principal_fen", "sv_bonus_fen"))
    return out


def till_kept() -> Kept:
    """The till's (till migration 0026): the running sums in ``member_ledger_sums``, the
    last purchase day through ``ix_sales_member_purchase_day`` (one look-up), a period of sales
    and points by home store (``ix_sales_home_sold``, ``ix_points_entries_home_at``), all kept
    by triggers; stored value (no home store: few rows) by the store's members' look-ups, the
    chain's by day (``ix_sv_ledger_day``)."""
    from pos_member.db.models import MemberLedgerSums

    k = MemberLedgerSums.__table__
    sales = Sale.__table__

    def sums(m: Table) -> tuple[FromClause, Any, Any, Any]:
        return (m.outerjoin(k, k.c.member_id == m.c.id), func.coalesce(k.c.points, 0),
                func.coalesce(k.c.sv_principal_fen, 0), func.coalesce(k.c.sv_bonus_fen, 0))

    def last_before(m: Table, since: date, day: date) -> Any:
        s = sales.alias("purchase_days")
        return (select(func.max(s.c.business_day))
                .where(s.c.member_id == m.c.id, s.c.member_id.is_not(None),
                       s.c.refunded_fen < s.c.amount_fen, s.c.business_day >= since,
                       s.c.business_day < day)
                .correlate(m).scalar_subquery())

    def rows(ledger: Table, homes: list[str], store_id: str | None) -> list[Any]:
        if ledger.name != "sv_ledger":
            return [ledger.c.home_store_id.in_(homes)]
        if store_id is None:
            return []
        m = Member.__table__
        return [ledger.c.member_id.in_(select(m.c.id).where(m.c.store_id == store_id))]

    # A store: its members by home store and tier, and their look-ups. The chain: the members
    # in id order (each member's look-ups then fall beside the last one's).
    by = {"members": ("ix_members_report", MEMBERS_BY_ID),
          "sales": ("ix_sales_home_sold", "ix_sales_home_sold"),
          "points_entries": ("ix_points_entries_home_at", "ix_points_entries_home_at"),
          "sv_ledger": ("ix_sv_ledger_member_at", "ix_sv_ledger_day")}

    def index(table: Table, store_id: str | None) -> str:
        return by[table.name][store_id is None]

    return Kept(Member.__table__, sales, PointsEntry.__table__, SvLedgerEntry.__table__,
                sums, last_before, rows, index)


MEMBERS_BY_ID = "ix_members_report_id"  # the till's members in id order, covered (0026)


def distinct_values(s: Session | Connection, table: str, col: str) -> list[str]:
    """The distinct values of ``col``, an index's first column, walked from one to the next
    (a loose index scan: a few look-ups per value, never the whole index)."""
    return list(s.scalars(text(
        f"WITH RECURSIVE h(s) AS (SELECT min({col}) FROM {table} UNION ALL "
        f"SELECT (SELECT min({col}) FROM {table} WHERE {col} > h.s) FROM h "
        "WHERE h.s IS NOT NULL) SELECT s FROM h WHERE s IS NOT NULL")))
