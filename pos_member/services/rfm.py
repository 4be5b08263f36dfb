"""RFM (issue 19, SPEC §2.8): each member's recency, frequency and money kept in ``member_rfm``
as sales arrive, scored 1–5 against quintile boundaries worked out once a store day.

- **Incremental**: a purchase (:func:`on_purchase`, from ``record_sale`` and a pulled
  ``sale.recorded``) adds itself to the member's figures and scores them against the
  boundaries in force, in the sale's own transaction: two look-ups by key and one write. A
  refund or a merge (rare) works the member's figures out again from their sales
  (:func:`refresh`, one member's index range).
- **Nightly** (:func:`nightly`, with the till's hourly jobs, off the GUI thread): the first run
  of each store day (the injected clock, the store's time zone) takes the quintile boundaries
  — HQ's over the chain's members when it published fresh ones (``rfm.bounds_published``,
  pulled), else its own over this database's members — saves them (setting ``rfm_bounds``)
  and scores every member again, in chunks of :data:`CHUNK` so that a sale never waits long
  behind it. HQ's cuts arriving later that day are put in force at the next hourly run.

Screens read the kept scores (the card, the recall list); nothing recomputes them from the
sales per screen. Definitions in docs/rules.md ("RFM segments").
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from pos_member import events
from pos_member.db.models import MemberRfm, Sale, Setting
from pos_member.db.prepared import Prepared
from pos_member.db.uow import UnitOfWork
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Clerk

SETTING = "rfm_bounds"  # the boundaries in force
SETTING_HQ = "rfm_bounds_hq"  # the newest HQ published (rfm.bounds_published)
TILL, HQ = "till", "hq"
HQ_FRESH_DAYS = 1  # HQ's cuts of today or yesterday are used; older, the till takes its own
CHUNK = 5000  # members scored per transaction by the nightly run
HIGH = 4  # a score of 4 or 5 (the top two quintiles, above the middle one) is "high"
QUINTILES = 5

_T = MemberRfm.__table__
_ST = Setting.__table__
_S = Sale.__table__
# (R high, F high, M high) -> the segment's code; names below (the eight-way RFM of the seeds)
CODES = {
    (True, True, True): "imp_value", (False, True, True): "imp_keep",
    (True, False, True): "imp_grow", (False, False, True): "imp_winback",
    (True, True, False): "gen_value", (False, True, False): "gen_keep",
    (True, False, False): "gen_grow", (False, False, False): "gen_winback",
}
SEGMENTS = {
    "imp_value": QT_TRANSLATE_NOOP("rfm", "重要价值客户"),
    "imp_keep": QT_TRANSLATE_NOOP("rfm", "重要保持客户"),
    "imp_grow": QT_TRANSLATE_NOOP("rfm", "重要发展客户"),
    "imp_winback": QT_TRANSLATE_NOOP("rfm", "重要挽留客户"),
    "gen_value": QT_TRANSLATE_NOOP("rfm", "一般价值客户"),
    "gen_keep": QT_TRANSLATE_NOOP("rfm", "一般保持客户"),
    "gen_grow": QT_TRANSLATE_NOOP("rfm", "一般发展客户"),
    "gen_winback": QT_TRANSLATE_NOOP("rfm", "一般挽留客户"),
}


@dataclass(frozen=True, slots=True)
class Bounds:
    """The nightly quintile boundaries: a member's score in a dimension is 1 + the number of
    cuts their figure is above (recency: a later last purchase day is above)."""

    day: date  # the store day they were taken
    buyers: int  # members with a purchase they were taken over
    r_cuts: tuple[date, ...]
    f_cuts: tuple[int, ...]
    m_cuts: tuple[int, ...]
    source: str = TILL  # TILL: over this database's members; HQ: over the chain's

    def to_json(self) -> str:
        return json.dumps({"day": self.day.isoformat(), "buyers": self.buyers,
                           "r": [d.isoformat() for d in self.r_cuts],
                           "f": list(self.f_cuts), "m": list(self.m_cuts),
                           "source": self.source})


@functools.lru_cache(maxsize=8)
def parse_bounds(text: str | None) -> Bounds | None:
    if not text:
        return None
    d = json.loads(text)
    return Bounds(date.fromisoformat(d["day"]), int(d["buyers"]),
                  tuple(date.fromisoformat(x) for x in d["r"]), tuple(d["f"]), tuple(d["m"]),
                  d.get("source", TILL))


@dataclass(frozen=True, slots=True)
class Scores:
    r: int | None
    f: int | None
    m: int | None
    segment: str | None


NONE = Scores(None, None, None, None)


def _above(value: object, cuts: Sequence[object]) -> int:
    return 1 + sum(1 for c in cuts if value > c)  # type: ignore[operator]


def segment_of(r: int, f: int, m: int) -> str:
    return CODES[(r >= HIGH, f >= HIGH, m >= HIGH)]


def score(bounds: Bounds | None, last_day: date | None, purchases: int, spend_fen: int) -> Scores:
    """A member's scores; none before the first boundaries or without a purchase."""
    if bounds is None or last_day is None or purchases <= 0:
        return NONE
    r, f, m = (_above(last_day, bounds.r_cuts), _above(purchases, bounds.f_cuts),
               _above(spend_fen, bounds.m_cuts))
    return Scores(r, f, m, segment_of(r, f, m))


