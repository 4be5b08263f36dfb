"""HQ's programme-health report for the chain (issue 19), over the central database.

HQ holds no ledgers, only the event log. :func:`refresh` reads the log from where it last
stopped (``chain_settings.insight_position``) into a reporting copy named and shaped like the
till's tables (``members``, ``sales``, ``points_entries``, ``sv_ledger``: ``models.Report*``),
in batches of :data:`BATCH` events, each in its own transaction with the position it reached;
:func:`chain_health` then runs the till's own report queries (``pos_member.services.insight``)
on it, for one store or the chain. Every figure's definition is the till's (docs/rules.md,
"Programme health"); what HQ's copy adds is in "Programme health at HQ". On PostgreSQL the
member figures come from :func:`_member_counts`: the tills' kept-figures SQL
(``insight_queries.kept_counts``) over a period's rows of each ledger by home store and each
member's running sums (kept by the refresh beside the rows they sum); on SQLite from the
whole ledgers.

Projected: ``member.registered`` (home store, registration time, tier ``regular``),
``member.tier_changed`` / ``member.tier_set`` (present tier), ``member.merged`` (the loser
counts nowhere; its sales, points and stored value become the winner's), ``sale.recorded`` /
``sale.refunded``, the points entries every points-bearing event carries (an entry id once),
and the ``sv.*`` money events (their business day: the event's time in the chain's zone).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, Date, case, delete, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import aggregate_order_by

from pos_member import events as ev_types
from pos_member.clock import store_zone
from pos_member.events.stored_value import MoneyMoved
from pos_member.points_lots import ENTRY_EVENT_TYPES, entries_of
from pos_member.rules_config import parse_rules
from pos_member.services import insight_queries as q
from pos_member.services.insight import HealthReport, health_report
from pos_member.services.points_ledger import to_datetime
from sync.server.balances import MAX_DELTA_FEN
from sync.server.context import ServerContext
from sync.server.errors import BadRequest
from sync.server.locks import lock_keys
from sync.server.log import LogWriter
from sync.server.models import (
    ChainSetting,
    Event,
    ReportMember,
    ReportPointsEntry,
    ReportSale,
    ReportSvEntry,
    RulesVersion,
    Store,
)
from sync.server.points import _insert

BATCH = 5000  # events per transaction
POSITION = "insight_position"
LOCK = "insight-refresh"
WORK_MEM = "128MB"  # the report's hash aggregates of a chain's members, kept in memory
ZONE = "Asia/Shanghai"  # the chain's stores (as coupon_bulk: config.toml's default zone)
REGISTERED, MERGED = ev_types.MEMBER_REGISTERED.type, ev_types.MEMBER_MERGED.type
TIER_CHANGED, TIER_SET = ev_types.MEMBER_TIER_CHANGED.type, ev_types.MEMBER_TIER_SET.type
SALE, REFUND = ev_types.SALE_RECORDED.type, ev_types.SALE_REFUNDED.type
SV_PREFIX = "sv."
_M, _S = ReportMember.__table__, ReportSale.__table__
_P, _V = ReportPointsEntry.__table__, ReportSvEntry.__table__
_SET = ChainSetting.__table__


def _fits(value: int) -> bool:
    """An amount a till could have written (at most ``MAX_DELTA_FEN`` either way, as HQ's
    balances take them; ``entries_of`` holds points entries to as much). A larger one is a
    broken till's: its row is left out of the copy, as a malformed payload is, so that it
    cannot stop every later refresh (neither database's integers hold 2**70; sums of a few
    2**62 overflow them)."""
    return -MAX_DELTA_FEN <= value <= MAX_DELTA_FEN


def _wanted(kind: str) -> bool:
    return (kind in (REGISTERED, MERGED, TIER_CHANGED, TIER_SET, SALE, REFUND)
            or kind in ENTRY_EVENT_TYPES or kind.startswith(SV_PREFIX))


def refresh(ctx: ServerContext) -> int:
    """Reads the log's new events into the reporting copy; returns how many were read."""
    total = 0
    while True:
        done, more = ctx.db.concurrent(_batch)
        total += done
        if not more:
            return total


