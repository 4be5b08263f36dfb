"""A coupon is used once chain-wide (issue 18): each ``coupon.redeemed`` HQ stores claims its
coupon's row in ``coupon_uses``; a second bill claiming a taken row — two stores redeeming one
coupon while offline — is flagged for HQ (``coupon_twice``, with both bills) and the member's
coupons are stopped at every till (``member.coupons_blocked``) until HQ settles it
(``pos-member-server settle-coupons MEMBER --note TEXT``: the flags resolved with the note,
``member.coupons_unblocked`` appended). The same pattern as the stored-value overdraw
(``balances.py``). Each ``coupon.issued`` also keeps the coupon's terms (``coupon_terms``),
marked by its ``coupon.revoked`` or ``coupon.expired``: HQ's :func:`check` describes a coupon
to another store's till and refuses a withdrawn one. A bill that took a coupon withdrawn
elsewhere (offline, before the withdrawal was pulled) raises ``coupon_withdrawn_used`` for
HQ's operator, once, whichever of the two reached HQ second: no block, the bill stands.

Runs in the push's write transaction (:func:`claim` before ``balances``, :func:`block` after
it: the lock order of ``locks``), so the claim, the flag and the server event commit with the
redemption, exactly once. Concurrency: the claim is an
``INSERT … ON CONFLICT DO NOTHING`` on the coupon's key, then a ``SELECT … FOR UPDATE`` of that
one row: two pushes of one coupon meet on its row (PostgreSQL's row lock; SQLite serialises
writers), never on a lock wider than the coupon. A ``coupon.returned`` (the bill refunded)
frees the row only for the bill that holds it, pushed by that bill's store (a bill is refunded
where it was rung up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member import events
from sync.coupon_check import CouponCheckResponse
from sync.member_lookup import MAX_COUPONS, RemoteCoupon
from sync.server import lookup_limits
from sync.server.balances import StoredEvent, _member_id
from sync.server.context import ServerContext
from sync.server.errors import BadRequest, NoOpenCouponFlag
from sync.server.locks import MERGE_LOCK, lock_shared
from sync.server.log import LogWriter
from sync.server.models import CouponTerms, CouponUse, Flag, MemberRedirect, Store

COUPON_TWICE = "coupon_twice"
COUPON_WITHDRAWN_USED = "coupon_withdrawn_used"
MAX_NOTE = 500
_USES = CouponUse.__table__
_TERMS = CouponTerms.__table__
_TYPES = frozenset({events.COUPON_REDEEMED.type, events.COUPON_RETURNED.type})
_ENDS = {events.COUPON_REVOKED.type: "revoked", events.COUPON_EXPIRED.type: "expired"}
_LIFE = frozenset({events.COUPON_ISSUED.type, *_ENDS})
TYPES = _TYPES | _LIFE  # what ``claim`` reads: nothing to do for a push without one


def _use(e: StoredEvent) -> dict[str, Any] | None:
    """The claim an event makes, or None for a malformed payload (relayed untouched)."""
    p = e.payload
    if not isinstance(p, Mapping):
        return None
    fields = {k: p.get(k) for k in ("key", "member_id", "sale_id", "bill_no")}
    if not all(isinstance(v, str) for v in fields.values()) or not 0 < len(fields["key"]) <= 16:
        return None
    return {**fields, "bill_no": fields["bill_no"][:64], "store_id": e.store_id,
            "event_id": e.id}


def issued_row(event_id: str, payload: Any) -> dict[str, Any] | None:
    """The ``coupon_terms`` row a ``coupon.issued`` payload makes, or None when malformed."""
    c = payload.get("coupon") if isinstance(payload, Mapping) else None
    if not isinstance(c, Mapping) or not isinstance(c.get("key"), str) \
            or not 0 < len(c["key"]) <= 16:
        return None
    return {"key": c["key"], "member_id": str(payload.get("member_id", ""))[:36],
            "event_id": event_id, "coupon": dict(c), "state": "issued", "ended_at": None}


def keep_terms(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Stores issued coupons' terms (``coupon_terms``); a key HQ already holds is kept as
    first told (a retried push, HQ's batch run again)."""
    if rows:
        ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(_TERMS)
        conn.execute(ins.on_conflict_do_nothing(index_elements=["key"]), list(rows))


