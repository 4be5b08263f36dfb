"""HQ issues a coupon to a filtered list of members (issue 18):
``pos-member-server issue-coupons TEMPLATE --reason TEXT [--store N] [--tier CODE]
[--limit N] [--batch ID]``.

The template is the newest published rules version's (``[[coupons.templates]]``); the members
are HQ's cards (``member_cards``: active ones, of a store and a tier if given). Each coupon is
one ``coupon.issued`` event HQ appends as the member's home store's (``store_id``), so only
that store's tills pull it, like a till's own coupon; its key, event id and ``trigger_key``
(``hq:<batch>:<member>``) derive from the batch and the member, so running the same batch
again issues nothing more (the events already stored are skipped).

**Sync is not stalled**: the members are issued in chunks of ``CHUNK``, each its own short
transaction taking the write lock *shared* (as pushes do), so tills push and pull between
chunks; the server's sequence lock is held for one chunk at a time.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from pos_member import events
from pos_member.clock import store_zone, to_ms
from pos_member.coupon_rules import terms_of, validity
from pos_member.hlc import HLCTimestamp
from pos_member.rules_config import CouponTemplate, parse_rules
from sync.protocol import WireEvent
from sync.server import coupons
from sync.server.context import ServerContext
from sync.server.errors import BadRequest
from sync.server.locks import SERVER_SEQ, lock_keys
from sync.server.log import LogWriter, latest_rules_version
from sync.server.models import SERVER_DEVICE_ID, Event, MemberCardRow, RulesVersion, Store
from sync.server.wire import IncomingEvent

CHUNK = 1000
ZONE = "Asia/Shanghai"  # the chain's stores (config.toml's default time zone)
_NS = uuid.UUID("5e1c0b7a-18c0-4c0a-9e7e-3f2a6d1b0c18")


@dataclass(frozen=True, slots=True)
class BulkIssue:
    batch: str
    members: int  # matched by the filter
    issued: int  # new coupons (0 when the batch ran before)


def _template(conn: Connection, code: str) -> tuple[str, CouponTemplate]:
    row = conn.execute(select(RulesVersion.version, RulesVersion.source)
                       .order_by(RulesVersion.published_at.desc()).limit(1)).first()
    if row is None:
        raise BadRequest(detail="no rules published yet")
    template = parse_rules(row.source).coupons.template(code)
    if template is None:
        raise BadRequest(detail=f"no coupon template {code} in rules {row.version}")
    return row.version, template


def _members(conn: Connection, store: int | None, tier: str | None) -> list[tuple[str, str]]:
    q = select(MemberCardRow.member_id, MemberCardRow.store_id).where(
        MemberCardRow.status == "active", MemberCardRow.store_id.is_not(None))
    if store is not None:
        store_id = conn.scalar(select(Store.id).where(Store.number == store))
        if store_id is None:
            raise BadRequest(detail=f"no store {store}")
        q = q.where(MemberCardRow.store_id == store_id)
    if tier is not None:
        q = q.where(MemberCardRow.tier == tier)
    return [(r.member_id, r.store_id) for r in conn.execute(q.order_by(MemberCardRow.member_id))]


def issue_coupons(ctx: ServerContext, *, template: str, reason: str, store: int | None = None,
                  tier: str | None = None, limit: int | None = None,
                  batch: str | None = None) -> BulkIssue:
    """Issues ``template`` to the matching members (see the module); returns the counts."""
    reason = reason.strip()
    if not 1 <= len(reason) <= 200:
        raise BadRequest(detail="the reason must be 1-200 characters")
    batch = batch or uuid.uuid4().hex[:12]
    with ctx.db.read() as conn:
        version, t = _template(conn, template)
        members = _members(conn, store, tier)[:limit]
    issued = 0
    for i in range(0, len(members), CHUNK):
        chunk = members[i:i + CHUNK]
        issued += ctx.db.concurrent(
            lambda conn, chunk=chunk: _chunk(conn, ctx.clock.now(), batch, version, t,
                                             reason, chunk))
    return BulkIssue(batch, len(members), issued)


def _chunk(conn: Connection, now: datetime, batch: str, version: str, t: CouponTemplate,
           reason: str, chunk: list[tuple[str, str]]) -> int:
    ids = {m: str(uuid.uuid5(_NS, f"{batch}:{m}")) for m, _ in chunk}
    done = set(conn.execute(select(Event.id).where(Event.id.in_(ids.values()))).scalars())
    todo = [(m, s) for m, s in chunk if ids[m] not in done]
    if not todo:
        return 0
    lock_keys(conn, [SERVER_SEQ])
    seq = conn.scalar(select(func.max(Event.seq)).where(
        Event.device_id == SERVER_DEVICE_ID)) or 0
    start, end = validity(t, now, store_zone(ZONE))
    terms, now_ms = terms_of(t), to_ms(now)
    out: list[IncomingEvent] = []
    kept: list[dict[str, object]] = []
    for k, (member_id, store_id) in enumerate(todo, start=1):
        key = hashlib.sha256(f"{batch}:{member_id}".encode()).hexdigest()[:12]
        coupon = {"key": key, "member_id": member_id, "template": t.code, "name": t.name[:100],
                  "terms": terms, "valid_from": start.isoformat(),
                  "valid_until": end.isoformat(), "source": "hq",
                  "trigger_key": f"hq:{batch}:{member_id}", "issued_at": now.isoformat(),
                  "store_id": store_id, "device_id": SERVER_DEVICE_ID}
        payload = events.CouponIssued(member_id=member_id, coupon=coupon, reason=reason)
        kept.append({"key": key, "member_id": member_id, "event_id": ids[member_id],
                     "coupon": coupon, "state": "issued", "ended_at": None})
        out.append(IncomingEvent.from_wire(WireEvent(
            id=ids[member_id], store_id=store_id, device_id=SERVER_DEVICE_ID, seq=seq + k,
            clerk_id=None, hlc=HLCTimestamp(now_ms, 0).pack(),
            type=events.COUPON_ISSUED.type, entity_id=member_id,
            payload_version=events.COUPON_ISSUED.version, payload=events.encode(payload),
            rules_version=version or latest_rules_version(conn) or "none", created_at=now)))
    LogWriter(conn, now=now).append(out)
    coupons.keep_terms(conn, kept)  # HQ's check describes them to other stores' tills
    return len(out)