# -- incremental: in the sale's (or refund's, or merge's) transaction ------------------------

_BOUNDS = Prepared(select(_ST.c.value).where(_ST.c.key == SETTING))
_FIGURES = Prepared(select(_T.c.last_day, _T.c.purchases, _T.c.spend_fen)
                    .where(_T.c.member_id == bindparam("member_id")))
# A sale's one read: the member's figures (none yet: NULLs) and the boundaries in force.
_FIGURES_AND_BOUNDS = Prepared(
    select(select(_ST.c.value).where(_ST.c.key == SETTING).scalar_subquery().label("bounds"),
           _T.c.last_day, _T.c.purchases, _T.c.spend_fen)
    .select_from(select(literal(1).label("one")).subquery().outerjoin(
        _T, _T.c.member_id == bindparam("member_id"))))
_COLUMNS = ("member_id", "last_day", "purchases", "spend_fen", "r", "f", "m", "segment")
_INSERT = Prepared(insert(_T), column_keys=_COLUMNS)
_UPDATE = Prepared(update(_T).where(_T.c.member_id == bindparam("k")).values(
    last_day=bindparam("last_day"), purchases=bindparam("purchases"),
    spend_fen=bindparam("spend_fen"), r=bindparam("r"), f=bindparam("f"), m=bindparam("m"),
    segment=bindparam("segment")))


def bounds_in(conn: Connection) -> Bounds | None:
    row = _BOUNDS.first(conn, {})
    return parse_bounds(row[0] if row else None)


def _write(conn: Connection, member_id: str, exists: bool, last_day: date | None,
           purchases: int, spend_fen: int, bounds: Bounds | bool | None = False) -> None:
    """``bounds``: those in force when the caller read them (False: not read)."""
    s = score(bounds_in(conn) if bounds is False else bounds, last_day, purchases, spend_fen)
    values = {"last_day": last_day, "purchases": purchases, "spend_fen": spend_fen,
              "r": s.r, "f": s.f, "m": s.m, "segment": s.segment}
    if exists:
        _UPDATE.run(conn, {"k": member_id, **values})
    else:
        _INSERT.run(conn, {"member_id": member_id, **values})


def on_purchase(conn: Connection, member_id: str, day: date, paid_fen: int) -> None:
    """A new sale of ``paid_fen`` (> 0, not refunded yet) on business day ``day``."""
    row = _FIGURES_AND_BOUNDS.first(conn, {"member_id": member_id})
    bounds = parse_bounds(row.bounds) if row is not None else None
    if row is None or row.purchases is None:
        _write(conn, member_id, False, day, 1, paid_fen, bounds)
    else:
        last = row.last_day if row.last_day is not None and row.last_day > day else day
        _write(conn, member_id, True, last, row.purchases + 1, row.spend_fen + paid_fen, bounds)


_PURCHASE = _S.c.refunded_fen < _S.c.amount_fen
_FROM_SALES = select(
    func.max(case((_PURCHASE, _S.c.business_day))),
    func.coalesce(func.sum(case((_PURCHASE, 1), else_=0)), 0),
    func.coalesce(func.sum(_S.c.amount_fen - _S.c.refunded_fen), 0),
    func.count(),
).where(_S.c.member_id == bindparam("member_id"))


def refresh(conn: Connection, member_id: str) -> None:
    """The member's figures worked out again from their sales (a refund, a merge)."""
    last, n, spend, sales = conn.execute(_FROM_SALES, {"member_id": member_id}).one()
    exists = _FIGURES.first(conn, {"member_id": member_id}) is not None
    if not sales:
        if exists:
            conn.execute(delete(_T).where(_T.c.member_id == member_id))
        return
    if isinstance(last, str):  # SQLite gives MAX() of a date column back as text
        last = date.fromisoformat(last)
    _write(conn, member_id, exists, last, int(n), int(spend))


_SALE_MEMBER = Prepared(select(_S.c.member_id).where(_S.c.id == bindparam("id")))


def refresh_for_sale(conn: Connection, sale_id: str) -> None:
    row = _SALE_MEMBER.first(conn, {"id": sale_id})
    if row is not None and row.member_id is not None:
        refresh(conn, row.member_id)


# -- nightly ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NightlyRun:
    bounds: Bounds | None  # None: already done today
    scored: int = 0


def _cuts(conn: Connection, column: object, n: int) -> tuple[object, ...]:
    """The values at the ranks ⌈n·k/5⌉ (k = 1..4) of the buyers' ``column``, ascending."""
    out = []
    for k in range(1, QUINTILES):
        rank = max(1, math.ceil(n * k / QUINTILES))
        out.append(conn.scalar(select(column).where(_T.c.purchases > 0)
                               .order_by(column).offset(rank - 1).limit(1)))
    return tuple(out)