def _batch(conn: Connection) -> tuple[int, bool]:
    lock_keys(conn, [LOCK])  # two refreshes at once would add a refund twice
    after = int(conn.scalar(select(_SET.c.value).where(_SET.c.key == POSITION)) or 0)
    rows = conn.execute(select(Event.position, Event.id, Event.type, Event.store_id,
                               Event.payload, Event.created_at)
                        .where(Event.position > after).order_by(Event.position)
                        .limit(BATCH)).all()
    if not rows:
        return 0, False
    p = _Projection(conn)
    for r in rows:
        if _wanted(r.type):
            p.apply(r.id, r.type, r.store_id, r.payload or {}, r.created_at)
    p.flush()
    last = rows[-1].position
    conn.execute(delete(_SET).where(_SET.c.key == POSITION))
    conn.execute(insert(_SET).values(key=POSITION, value=str(last)))
    return len(rows), len(rows) == BATCH


class _Projection:
    """One batch of events: new rows are gathered and written together (a few statements per
    batch, not per event); an event that changes rows already written (a merge, a tier, a
    refund) first writes what was gathered, so everything applies in log order."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.zone = store_zone(ZONE)
        self.rows: dict[str, list[dict[str, Any]]] = {"m": [], "s": [], "p": [], "v": []}
        self.seen: set[str] = set()  # the points entry ids gathered
        self.touched: set[str] = set()  # members whose ledger sums to set again

    def apply(self, event_id: str, kind: str, store_id: str, p: Mapping[str, Any],
              at: datetime) -> None:
        if kind == REGISTERED:
            self._registered(p, store_id)
        elif kind == MERGED:
            self.flush()
            self._merged(str(p.get("loser_member_id")), str(p.get("winner_member_id")))
        elif kind in (TIER_CHANGED, TIER_SET):
            tier = p.get("to") if kind == TIER_CHANGED else p.get("tier")
            if isinstance(tier, str) and isinstance(p.get("member_id"), str):
                self.flush()
                self.conn.execute(update(_M).where(_M.c.id == p["member_id"])
                                  .values(tier=tier[:32]))
        elif kind == SALE:
            self._sale(p)
        elif kind == REFUND and isinstance(p.get("sale_id"), str) \
                and isinstance(p.get("refund_fen") or 0, int) and _fits(p.get("refund_fen") or 0):
            self.flush()
            self.touched.update(m for m in self.conn.scalars(
                update(_S).where(_S.c.id == p["sale_id"]).values(
                    refunded_fen=_S.c.refunded_fen + int(p.get("refund_fen") or 0))
                .returning(_S.c.member_id)) if m is not None)
        elif kind.startswith(SV_PREFIX):
            self._money(event_id, p, at)
        if kind in ENTRY_EVENT_TYPES:
            self._points(kind, p, at)

    def flush(self) -> None:
        """Writes the gathered rows, a merged-away member's as its winner's, each ledger row
        with its member's home store; then the sums of every member whose rows changed."""
        if self.rows["m"]:
            _insert_rows(self.conn, _M, self.rows["m"])
            joined = [r["id"] for r in self.rows["m"]]
            self.rows["m"] = []
            for table in (_S, _P, _V):  # rows that came before their member's registration
                self.conn.execute(update(table).where(
                    table.c.member_id.in_(joined), table.c.home_store_id.is_(None))
                    .values(home_store_id=select(_M.c.store_id).where(
                        _M.c.id == table.c.member_id).scalar_subquery()))
            self.touched.update(joined)
        held = {r["member_id"] for k in ("s", "p", "v") for r in self.rows[k]
                if r["member_id"] is not None}
        known = {r.id: r for r in self.conn.execute(select(
            _M.c.id, _M.c.store_id, _M.c.merged_into).where(_M.c.id.in_(held)))} if held else {}
        winners = {k: r.merged_into for k, r in known.items() if r.merged_into is not None}
        if set(winners.values()) - set(known):
            known.update({r.id: r for r in self.conn.execute(select(
                _M.c.id, _M.c.store_id, _M.c.merged_into).where(
                _M.c.id.in_(set(winners.values()) - set(known))))})
        postgres = self.conn.dialect.name == "postgresql"
        for key, table in (("s", _S), ("p", _P), ("v", _V)):
            rows = self.rows[key]
            if not rows:
                continue
            for r in rows:
                r["member_id"] = winners.get(r["member_id"], r["member_id"])
                home = known.get(r["member_id"])
                r["home_store_id"] = home.store_id if home is not None else None
                if r["member_id"] is not None and not postgres:
                    self.touched.add(r["member_id"])
            _insert_rows(self.conn, table, rows, summed=postgres)
            self.rows[key] = []
        self.seen.clear()
        if self.touched:
            _sum_ledgers(self.conn, self.touched)
            self.touched.clear()

    def _registered(self, p: Mapping[str, Any], store_id: str) -> None:
        member_id, when = p.get("member_id"), p.get("registered_at")
        if not isinstance(member_id, str) or not isinstance(when, str):
            return
        home = p.get("store_id") if isinstance(p.get("store_id"), str) else store_id
        try:
            joined = to_datetime(when)
        except ValueError:
            return
        self.rows["m"].append({"id": member_id, "store_id": home, "tier": "regular",
                               "status": "active", "registered_at": joined,
                               "merged_into": None})

    def _merged(self, loser: str, winner: str) -> None:
        c = self.conn
        c.execute(update(_M).where(_M.c.id == loser).values(status="merged", merged_into=winner))
        home = select(_M.c.store_id).where(_M.c.id == winner).scalar_subquery()
        for table in (_S, _P, _V):
            c.execute(update(table).where(table.c.member_id == loser).values(
                member_id=winner, home_store_id=home))
        _sum_ledgers(c, {loser, winner})

    def _sale(self, p: Mapping[str, Any]) -> None:
        s = p.get("sale")
        if not isinstance(s, Mapping):
            return
        try:
            member = s.get("member_id")
            if not _fits(int(s["amount_fen"])):
                return
            self.rows["s"].append({
                "id": str(s["id"]), "store_id": str(s["store_id"]),
                "member_id": member if isinstance(member, str) else None,
                "amount_fen": int(s["amount_fen"]), "refunded_fen": 0,
                "sold_at": to_datetime(s["sold_at"]),
                "business_day": date.fromisoformat(str(s["business_day"])[:10])})
        except (KeyError, TypeError, ValueError):
            return

    def _points(self, kind: str, p: Mapping[str, Any], at: datetime) -> None:
        times = {e.get("id"): e.get("at") for e in p.get("entries") or ()
                 if isinstance(e, Mapping)}
        seen = self.seen
        for e in entries_of(kind, p):
            if e.id in seen:  # an entry id once (a lot's expiry may come from several tills);
                continue  # its points are at most points_lots.MAX_POINTS already (entries_of)
            try:
                when = to_datetime(times.get(e.id) or at)
            except (TypeError, ValueError):
                when = at
            seen.add(e.id)
            self.rows["p"].append({"id": e.id, "member_id": e.member_id, "kind": e.kind,
                                   "points": e.points, "at": when})

    def _money(self, event_id: str, p: Mapping[str, Any], at: datetime) -> None:
        try:
            m = msgspec.convert(p, MoneyMoved)
        except msgspec.ValidationError:
            return
        if not (_fits(m.principal_delta_fen) and _fits(m.bonus_delta_fen)):
            return
        self.rows["v"].append({
            "id": event_id, "member_id": m.member_id,
            "principal_delta_fen": m.principal_delta_fen, "bonus_delta_fen": m.bonus_delta_fen,
            "business_day": at.astimezone(self.zone).date()})