def _life(log: LogWriter, conn: Connection, e: StoredEvent) -> None:
    """An issue keeps the coupon's terms; a withdrawal or expiry marks them (a withdrawal
    outranks an expiry; an end of a coupon HQ was never told of is relayed only). A
    withdrawal of a coupon a bill holds already (used offline elsewhere first) is flagged."""
    if e.type == events.COUPON_ISSUED.type:
        row = issued_row(e.id, e.payload)
        if row is not None:
            keep_terms(conn, [row])
        return
    key = e.payload.get("key") if isinstance(e.payload, Mapping) else None
    if not isinstance(key, str):
        return
    state = _ENDS[e.type]
    where = _TERMS.c.key == key
    if state == "expired":
        where = where & (_TERMS.c.state == "issued")
    withdrawn = conn.execute(update(_TERMS).where(where & (_TERMS.c.state != state))
                             .values(state=state, ended_at=log._now)
                             .returning(_TERMS.c.key)).first() is not None
    if withdrawn and state == "revoked":
        bill = conn.execute(select(_USES).where(_USES.c.key == key)).first()
        if bill is not None:
            _flag_withdrawn(log, conn, bill._mapping, withdrawal=e)


def _flag_withdrawn(log: LogWriter, conn: Connection, bill: Mapping[str, Any], *,
                    withdrawal: StoredEvent | None) -> None:
    """``coupon_withdrawn_used``: a bill took a coupon a manager withdrew (the till that took
    it had not pulled the withdrawal: offline). Raised once, by whichever of the two reached
    HQ second, for the bill's store; the bill stands (the sale happened), HQ's operator looks
    into it and resolves the flag (``resolve-flag``). The member's coupons are not stopped:
    the member did nothing wrong, and no coupon was used twice."""
    log.raise_flag(kind=COUPON_WITHDRAWN_USED, store_id=bill["store_id"], detail={
        "key": bill["key"], "member_id": bill["member_id"],
        "bill": {k: bill[k] for k in ("store_id", "sale_id", "bill_no", "event_id")},
        "withdrawal": None if withdrawal is None else {
            "store_id": withdrawal.store_id, "event_id": withdrawal.id}})


def _key(e: StoredEvent) -> str:
    """The coupon an event concerns ("" when malformed), the order its row is locked in."""
    p = e.payload if isinstance(e.payload, Mapping) else {}
    if e.type == events.COUPON_ISSUED.type:
        c = p.get("coupon")
        p = c if isinstance(c, Mapping) else {}
    key = p.get("key")
    return key if isinstance(key, str) else ""


@dataclass(frozen=True, slots=True)
class Blocked:
    """A second bill's flag, raised by :func:`claim`; :func:`block` appends its event."""
    member_id: str
    flag_id: int
    key: str


def claim(log: LogWriter, conn: Connection, stored: Sequence[StoredEvent]) -> list[Blocked]:
    """The push hook's first half: keeps coupons' terms, claims and frees coupons, raises the
    flags of second bills. Its rows are locked in coupon key order (a stable sort: one
    coupon's events keep theirs), under ``MERGE_LOCK`` shared, before any balance row or the
    server's seq (``locks``, 3b); the flags' events wait for :func:`block`. Costs nothing for
    a batch without coupons."""
    mine = sorted((e for e in stored if e.type in TYPES), key=_key)
    if not mine:
        return []
    if not log.merges:  # a merging push holds it exclusively already
        lock_shared(conn, MERGE_LOCK)
    blocked: list[Blocked] = []
    for e in mine:
        if e.type in _LIFE:
            _life(log, conn, e)
            continue
        use = _use(e)
        if use is None:
            continue
        if e.type == events.COUPON_RETURNED.type:
            conn.execute(delete(_USES).where(_USES.c.key == use["key"],  # the bill's own
                                             _USES.c.sale_id == use["sale_id"],  # store
                                             _USES.c.store_id == use["store_id"]))
            continue
        ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(_USES)
        claimed = conn.execute(ins.values(**use, used_at=log._now)
                               .on_conflict_do_nothing(index_elements=["key"])
                               .returning(_USES.c.key)).first()
        if claimed is not None:
            if conn.execute(select(_TERMS.c.state).where(_TERMS.c.key == use["key"])
                            ).scalar() == "revoked":  # withdrawn before this bill reached HQ
                _flag_withdrawn(log, conn, use, withdrawal=None)
            continue
        first = conn.execute(select(_USES).where(_USES.c.key == use["key"])
                             .with_for_update()).one()
        if first.sale_id != use["sale_id"]:
            blocked.append(_flag(log, conn, first._mapping, use))
    return blocked


