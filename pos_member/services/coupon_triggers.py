"""The coupon triggers (issue 18; seed 001 "积分及权益自动触发"): the birthday coupon, the
win-back offer, the expiry of coupons past their end and the reminder 3 days before. One job
(:func:`run_triggers`), run by the till at start and every hour with the points jobs; offline,
catching up, idempotent (docs/rules.md, "Coupons: triggers").

- **Birthday**: ``coupons.birthday_days_before`` *(7)* days before a member's birthday (29
  February counts as 28 February in other years) the member gets ``coupons.birthday_template``,
  once per birthday: ``trigger_key`` ``birthday:<member>:<year>``. A till that was off catches
  up: any member whose next birthday is at most that many days ahead and who has no coupon for
  it yet gets one.
- **Win-back**: a member with no purchase for ``coupons.dormant_days`` *(90)* (none since
  registering: from registration) gets ``coupons.winback_template`` once per dormant period:
  ``winback:<member>:<day of the last purchase or registration>``; a purchase starts a new one.
- **Which till**: only the till that registered the member (or the identity it took after a
  fork or re-enrolment: ``device_successions``) issues that member's trigger coupons, as only
  the till that made a points lot reminds of it. Every till holds its store's members, so
  otherwise each would issue its own. A member registered at a till that is gone for good
  gets no trigger coupon until that till's successor exists (written in docs/rules.md).
- **Expiry**: a coupon still issued past its end gets ``coupon.expired`` (by the till that
  issued it: the same reasoning); the reminder ``coupon.expiring`` 3 days before its end is
  queued by that till too, once per coupon.
- **HQ's coupons** (``pos-member-server issue-coupons``: no till issued them) are the
  member's registering till's, as a trigger's are: it tells the member of each one arriving
  (an HQ offer, marketing: consent and the daily cap; one over the cap is told at a later run,
  while the coupon is usable), reminds 3 days before its end and expires it.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, literal, or_, select

from pos_member import events
from pos_member.crypto import PiiCipher
from pos_member.db.models import (
    Coupon,
    DeviceSuccession,
    Member,
    MemberStanding,
    NotificationOutbox,
    Sale,
)
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk
from pos_member.services import coupons_ledger as ledger
from pos_member.services.coupon_batch import issue_batch
from pos_member.services.coupon_notices import marketed_today, tell
from pos_member.services.coupons import BIRTHDAY, HQ, WINBACK
from pos_member.services.profile_seal import seal_one

BATCH = 5000  # coupons per transaction
FIRST_BIRTH_YEAR = 1900  # the earliest birthday a registration takes (services/members.py)
REMIND_DAYS = 3
_C = Coupon.__table__.c
_M = Member.__table__.c
_S = MemberStanding.__table__.c
_OUT = NotificationOutbox.__table__
# A frozen, blacklisted or erased member is sent no trigger's coupon (docs/rules.md).
_SERVED = ~select(_S.member_id).where(
    _S.member_id == _M.id, or_(_S.status != "normal", _S.erased.is_(True))).exists()


@dataclass(frozen=True, slots=True)
class TriggerRun:
    birthday: int
    winback: int
    expired: int
    reminded: int
    told: int = 0  # HQ's coupons the member was told of arriving


def my_devices(conn: Connection, device_id: str) -> list[str]:
    """This till's device and every identity it was before (its predecessors)."""
    mine, frontier = [device_id], [device_id]
    while frontier:
        older = list(conn.execute(select(DeviceSuccession.device_id).where(
            DeviceSuccession.successor_id.in_(frontier))).scalars())
        older = [d for d in older if d not in mine]
        mine.extend(older)
        frontier = older
    return mine


def _occurrence(birthday: date, year: int) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def _born_on(day: date, first_year: int) -> Iterator[date]:
    """Every birthday whose occurrence in ``day.year`` is ``day`` (29 February's falls on
    28 February in a common year), born from ``first_year`` up to ``day``."""
    for year in range(first_year, day.year + 1):
        for month, dom in ((day.month, day.day),) + (
                ((2, 29),) if (day.month, day.day) == (2, 28) and not isleap(day.year)
                else ()):
            if month == 2 and dom == 29 and not isleap(year):
                continue
            born = date(year, month, dom)
            if born <= day:
                yield born