def _sum_ledgers(conn: Connection, members: set[str]) -> None:
    """Sets ``members``' running sums (``points_balance``, ``sv_principal_fen``,
    ``sv_bonus_fen``, and on PostgreSQL ``purchase_days``) from their whole ledgers as they now
    stand: worked out again from the rows, never added to, so they cannot drift from them."""
    def total(col: Any, member: Any) -> Any:
        return (select(func.coalesce(func.sum(col), 0)).where(member == _M.c.id)
                .scalar_subquery())

    sums: dict[str, Any] = {
        "points_balance": total(_P.c.points, _P.c.member_id),
        "sv_principal_fen": total(_V.c.principal_delta_fen, _V.c.member_id),
        "sv_bonus_fen": total(_V.c.bonus_delta_fen, _V.c.member_id)}
    if conn.dialect.name == "postgresql":  # where the report reads them
        sums["purchase_days"] = select(
            func.array_agg(aggregate_order_by(_S.c.business_day.distinct(), _S.c.business_day))
        ).where(_S.c.member_id == _M.c.id, _S.c.refunded_fen < _S.c.amount_fen).scalar_subquery()
    conn.execute(update(_M).where(_M.c.id.in_(sorted(members))).values(**sums))


# What a ledger's new rows add to their members' running sums, in the statement inserting them:
# (the columns the insert returns, the sums per member, the members' columns they add to).
_SUMMED = {
    "sales": ("member_id, business_day, refunded_fen < amount_fen AS buy",
              "array_agg(business_day) FILTER (WHERE buy) AS a",
              "purchase_days = (SELECT array_agg(DISTINCT x ORDER BY x) FROM "
              "unnest(coalesce(m.purchase_days, CAST('{}' AS date[])) || d.a) x)"),
    "points_entries": ("member_id, points", "sum(points) AS a",
                       "points_balance = m.points_balance + d.a"),
    "sv_ledger": ("member_id, principal_delta_fen, bonus_delta_fen",
                  "sum(principal_delta_fen) AS a, sum(bonus_delta_fen) AS b",
                  "sv_principal_fen = m.sv_principal_fen + d.a, "
                  "sv_bonus_fen = m.sv_bonus_fen + d.b"),
}