def block(log: LogWriter, blocked: Sequence[Blocked]) -> None:
    """The push hook's second half: a ``member.coupons_blocked`` per flag :func:`claim`
    raised (takes the server's seq, ``locks`` 5: after the balance rows, before the points
    rows and the cards)."""
    for b in blocked:
        log.append_server_event(
            type=events.MEMBER_COUPONS_BLOCKED, entity_id=b.member_id,
            payload=events.CouponsBlocked(member_id=b.member_id, flag_id=b.flag_id, key=b.key))


def _flag(log: LogWriter, conn: Connection, first: Mapping[str, Any],
          second: dict[str, Any]) -> Blocked:
    bill = ("store_id", "sale_id", "bill_no", "event_id", "member_id")
    detail = {"key": second["key"], "member_id": second["member_id"],
              "first": {k: first[k] for k in bill}, "second": {k: second[k] for k in bill}}
    flag_id = conn.execute(insert(Flag).values(
        kind=COUPON_TWICE, store_id=second["store_id"], detail=detail, raised_at=log._now,
        resolved_at=None).returning(Flag.id)).scalar_one()
    return Blocked(second["member_id"], flag_id, second["key"])


@dataclass(frozen=True, slots=True)
class CouponSettlement:
    member_id: str
    flag_ids: list[int]
    bills: list[str] = field(default_factory=list)  # per flag: both bills, as HQ reads them


def _bills(conn: Connection, flag_id: int, detail: Mapping[str, Any]) -> str:
    """"flag 7: first bill B-1 at store 1 有家便利店, second bill B-9 at store 2 …" — what HQ
    settles against (never the coupon's code)."""
    said = []
    for which in ("first", "second"):
        bill = detail.get(which) or {}
        store = conn.execute(select(Store.number, Store.name).where(
            Store.id == bill.get("store_id"))).first()
        where = f"store {store.number} {store.name}" if store else "an unknown store"
        said.append(f"{which} bill {bill.get('bill_no') or '?'} at {where}")
    return f"flag {flag_id}: " + ", ".join(said)


def settle_coupons(ctx: ServerContext, *, member: str, note: str) -> CouponSettlement:
    """HQ settles a member's coupons used twice: the open ``coupon_twice`` flags of the member
    are resolved with the note and a ``member.coupons_unblocked`` per flag lifts the block at
    every till. Raises ``BadRequest`` without a note, ``MemberNotFoundAtHq``,
    ``NoOpenCouponFlag`` (nothing written)."""
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise BadRequest(detail=f"the note must be 1-{MAX_NOTE} characters")
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        log = LogWriter(conn, now=now)
        flagged = list(conn.execute(select(Flag.id, Flag.detail).where(
            Flag.kind == COUPON_TWICE, Flag.resolved_at.is_(None)).order_by(Flag.id)))
        named = {(r.detail or {}).get("member_id") for r in flagged}
        member_id = member.strip() if member.strip() in named else _member_id(conn, member)
        open_flags = [r for r in flagged if (r.detail or {}).get("member_id") == member_id]
        if not open_flags:
            raise NoOpenCouponFlag(member=member)
        for r in open_flags:
            conn.execute(update(Flag).where(Flag.id == r.id).values(
                resolved_at=now, detail={**r.detail, "note": note,
                                         "settled_at": now.isoformat()}))
            log.append_server_event(
                type=events.MEMBER_COUPONS_UNBLOCKED, entity_id=member_id,
                payload=events.CouponsBlocked(member_id=member_id, flag_id=r.id, note=note))
        bills = [_bills(conn, r.id, r.detail or {}) for r in open_flags]
    return CouponSettlement(member_id, [r.id for r in open_flags], bills)


