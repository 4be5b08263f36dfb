"""HQ's programme-health report for the chain (issue 19), over the central database.

HQ holds no ledgers, only the event log. :func:`refresh` reads the log from where it last
stopped (``chain_settings.insight_position``) into a reporting copy named and shaped like the
till's tables (``members``, ``sales``, ``points_entries``, ``sv_ledger``: ``models.Report*``),
in batches of :data:`BATCH` events, each in its own transaction with the position it reached;
:func:`chain_health` then runs the till's own report queries (``pos_member.services.insight``)
on it, for one store or the chain. Every figure's definition is the till's (docs/rules.md,
"Programme health"); what HQ's copy adds is in "Programme health at HQ".

Projected: ``member.registered`` (home store, registration time, tier ``regular``),
``member.tier_changed`` / ``member.tier_set`` (present tier), ``member.merged`` (the loser
counts nowhere; its sales, points and stored value become the winner's), ``sale.recorded`` /
``sale.refunded``, the points entries every points-bearing event carries (an entry id once),
and the ``sv.*`` money events (their business day: the event's time in the chain's zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, update

from pos_member import events as ev_types
from pos_member.clock import store_zone
from pos_member.events.stored_value import MoneyMoved
from pos_member.points_lots import ENTRY_EVENT_TYPES, entries_of
from pos_member.rules_config import parse_rules
from pos_member.services.insight import HealthReport, health_report
from pos_member.services.points_ledger import to_datetime
from sync.server.context import ServerContext
from sync.server.errors import BadRequest
from sync.server.locks import lock_keys
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
ZONE = "Asia/Shanghai"  # the chain's stores (as coupon_bulk: config.toml's default zone)
REGISTERED, MERGED = ev_types.MEMBER_REGISTERED.type, "member.merged"
TIER_CHANGED, TIER_SET = "member.tier_changed", "member.tier_set"
SALE, REFUND = ev_types.SALE_RECORDED.type, ev_types.SALE_REFUNDED.type
SV_PREFIX = "sv."
_M, _S = ReportMember.__table__, ReportSale.__table__
_P, _V = ReportPointsEntry.__table__, ReportSvEntry.__table__
_SET = ChainSetting.__table__


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
    last = rows[-1].position
    conn.execute(delete(_SET).where(_SET.c.key == POSITION))
    conn.execute(insert(_SET).values(key=POSITION, value=str(last)))
    return len(rows), len(rows) == BATCH


class _Projection:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.zone = store_zone(ZONE)
        self.winners: dict[str, str | None] = {}

    def winner(self, member_id: str | None) -> str | None:
        """The member holding ``member_id``'s ledgers now (a merged loser: its winner)."""
        if member_id is None:
            return None
        if member_id not in self.winners:
            self.winners[member_id] = self.conn.scalar(
                select(_M.c.merged_into).where(_M.c.id == member_id))
        return self.winners[member_id] or member_id

    def apply(self, event_id: str, kind: str, store_id: str, p: Mapping[str, Any],
              at: datetime) -> None:
        if kind == REGISTERED:
            self._registered(p, store_id)
        elif kind == MERGED:
            self._merged(str(p.get("loser_member_id")), str(p.get("winner_member_id")))
        elif kind in (TIER_CHANGED, TIER_SET):
            tier = p.get("to") if kind == TIER_CHANGED else p.get("tier")
            if isinstance(tier, str) and isinstance(p.get("member_id"), str):
                self.conn.execute(update(_M).where(_M.c.id == p["member_id"])
                                  .values(tier=tier[:32]))
        elif kind == SALE:
            self._sale(p)
        elif kind == REFUND and isinstance(p.get("sale_id"), str):
            self.conn.execute(update(_S).where(_S.c.id == p["sale_id"]).values(
                refunded_fen=_S.c.refunded_fen + int(p.get("refund_fen") or 0)))
        elif kind.startswith(SV_PREFIX):
            self._money(event_id, p, at)
        if kind in ENTRY_EVENT_TYPES:
            self._points(kind, p, at)

    def _registered(self, p: Mapping[str, Any], store_id: str) -> None:
        member_id, when = p.get("member_id"), p.get("registered_at")
        if not isinstance(member_id, str) or not isinstance(when, str):
            return
        home = p.get("store_id") if isinstance(p.get("store_id"), str) else store_id
        self.conn.execute(_insert(self.conn, _M).values(
            id=member_id, store_id=home, tier="regular", status="active",
            registered_at=to_datetime(when), merged_into=None).on_conflict_do_nothing())

    def _merged(self, loser: str, winner: str) -> None:
        c = self.conn
        c.execute(update(_M).where(_M.c.id == loser).values(status="merged", merged_into=winner))
        for table in (_S, _P, _V):
            c.execute(update(table).where(table.c.member_id == loser).values(member_id=winner))
        self.winners[loser] = winner

    def _sale(self, p: Mapping[str, Any]) -> None:
        s = p.get("sale")
        if not isinstance(s, Mapping):
            return
        try:
            day = str(s["business_day"])[:10]
            row = {"id": str(s["id"]), "store_id": str(s["store_id"]),
                   "member_id": self.winner(s.get("member_id")),
                   "amount_fen": int(s["amount_fen"]), "refunded_fen": 0,
                   "sold_at": to_datetime(s["sold_at"]), "business_day": date.fromisoformat(day)}
        except (KeyError, TypeError, ValueError):
            return
        self.conn.execute(_insert(self.conn, _S).values(row).on_conflict_do_nothing())

    def _points(self, kind: str, p: Mapping[str, Any], at: datetime) -> None:
        times = {e.get("id"): e.get("at") for e in p.get("entries") or ()
                 if isinstance(e, Mapping)}
        rows = []
        for e in entries_of(kind, p):
            try:
                when = to_datetime(times.get(e.id) or at)
            except (TypeError, ValueError):
                when = at
            rows.append({"id": e.id, "member_id": self.winner(e.member_id), "kind": e.kind,
                         "points": e.points, "at": when})
        if rows:  # an entry id once: a lot's expiry may come from several tills
            self.conn.execute(_insert(self.conn, _P).on_conflict_do_nothing(), rows)

    def _money(self, event_id: str, p: Mapping[str, Any], at: datetime) -> None:
        try:
            m = msgspec.convert(p, MoneyMoved)
        except msgspec.ValidationError:
            return
        self.conn.execute(_insert(self.conn, _V).values(
            id=event_id, member_id=self.winner(m.member_id),
            principal_delta_fen=m.principal_delta_fen, bonus_delta_fen=m.bonus_delta_fen,
            business_day=at.astimezone(self.zone).date()).on_conflict_do_nothing())


# -- the report --------------------------------------------------------------------------------


def _rules_churned_days(conn: Connection) -> tuple[int, dict[str, str]]:
    row = conn.execute(select(RulesVersion.source).order_by(RulesVersion.published_at.desc())
                       .limit(1)).first()
    if row is None:
        raise BadRequest(detail="no rules published yet")
    rules = parse_rules(row.source)
    return rules.lifecycle.churned_days, {t.code: t.name for t in rules.tiers.levels}


def chain_health(ctx: ServerContext, *, start: date, end: date,
                 store: int | None = None) -> tuple[HealthReport, dict[str, str], dict[str, str]]:
    """The log read in first, then the report for store number ``store`` or the whole chain
    (each store and tier, each store's total, the chain's), with the stores' and tiers'
    names. Refusals as the till's (a reversed period, one not begun, a store without members)."""
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
        report = health_report(conn, start=start, end=end, store_id=store_id, today=today,
                               zone=zone, churned_days=churned_days)
    return report, stores, tiers


def counts(conn: Connection) -> dict[str, int]:
    """Rows in the reporting copy (for the CLI's summary and the tests)."""
    return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (_M, _S, _P, _V)}