def _birthdays(conn: Connection, devices: list[str], today: date, ahead: int,
               cipher: PiiCipher | None) -> list[tuple[str, str, bool]]:
    """(member id, trigger key, marketing consent) of members whose next birthday is within
    ``ahead`` days and who have no coupon for it. Birthdays are sealed at rest (issue 20,
    ``profile_seal``) with a synthetic nonce: equal birthdays are equal bytes, so the bytes of
    every birth date that falls in the window (each year since ``FIRST_BIRTH_YEAR``: ~1,000
    values) are sealed here and the members found by one query on them, never opened."""
    if cipher is None:
        return []
    occurs: dict[bytes, date] = {}
    for i in range(ahead + 1):
        day = today + timedelta(days=i)
        for born in _born_on(day, FIRST_BIRTH_YEAR):
            occurs[seal_one(cipher, "birthday", born) or b""] = day
    rows = conn.execute(select(_M.id, _M.birthday_enc, _M.marketing_consent).where(
        _M.birthday_enc.in_(bindparam("sealed", expanding=True)), _M.device_id.in_(devices),
        _M.status == "active", _SERVED), {"sealed": list(occurs)}).all()
    due = [(r.id, f"{BIRTHDAY}:{r.id}:{occurs[r.birthday_enc].year}",
            bool(r.marketing_consent)) for r in rows]
    return _untaken(conn, due)


def _untaken(conn: Connection, due: list[tuple[str, str, bool]]
             ) -> list[tuple[str, str, bool]]:
    """``due`` less the keys a coupon holds already (their unique index, in chunks)."""
    taken: set[str] = set()
    for i in range(0, len(due), 10_000):
        taken.update(conn.execute(select(_C.trigger_key).where(_C.trigger_key.in_(
            [k for _, k, _ in due[i:i + 10_000]]))).scalars())
    return [d for d in due if d[1] not in taken]


def _dormant(conn: Connection, devices: list[str], cutoff: datetime
             ) -> list[tuple[str, str, bool]]:
    """(member id, trigger key, marketing consent) of members with no purchase since
    ``cutoff`` (nor a registration after it) and no win-back coupon for this dormant period:
    one query, "no purchase since" one index probe a member (``ix_sales_member_sold``: a
    purchase at or after ``cutoff`` exists or not, faster than each member's last purchase),
    the last purchase (the key's day) and the key's check only for the members it lets by."""
    recent = select(Sale.member_id).where(Sale.member_id == _M.id,
                                          Sale.sold_at >= cutoff).exists()
    last = (select(func.max(Sale.sold_at)).where(Sale.member_id == _M.id)
            .scalar_subquery())
    since = func.coalesce(last, _M.registered_at)
    key = literal(f"{WINBACK}:") + _M.id + literal(":") + func.substr(since, 1, 10)
    taken = select(_C.key).where(_C.trigger_key == key).exists()
    rows = conn.execute(select(_M.id, key.label("key"), _M.marketing_consent).where(
        _M.device_id.in_(devices), _M.status == "active", _M.registered_at < cutoff,
        ~recent, ~taken, _SERVED))
    return [(r.id, r.key, bool(r.marketing_consent)) for r in rows]


def run_triggers(uow: UnitOfWork, *, clerk: Clerk) -> TriggerRun:
    """The birthday and win-back coupons due, then expiries and reminders (see the module).
    Safe to run at any time and any number of times: each coupon's ``trigger_key``."""
    rules = uow.rules.coupons
    now, today = uow.clock.now(), uow.clock.today()
    counts = {BIRTHDAY: 0, WINBACK: 0}
    jobs: list[tuple[str, Any, list[tuple[str, str, bool]]]] = []
    # The members due are read first, and the read is let go before issuing: a snapshot held
    # across the writes keeps SQLite from checkpointing, and the WAL the writes then search
    # grows with every batch.
    with uow.read() as s:
        conn = s.connection()
        devices = my_devices(conn, clerk.device_id)
        if (t := rules.template(rules.birthday_template)) is not None:
            jobs.append((BIRTHDAY, t, _birthdays(conn, devices, today,
                                                 rules.birthday_days_before, uow.cipher)))
        if (t := rules.template(rules.winback_template)) is not None:
            cutoff = now - timedelta(days=rules.dormant_days)
            jobs.append((WINBACK, t, _dormant(conn, devices, cutoff)))
        marketed = marketed_today(conn, uow.clock)  # the cap, kept here: no count per coupon
    for source, template, due in jobs:
        for i in range(0, len(due), BATCH):
            with uow.begin() as tx:
                counts[source] += issue_batch(tx, clerk, template=template, source=source,
                                              due=due[i:i + BATCH], marketed=marketed)
                tx.commit()
    expired, reminded = expire_and_remind(uow, clerk=clerk)
    told = tell_hq_arrivals(uow, clerk=clerk)
    return TriggerRun(counts[BIRTHDAY], counts[WINBACK], expired, reminded, told)


