"""Recruitment targets (导购招募, SPEC §2.7): the store's monthly target, its split into daily
targets by weekday weights, the shift roster, and each guide's share of a day.

The splits (largest remainder, docs/rules.md, "Recruitment KPIs") are pure, in
:mod:`pos_member.targets_rules`; this module reads and writes the plan.

State changes are events (``kpi.target_set``, ``kpi.roster_set``, ``kpi.split_adjusted``) with
an audit row each; the tables are their projections, last writer wins per row by
``(hlc, event id)``, and the same writers apply events pulled from the store's other tills
(handlers at the end, listed in ``services.pulled_events._LEDGERS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.db.models import KpiMonthTarget, KpiRoster, KpiSplitAdjustment, Staff
from pos_member.db.uow import UnitOfWork
from pos_member.errors import (
    NotAGuide,
    PlanEditedAheadElsewhere,
    RosterEmpty,
)
from pos_member.kpi_inputs import MAX_DAY_TARGET, parse_month, parse_target
from pos_member.permissions import Action, Clerk, Role, require
from pos_member.targets_rules import (
    check_split,
    daily_targets,
    guide_split,
    month_days,
    month_of,
)

TARGET_SET = events.KPI_TARGET_SET.type
ROSTER_SET = events.KPI_ROSTER_SET.type
SPLIT_ADJUSTED = events.KPI_SPLIT_ADJUSTED.type

_TARGETS = KpiMonthTarget.__table__
_ROSTERS = KpiRoster.__table__
_ADJUST = KpiSplitAdjustment.__table__
_STAFF = Staff.__table__


# -- reading the plan --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuideRef:
    id: str
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What a day asks of the store and of each guide on shift."""

    day: date
    month_target: int | None  # None: no target set for the month
    day_target: int
    roster: tuple[str, ...]  # staff ids on shift, by staff number
    roster_entered: bool  # False: nobody entered one; every active guide counts as on shift
    split: Mapping[str, int]  # staff id → target; adds up to day_target
    adjusted: bool  # the split is the manager's hand adjustment


def store_guides(conn: Connection | Session, store_id: str) -> list[GuideRef]:
    """The store's active guides, by staff number."""
    rows = conn.execute(
        select(_STAFF.c.id, _STAFF.c.code, _STAFF.c.name)
        .where(_STAFF.c.store_id == store_id, _STAFF.c.role == Role.GUIDE.value,
               _STAFF.c.active.is_(True))
        .order_by(_STAFF.c.code)
    ).all()
    return [GuideRef(r.id, r.code, r.name) for r in rows]


def month_targets(conn: Connection | Session, store_id: str, months: Sequence[str]
                  ) -> dict[str, int]:
    rows = conn.execute(
        select(_TARGETS.c.month, _TARGETS.c.target)
        .where(_TARGETS.c.store_id == store_id, _TARGETS.c.month.in_(list(months)))
    ).all()
    return {r.month: r.target for r in rows}


def day_targets(conn: Connection | Session, store_id: str, weights_percent: Sequence[int],
                first: date, last: date) -> dict[date, int]:
    """Each day's store target from ``first`` to ``last`` (0 where the month has none)."""
    months = sorted({month_of(first + timedelta(days=i))
                     for i in range((last - first).days + 1)})
    targets = month_targets(conn, store_id, months)
    out: dict[date, int] = {}
    for m in months:
        per_day = daily_targets(targets.get(m, 0), m, weights_percent)
        out.update({d: t for d, t in per_day.items() if first <= d <= last})
    return out


def day_plan(conn: Connection | Session, *, store_id: str, day: date,
             weights_percent: Sequence[int], guides: Sequence[GuideRef] | None = None
             ) -> DayPlan:
    month = month_of(day)
    target = month_targets(conn, store_id, [month]).get(month)
    day_target = daily_targets(target or 0, month, weights_percent)[day]
    guides = store_guides(conn, store_id) if guides is None else guides
    order = {g.id: i for i, g in enumerate(guides)}
    stored = conn.execute(select(_ROSTERS.c.staff_ids).where(
        _ROSTERS.c.store_id == store_id, _ROSTERS.c.day == day)).scalar()
    if stored is None:
        roster = tuple(g.id for g in guides)
    else:  # by staff number; someone no longer a guide stays listed (their target stands)
        roster = tuple(sorted(stored, key=lambda s: (order.get(s, len(order)), s)))
    split = guide_split(day_target, roster, day)
    adjusted = False
    hand = conn.execute(select(_ADJUST.c.targets).where(
        _ADJUST.c.store_id == store_id, _ADJUST.c.day == day)).scalar()
    if hand is not None and set(hand) == set(roster) and sum(hand.values()) == day_target:
        split = {s: int(hand[s]) for s in roster}
        adjusted = True
    return DayPlan(day, target, day_target, roster, stored is not None, split, adjusted)