def take_bounds(conn: Connection, today: date) -> Bounds | None:
    n = int(conn.scalar(select(func.count()).where(_T.c.purchases > 0)) or 0)
    if not n:
        return None
    r = tuple(d if isinstance(d, date) else date.fromisoformat(str(d))
              for d in _cuts(conn, _T.c.last_day, n))
    f = tuple(int(x) for x in _cuts(conn, _T.c.purchases, n))  # type: ignore[call-overload]
    m = tuple(int(x) for x in _cuts(conn, _T.c.spend_fen, n))  # type: ignore[call-overload]
    return Bounds(today, n, r, f, m)


def _score_sql(column: object, cuts: Sequence[object]) -> object:
    return 1 + sum((case((column > c, 1), else_=0) for c in cuts),  # type: ignore[operator]
                   start=0)


def nightly(uow: UnitOfWork, *, clerk: Clerk, force: bool = False) -> NightlyRun:
    """The store day's boundaries and everyone's scores, once a store day (``force``: again).
    Derived data, local to this database: no event, no audit row. ``clerk``: the till's
    system clerk, for symmetry with the other jobs."""
    del clerk
    today = uow.clock.today()
    with uow.read() as s:
        have = parse_bounds(s.scalar(select(_ST.c.value).where(_ST.c.key == SETTING)))
        hq = parse_bounds(s.scalar(select(_ST.c.value).where(_ST.c.key == SETTING_HQ)))
        if hq is not None and (today - hq.day).days > HQ_FRESH_DAYS:
            hq = None  # stale: HQ's nightly run has not reached this till lately
        if have is not None and not force and (
                (hq is not None and have.source == HQ and have.day >= hq.day)
                or (hq is None and have.day >= today)):
            return NightlyRun(None)
        bounds = hq if hq is not None else take_bounds(s.connection(), today)
        if bounds is not None and not bounds.buyers:
            bounds = None  # HQ's chain had no buyer yet: as a till without any
    with uow.begin() as tx:
        text = bounds.to_json() if bounds is not None else json.dumps(
            {"day": today.isoformat(), "buyers": 0, "r": [], "f": [], "m": []})
        tx.conn.execute(delete(_ST).where(_ST.c.key == SETTING))
        tx.conn.execute(insert(_ST).values(key=SETTING, value=text))
        tx.commit()
    if bounds is None:
        return NightlyRun(parse_bounds(text), 0)
    buyer = _T.c.purchases > 0
    r = _score_sql(_T.c.last_day, bounds.r_cuts)
    f = _score_sql(_T.c.purchases, bounds.f_cuts)
    m = _score_sql(_T.c.spend_fen, bounds.m_cuts)
    seg = case(*((and_(*(col >= HIGH if high else col < HIGH
                         for col, high in zip((_T.c.r, _T.c.f, _T.c.m), key, strict=True))),
                   code) for key, code in CODES.items()))
    after, scored = "", 0
    while True:
        with uow.begin() as tx:
            conn = tx.conn
            upper = conn.scalar(select(_T.c.member_id).where(_T.c.member_id > after)
                                .order_by(_T.c.member_id).offset(CHUNK - 1).limit(1))
            span = [_T.c.member_id > after] + ([_T.c.member_id <= upper] if upper else [])
            conn.execute(update(_T).where(*span).values(
                r=case((buyer, r)), f=case((buyer, f)), m=case((buyer, m))))
            scored += conn.execute(update(_T).where(*span).values(segment=case(
                (buyer, seg)))).rowcount
            tx.commit()
        if upper is None:
            return NightlyRun(bounds, scored)
        after = upper


def apply_bounds_published(conn: Connection, ev: Mapping[str, Any],
                           p: events.RfmBounds) -> bool:
    """A pulled ``rfm.bounds_published``: kept (the newest day), used by the next
    :func:`nightly` run, which scores every member against them."""
    try:
        got = Bounds(date.fromisoformat(p.day), int(p.buyers),
                     tuple(date.fromisoformat(x) for x in p.r), tuple(int(x) for x in p.f),
                     tuple(int(x) for x in p.m), HQ)
    except (TypeError, ValueError):
        return False
    if len(got.r_cuts) != QUINTILES - 1 and got.buyers:
        return False
    have = parse_bounds(conn.scalar(select(_ST.c.value).where(_ST.c.key == SETTING_HQ)))
    if have is not None and have.day > got.day:
        return False
    conn.execute(delete(_ST).where(_ST.c.key == SETTING_HQ))
    conn.execute(insert(_ST).values(key=SETTING_HQ, value=got.to_json()))
    return True


def scores_of(uow: UnitOfWork, member_id: str) -> Scores:
    with uow.read() as s:
        row = s.execute(select(_T.c.r, _T.c.f, _T.c.m, _T.c.segment)
                        .where(_T.c.member_id == member_id)).first()
    return NONE if row is None else Scores(*row)