def _insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]], *,
                 summed: bool = False) -> None:
    """``rows`` into ``table``, a key already there skipped. On PostgreSQL one statement from a
    JSON array (``json_populate_recordset`` with the table's own row type), several times
    faster than ``executemany`` for thousands of rows. ``summed`` (PostgreSQL, a ledger): the
    same statement adds the rows it inserted (not those skipped) to their members' running
    sums; every other change to a member's rows works the sums out again (``_sum_ledgers``)."""
    if conn.dialect.name != "postgresql":
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)
        return
    cols = ", ".join(rows[0])
    data = json.dumps(rows, default=lambda v: v.isoformat())
    insert_sql = (f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM "
                  f"json_populate_recordset(NULL::{table.name}, CAST(:rows AS json)) "
                  "ON CONFLICT DO NOTHING")
    if summed:
        returned, sums, sets = _SUMMED[table.name]
        insert_sql = (f"WITH ins AS ({insert_sql} RETURNING {returned}) "
                      f"UPDATE members m SET {sets} FROM (SELECT member_id, {sums} FROM ins "
                      "WHERE member_id IS NOT NULL GROUP BY member_id) d "
                      "WHERE m.id = d.member_id AND d.a IS NOT NULL")
    conn.execute(text(insert_sql), {"rows": data})


# -- HQ's nightly RFM cuts over the chain's members, for the tills (services/rfm.py) -----------

QUANTILES = (0.2, 0.4, 0.6, 0.8)  # PostgreSQL's percentile_disc(q): the value at rank ⌈n·q⌉


def publish_rfm_bounds(ctx: ServerContext) -> ev_types.RfmBounds | None:
    """The log read in first, then the quintile cuts of the recency, frequency and money of
    every member with a purchase (merged-away members count as their winners), appended as an
    ``rfm.bounds_published`` server event every till pulls. None (nothing appended) while no
    member has bought."""
    refresh(ctx)
    today = ctx.clock.now().astimezone(store_zone(ZONE)).date()
    buy = _S.c.refunded_fen < _S.c.amount_fen
    per = (select(func.max(case((buy, _S.c.business_day))).label("last"),
                  func.sum(case((buy, 1), else_=0)).label("n"),
                  func.sum(_S.c.amount_fen - _S.c.refunded_fen).label("spend"))
           .join(_M, _M.c.id == _S.c.member_id).where(_M.c.status == "active")
           .group_by(_S.c.member_id).subquery())
    with ctx.db.read() as conn:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import array

            qs = array(list(QUANTILES))
            row = conn.execute(select(
                func.count(), *(func.percentile_disc(qs).within_group(c)
                                for c in (per.c["last"], per.c.n, per.c.spend)))
                .where(per.c.n > 0)).one()
            n, r, f, m = int(row[0]), row[1] or [], row[2] or [], row[3] or []
        else:  # a small server (tests, a trial): sorted here
            rows = conn.execute(select(per).where(per.c.n > 0)).all()
            n = len(rows)
            ranks = [max(1, math.ceil(n * q)) - 1 for q in QUANTILES]
            r, f, m = ([sorted(x[i] for x in rows)[k] for k in ranks] if n else []
                       for i in range(3))
    if not n:
        return None
    payload = ev_types.RfmBounds(day=today.isoformat(), buyers=n,
                                 r=[str(d)[:10] for d in r], f=[int(x) for x in f],
                                 m=[int(x) for x in m])
    with ctx.db.write() as conn:
        LogWriter(conn, now=ctx.clock.now()).append_server_event(
            type=ev_types.RFM_BOUNDS_PUBLISHED, entity_id=None, payload=payload)
    return payload