# -- the manager's changes ---------------------------------------------------------------------


def set_month_target(uow: UnitOfWork, *, clerk: Clerk, month: str | date, target: object
                     ) -> int:
    """Sets the store's new-member target for ``month``: one ``kpi.target_set`` event and an
    audit row, committed together. Returns the target. Refuses (changing nothing) a bad month or
    a target that is not a whole number from 0 to 100,000."""
    require(clerk, Action.MANAGE_KPI)
    month = parse_month(month)
    value = parse_target(target)
    with uow.begin() as tx:
        conn = tx.conn
        before = month_targets(conn, clerk.store_id, [month]).get(month)
        payload = events.TargetSet(store_id=clerk.store_id, month=month, target=value)
        ev = tx.record(clerk, events.KPI_TARGET_SET, payload)
        if not _write_target(conn, clerk.store_id, month, value, clerk.staff_id, ev.hlc,
                             ev.id):
            raise PlanEditedAheadElsewhere()  # it would lose everywhere: nothing written
        tx.audit(clerk, TARGET_SET, "kpi_target", f"{clerk.store_id}:{month}",
                 before={"target": before}, after={"target": value}, event=ev)
        tx.commit()
    return value


def set_rosters(uow: UnitOfWork, *, clerk: Clerk, rosters: Mapping[date, Sequence[str]]) -> None:
    """Enters who is on shift, day by day (``{day: [staff id, ...]}``), in one event. Every
    name must be an active guide of the store; a day with a target needs somebody on shift.
    All days are checked before anything is written: one bad day refuses the whole entry."""
    require(clerk, Action.MANAGE_KPI)
    if not rosters:
        return
    weights = uow.rules.kpi.weekday_weights_percent
    with uow.begin() as tx:
        conn = tx.conn
        guides = {g.id: g for g in store_guides(conn, clerk.store_id)}
        days = sorted(rosters)
        targets = day_targets(conn, clerk.store_id, weights, days[0], days[-1])
        clean: dict[str, list[str]] = {}
        for day in days:
            ids = list(dict.fromkeys(rosters[day]))
            unknown = [s for s in ids if s not in guides]
            if unknown:
                raise NotAGuide(who=", ".join(unknown))
            if not ids and targets.get(day, 0) > 0:
                raise RosterEmpty(day=day.isoformat(), target=targets[day])
            clean[day.isoformat()] = sorted(ids, key=lambda s: guides[s].code)
        before = {d: r for d, r in conn.execute(select(_ROSTERS.c.day, _ROSTERS.c.staff_ids).where(
            _ROSTERS.c.store_id == clerk.store_id, _ROSTERS.c.day.in_(days))).all()}
        ev = tx.record(clerk, events.KPI_ROSTER_SET,
                       events.RosterSet(store_id=clerk.store_id, days=clean))
        for iso, ids in clean.items():
            if not _write_roster(conn, clerk.store_id, date.fromisoformat(iso), ids, ev.hlc,
                                 ev.id):
                raise PlanEditedAheadElsewhere()
        tx.audit(clerk, ROSTER_SET, "kpi_roster", clerk.store_id,
                 before={d.isoformat(): [guides[s].code if s in guides else s for s in r]
                         for d, r in before.items()},
                 after={d: [guides[s].code for s in r] for d, r in clean.items()}, event=ev)
        tx.commit()


def adjust_split(uow: UnitOfWork, *, clerk: Clerk, day: date, targets: Mapping[str, object]
                 ) -> DayPlan:
    """Sets a day's per-guide targets by hand. They must name exactly the guides on shift and
    add up to the day's target; otherwise refused, nothing changed. Audited."""
    require(clerk, Action.MANAGE_KPI)
    values = {s: parse_target(v, maximum=MAX_DAY_TARGET) for s, v in targets.items()}
    weights = uow.rules.kpi.weekday_weights_percent
    with uow.begin() as tx:
        conn = tx.conn
        plan = day_plan(conn, store_id=clerk.store_id, day=day, weights_percent=weights)
        check_split(values, roster=plan.roster, day_target=plan.day_target, day=day)
        ev = tx.record(clerk, events.KPI_SPLIT_ADJUSTED, events.SplitAdjusted(
            store_id=clerk.store_id, day=day.isoformat(), targets=values))
        if not _write_adjustment(conn, clerk.store_id, day, values, ev.hlc, ev.id):
            raise PlanEditedAheadElsewhere()
        tx.audit(clerk, SPLIT_ADJUSTED, "kpi_split", f"{clerk.store_id}:{day.isoformat()}",
                 before=dict(plan.split), after=values, event=ev)
        tx.commit()
    return DayPlan(plan.day, plan.month_target, plan.day_target, plan.roster,
                   plan.roster_entered, values, True)