def _registered(devices: list[str]) -> Any:
    """The coupon's member is one this till (by any of its identities) registered: a probe of
    the member's row for each coupon (the coupons asked about are HQ's, few beside the
    members; an ``IN`` of the members would list them all)."""
    return select(_M.id).where(_M.id == _C.member_id, _M.device_id.in_(devices))


def tell_hq_arrivals(uow: UnitOfWork, *, clerk: Clerk) -> int:
    """Queues ``coupon.offer`` for each of HQ's coupons still usable that this till's members
    (registered here) hold and were not told of: with marketing consent, within the day's
    cap (``marketed_today``), once per coupon (the dedupe key a till's own issue uses)."""
    now = uow.clock.now()
    told = select(_OUT.c.id).where(
        _OUT.c.dedupe_key == literal("coupon.issued:") + _C.key).exists()
    with uow.read() as s:
        conn = s.connection()
        devices = my_devices(conn, clerk.device_id)
        consenting = _registered(devices).where(_M.marketing_consent.is_(True),
                                                _SERVED).exists()
        due = conn.execute(select(_C.key, _C.member_id, _C.name, _C.valid_until).where(
            _C.source == HQ, _C.state == ledger.ISSUED, _C.valid_until > now,
            consenting, ~told).order_by(_C.issued_at, _C.key)).all()
        marketed = marketed_today(conn, uow.clock) if due else {}
    n = 0
    for i in range(0, len(due), BATCH):
        with uow.begin() as tx:
            for r in due[i:i + BATCH]:
                last = uow.clock.local(r.valid_until - timedelta(microseconds=1)).date()
                n += tell(tx, member_id=r.member_id, kind="coupon.offer",
                          params={"name": r.name, "date": last.isoformat()},
                          dedupe_key=f"coupon.issued:{r.key}", marketed=marketed)
            tx.commit()
    return n


def expire_and_remind(uow: UnitOfWork, *, clerk: Clerk) -> tuple[int, int]:
    """``coupon.expired`` for this till's coupons (and HQ's of the members it registered)
    still issued past their end; the reminder 3 days before the end of those about to end
    (once per coupon: its dedupe key)."""
    now = uow.clock.now()
    with uow.read() as s:
        conn = s.connection()
        devices = my_devices(conn, clerk.device_id)
        mine = (or_(_C.device_id.in_(devices),
                    and_(_C.source == HQ, _registered(devices).exists())),
                _C.state == ledger.ISSUED)
        due = conn.execute(select(_C.key, _C.member_id).where(
            *mine, _C.valid_until <= now)).all()
        soon = conn.execute(select(_C.key, _C.member_id, _C.name, _C.valid_until).where(
            *mine, _C.valid_until > now,
            _C.valid_until <= now + timedelta(days=REMIND_DAYS))).all()
    reminded = 0
    for i in range(0, max(len(due), len(soon)), BATCH):
        with uow.begin() as tx:
            for r in due[i:i + BATCH]:
                payload = events.CouponEnded(key=r.key, member_id=r.member_id)
                ev = tx.record(clerk, events.COUPON_EXPIRED, payload, entity_id=r.member_id)
                ledger.post_ended(tx.conn, ledger.EXPIRED, events.encode(payload),
                                  event_id=ev.id, at=now, store_id=clerk.store_id)
            for r in soon[i:i + BATCH]:
                last = uow.clock.local(r.valid_until - timedelta(microseconds=1)).date()
                reminded += tell(tx, member_id=r.member_id, kind="coupon.expiring",
                                 params={"name": r.name, "date": last.isoformat()},
                                 dedupe_key=f"coupon.expiring:{r.key}")
            tx.commit()
    return len(due), reminded