# -- the report --------------------------------------------------------------------------------


def _rules_churned_days(conn: Connection) -> tuple[int, dict[str, str]]:
    row = conn.execute(select(RulesVersion.source).order_by(RulesVersion.published_at.desc())
                       .limit(1)).first()
    if row is None:
        raise BadRequest(detail="no rules published yet")
    rules = parse_rules(row.source)
    return rules.lifecycle.churned_days, {t.code: t.name for t in rules.tiers.levels}


def _kept() -> q.Kept:
    """Where HQ's copy keeps what the report reads (``insight_queries.kept_counts``, the SQL
    the tills run too): each member row's running sums and ``purchase_days`` (the last purchase
    before a day: the last of them before it, by ``width_bucket``), every ledger row's home
    store (the default ``rows``)."""
    def sums(m: Any) -> tuple[Any, Any, Any, Any]:
        return m, m.c.points_balance, m.c.sv_principal_fen, m.c.sv_bonus_fen

    def last_before(m: Any, since: date, day: date) -> Any:
        del since  # an earlier day counts nowhere either
        days = m.c.purchase_days
        return days[func.width_bucket(literal(day - timedelta(days=1), Date), days)]

    return q.Kept(_M, _S, _P, _V, sums, last_before)


def _member_counts(conn: Connection) -> q.MemberCounts:
    """The member counts of ``insight_queries.tallies`` per (home store, tier) from the kept
    sums (PostgreSQL): ``insight_queries.kept_counts`` over HQ's copy (:func:`_kept`)."""
    kept = _kept()

    def counts(p: q.Period, store_id: str | None, active_from: datetime,
               churned_days: int) -> dict[q.Key, dict[str, int]]:
        return q.kept_counts(conn, p, store_id, active_from, churned_days, kept)

    return counts


def chain_health(ctx: ServerContext, *, start: date, end: date, store: int | None = None,
                 kept_sums: bool = True) -> tuple[HealthReport, dict[str, str], dict[str, str]]:
    """The log read in first, then the report for store number ``store`` or the whole chain
    (each store and tier, each store's total, the chain's), with the stores' and tiers'
    names. Refusals as the till's (a reversed period, one not begun, a store without members).
    ``kept_sums`` False: the queries over the whole ledgers instead (``health_report`` without
    ``member_counts``; for the tests, which check both give the same report)."""
    refresh(ctx)
    zone = store_zone(ZONE)
    today = ctx.clock.now().astimezone(zone).date()
    with ctx.db.read() as conn:
        churned_days, tiers = _rules_churned_days(conn)
        stores = {r.id: r.name for r in conn.execute(select(Store.id, Store.name))}
        store_id = None
        if store is not None:
            store_id = conn.scalar(select(Store.id).where(Store.number == store))
            if store_id is None:
                raise BadRequest(detail=f"no store {store}")
        counts, tills = None, None
        if kept_sums and conn.dialect.name == "postgresql":
            # the hashes in memory; no JIT (compiling the plans cost more than running them)
            conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            conn.execute(text("SET LOCAL jit = off"))
            counts = _member_counts(conn)
            if store_id is None:
                tills = q.distinct_values(conn, "sales", "store_id")
        report = health_report(conn, start=start, end=end, store_id=store_id, today=today,
                               zone=zone, churned_days=churned_days, member_counts=counts,
                               till_stores=tills)
    return report, stores, tiers


def counts(conn: Connection) -> dict[str, int]:
    """Rows in the reporting copy (for the CLI's summary and the tests)."""
    return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (_M, _S, _P, _V)}