_STORES = Store.__table__
_REDIRECTS = MemberRedirect.__table__
# A coupon's terms and, when its member was merged away, the winner (the last of composed
# merges: ``balances`` keeps ``member_redirects`` pointing at it).
_TERMS_OF = (select(_TERMS.c.event_id, _TERMS.c.coupon, _TERMS.c.state,
                    select(_REDIRECTS.c.winner_member_id)
                    .where(_REDIRECTS.c.loser_member_id == _TERMS.c.member_id)
                    .scalar_subquery().label("winner"))
             .where(_TERMS.c.key == bindparam("k")))
_CHECK = (select(_USES.c.sale_id, _USES.c.used_at, _STORES.c.number, _STORES.c.name)
          .select_from(_USES.outerjoin(_STORES, _STORES.c.id == _USES.c.store_id))
          .where(_USES.c.key == bindparam("k")))


def check(ctx: ServerContext, *, key: str, token: str) -> CouponCheckResponse:
    """What HQ knows of the coupon ``key`` (``GET /v1/coupons/check``), for a till about to
    redeem a coupon (any: its own issue too): the bill it was redeemed on, if any; its state
    (withdrawn or expired at another till); and, to a till of another store than the
    coupon's, its terms (that till holds none of the member's coupons). The device's token is
    checked first (``Unauthorized``), then the check is counted and audited with the member
    lookups (``LookupRateLimited`` past the device's limit: nothing is read). Reads the
    primary: a redemption or withdrawal pushed a moment ago is seen."""
    now = ctx.clock.now()
    with ctx.db.read() as pooled:
        conn = pooled.execution_options(isolation_level="AUTOCOMMIT")
        from sync.server.services import authenticate_on  # services imports ingest → us

        device = authenticate_on(conn, token=token)
        lookup_limits.admit(ctx.db, conn, device=device, kind="coupon", key=key, now=now)
        row = conn.execute(_CHECK, {"k": key}).first()
        terms = conn.execute(_TERMS_OF, {"k": key}).first()
    known: dict[str, Any] = {}
    if terms is not None:
        known["state"] = terms.state
        if (terms.coupon or {}).get("store_id") != device.store_id:
            coupon = dict(terms.coupon or {})
            if terms.winner is not None:  # its member was merged away: the winner's to use
                coupon["member_id"] = terms.winner
            known |= {"coupon": coupon, "issued_event_id": terms.event_id}
    if row is None:
        return CouponCheckResponse(key=key, redeemed=False, as_of=now, **known)
    return CouponCheckResponse(key=key, redeemed=True, sale_id=row.sale_id,
                               store_no=row.number, store_name=row.name or "",
                               used_at=row.used_at, as_of=now, **known)


_USABLE = (select(_TERMS.c.event_id, _TERMS.c.coupon)
           .where(_TERMS.c.member_id.in_(
                      select(_REDIRECTS.c.loser_member_id)
                      .where(_REDIRECTS.c.winner_member_id == bindparam("m"))
                      .union_all(select(bindparam("m")))),
                  _TERMS.c.state == "issued",
                  ~select(_USES.c.key).where(_USES.c.key == _TERMS.c.key).exists()))


def usable_of(conn: Connection, member_id: str, *, now: datetime) -> list[RemoteCoupon]:
    """The member's coupons HQ holds as usable (issued, no bill holds them, not past their
    end), the soonest to end first: the member lookup's answer to another store's till. The
    coupons of records merged into the member are theirs (``member_redirects`` names the
    last winner of composed merges), described as theirs."""
    out: list[tuple[datetime, RemoteCoupon]] = []
    for r in conn.execute(_USABLE, {"m": member_id}):
        try:
            until = datetime.fromisoformat((r.coupon or {}).get("valid_until"))
        except (TypeError, ValueError):
            continue
        if until > now:
            coupon = {**(r.coupon or {}), "member_id": member_id}
            out.append((until, RemoteCoupon(coupon=coupon, issued_event_id=r.event_id)))
    out.sort(key=lambda x: x[0])
    return [c for _, c in out[:MAX_COUPONS]]