# -- projection writers (local and pulled), last writer wins per row -----------------------------


def _upsert(conn: Connection, table: Any, key: dict[str, Any], values: dict[str, Any],
            hlc: str, event_id: str) -> bool:
    """Writes the row unless the one stored was written by a newer ``(hlc, event id)``."""
    where = and_(*(table.c[k] == v for k, v in key.items()))
    row = conn.execute(select(table.c.hlc, table.c.event_id).where(where)).first()
    if row is not None and (hlc, event_id) <= (row.hlc, row.event_id):
        return False
    fields = {**values, "hlc": hlc, "event_id": event_id}
    if row is None:
        conn.execute(insert(table), {**key, **fields})
    else:
        conn.execute(update(table).where(where).values(**fields))
    return True


def _write_target(conn: Connection, store_id: str, month: str, target: int,
                  set_by: str | None, hlc: str, event_id: str) -> bool:
    return _upsert(conn, _TARGETS, {"store_id": store_id, "month": month},
                   {"target": target, "set_by": set_by}, hlc, event_id)


def _write_roster(conn: Connection, store_id: str, day: date, staff_ids: list[str],
                  hlc: str, event_id: str) -> bool:
    return _upsert(conn, _ROSTERS, {"store_id": store_id, "day": day},
                   {"staff_ids": staff_ids}, hlc, event_id)


def _write_adjustment(conn: Connection, store_id: str, day: date, targets: dict[str, int],
                      hlc: str, event_id: str) -> bool:
    return _upsert(conn, _ADJUST, {"store_id": store_id, "day": day},
                   {"targets": targets}, hlc, event_id)


# -- pulled events (pulled_events._LEDGERS): the typed payload; each checks it all first ----


def apply_target_set(conn: Connection, ev: Mapping[str, Any], p: events.TargetSet) -> bool:
    store_id, month = p.store_id, parse_month(p.month)
    target = p.target
    if isinstance(target, bool) or not isinstance(target, int) or target < 0:
        raise ValueError(f"bad target {target!r}")
    return _write_target(conn, store_id, month, target, ev.get("clerk_id"), ev["hlc"], ev["id"])


def apply_roster_set(conn: Connection, ev: Mapping[str, Any], p: events.RosterSet) -> bool:
    store_id = p.store_id
    days = {date.fromisoformat(d): [str(s) for s in ids] for d, ids in p.days.items()}
    changed = False
    for day, ids in days.items():
        changed = _write_roster(conn, store_id, day, ids, ev["hlc"], ev["id"]) or changed
    return changed


def apply_split_adjusted(conn: Connection, ev: Mapping[str, Any],
                         p: events.SplitAdjusted) -> bool:
    store_id, day = p.store_id, date.fromisoformat(p.day)
    targets = {str(s): int(v) for s, v in p.targets.items()}
    if any(v < 0 for v in targets.values()):
        raise ValueError("negative target")
    return _write_adjustment(conn, store_id, day, targets, ev["hlc"], ev["id"])


@dataclass(frozen=True, slots=True)
class MonthPlan:
    month: str
    target: int | None
    guides: tuple[GuideRef, ...]
    days: tuple[DayPlan, ...]


def month_plan(uow: UnitOfWork, *, clerk: Clerk, month: str | date) -> MonthPlan:
    """Everything the manager's plan screen shows for ``month``: its target, the store's
    guides and each day's roster and split."""
    require(clerk, Action.MANAGE_KPI)
    month = parse_month(month)
    weights = uow.rules.kpi.weekday_weights_percent
    with uow.read() as s:
        guides = store_guides(s, clerk.store_id)
        days = tuple(day_plan(s, store_id=clerk.store_id, day=d, weights_percent=weights,
                              guides=guides) for d in month_days(month))
    return MonthPlan(month, days[0].month_target, tuple(guides), days)
