"""Issuing one template's coupons to many members at once (issue 18: the birthday and
win-back triggers over a till's members), set-based: one ``executemany`` per table for a
batch — events, coupons, their ledger, audit rows, messages — with everything the batch's
coupons share (times, terms, texts) converted once. The rows are those :func:`coupons.issue_in`
writes one coupon at a time (a test holds the two to the same rows); ~1 ms a coupon through
``issue_in`` was most of a run over 1,000,000 members (docs/benchmarks.md).

Idempotent like ``issue_in``: each coupon's ``trigger_key`` (unique) is checked again under
the write lock, so a key taken meanwhile (a run at the same time) is skipped; and each
coupon's key derives from its ``trigger_key`` (``coupon_code.trigger_key_of``), so an issue
this till forgot (restored from a backup) is the same coupon again at HQ and the other tills.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member import events
from pos_member.clock import to_ms
from pos_member.coupon_code import trigger_key_of
from pos_member.coupon_rules import terms_of, validity
from pos_member.db.models import Coupon, CouponEntry, NotificationOutbox
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction
from pos_member.ids import uuid7_many
from pos_member.permissions import Clerk
from pos_member.rules_config import CouponTemplate
from pos_member.services import coupons_ledger as ledger
from pos_member.services.coupons import MARKETING_SOURCES
from pos_member.services.notifications import PENDING

_C = Coupon.__table__
_TAKEN = select(_C.c.trigger_key).where(_C.c.trigger_key.in_(bindparam("keys", expanding=True)))
_COUPONS = Prepared(sqlite_insert(_C).on_conflict_do_nothing(), column_keys=(
    "key", "member_id", "template", "name", "terms", "valid_from", "valid_until", "state",
    "source", "trigger_key", "issued_at", "store_id", "device_id", "sale_id", "used_at"))
_ENTRIES = Prepared(sqlite_insert(CouponEntry.__table__).on_conflict_do_nothing(), column_keys=(
    "id", "key", "kind", "at", "store_id", "sale_id", "discount_fen"))
_OUTBOX = Prepared(
    sqlite_insert(NotificationOutbox.__table__).on_conflict_do_nothing(
        index_elements=["dedupe_key"]),
    column_keys=("id", "member_id", "kind", "params", "dedupe_key", "status", "attempts",
                 "next_attempt_at", "created_at", "sent_at", "last_error"))


def issue_batch(tx: Transaction, clerk: Clerk, *, template: CouponTemplate, source: str,
                due: Sequence[tuple[str, str, bool]], marketed: dict[str, int]) -> int:
    """Issues ``template`` to each (member id, trigger key, marketing consent) of ``due``
    whose key is still free, telling each member as ``issue_in`` would (a marketing message
    only with consent and within the day's cap, kept in ``marketed``). Returns how many."""
    conn = tx.conn
    taken = set(conn.execute(_TAKEN, {"keys": [k for _, k, _ in due]}).scalars())
    todo = [d for d in due if d[1] not in taken]
    if not todo:
        return 0
    now = tx.clock.now()
    start, end = validity(template, now, tx.clock.zone)
    terms = terms_of(template)
    name = template.name[:100]
    shared = {"template": template.code, "name": name, "terms": terms,
              "valid_from": start.isoformat(), "valid_until": end.isoformat(),
              "source": source, "issued_at": now.isoformat(), "store_id": clerk.store_id,
              "device_id": clerk.device_id}
    keys = [trigger_key_of(tx.cipher, k) for _, k, _ in todo]  # one coupon however often
    recorded = tx.record_many(clerk, events.COUPON_ISSUED, [
        (events.encode(events.CouponIssued(member_id=m, coupon={
            "key": key, "member_id": m, "template": template.code, "name": name,
            "terms": terms, "valid_from": shared["valid_from"],
            "valid_until": shared["valid_until"], "source": source, "trigger_key": k,
            "issued_at": shared["issued_at"], "store_id": clerk.store_id,
            "device_id": clerk.device_id})), m)
        for (m, k, _), key in zip(todo, keys, strict=True)])
    _COUPONS.run_rows(conn, {**shared, "valid_from": start, "valid_until": end,
                             "issued_at": now, "state": ledger.ISSUED, "sale_id": None,
                             "used_at": None},
                      [{"key": key, "member_id": m, "trigger_key": k}
                       for (m, k, _), key in zip(todo, keys, strict=True)])
    _ENTRIES.run_rows(conn, {"kind": ledger.ISSUED, "at": now, "store_id": clerk.store_id,
                             "sale_id": None, "discount_fen": 0},
                      [{"id": ev.id, "key": key} for ev, key in zip(recorded, keys,
                                                                     strict=True)])
    tx.audit_many(clerk, events.COUPON_ISSUED.type, "coupon", [
        (key, {"member_id": m, "template": template.code, "source": source}, ev.id)
        for (m, _, _), key, ev in zip(todo, keys, recorded, strict=True)])
    _tell(tx, template=template, source=source, end=end, marketed=marketed,
          told=[(m, key) for (m, _, consent), key in zip(todo, keys, strict=True)
                if source not in MARKETING_SOURCES or consent])
    return len(todo)


def _tell(tx: Transaction, *, template: CouponTemplate, source: str, end: Any,
          marketed: dict[str, int], told: list[tuple[str, str]]) -> None:
    """The members' messages (``coupon_notices.tell``'s rules, the cap counted in
    ``marketed``)."""
    marketing = source in MARKETING_SOURCES
    cap = tx.rules.coupons.marketing_daily_cap
    rows = []
    for member_id, key in told:
        if marketing:
            if marketed.get(member_id, 0) >= cap:
                continue
            marketed[member_id] = marketed.get(member_id, 0) + 1
        rows.append({"member_id": member_id, "dedupe_key": f"coupon.issued:{key}"})
    if not rows:
        return
    now = tx.clock.now()
    for r, new_id in zip(rows, uuid7_many(lambda: to_ms(now), len(rows)), strict=True):
        r["id"] = new_id
    last_day = tx.clock.local(end - timedelta(microseconds=1)).date().isoformat()
    _OUTBOX.run_rows(tx.conn, {
        "kind": "coupon.offer" if marketing else "coupon.issued",
        "params": {"name": template.name, "date": last_day}, "status": PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "sent_at": None, "last_error": None}, rows)
