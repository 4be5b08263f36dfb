"""The coupons' projection (issue 18): the ``coupons`` rows and their ledger
(``coupon_entries``), posted alike by this till's operations and by pulled ``coupon.*``
events, once per event. A coupon's state is a function of its ledger (:func:`settle`), so
every till holding the same entries shows the same state whatever order they came in; a
redemption of a coupon already redeemed elsewhere is kept in the ledger (HQ flags it). A
duplicate-phone merge moves the loser's coupons to the winner (:func:`merge_coupons`); one
issued to the loser and pulled after the merge goes in as the winner's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member import events
from pos_member.db.models import Coupon, CouponBlock, CouponEntry
from pos_member.db.prepared import Prepared

ISSUED, REDEEMED, EXPIRED, REVOKED = "issued", "redeemed", "expired", "revoked"
RETURNED = "returned"
_COUPONS, _ENTRIES = Coupon.__table__, CouponEntry.__table__
_INSERT = Prepared(sqlite_insert(_COUPONS).on_conflict_do_nothing(), column_keys=(
    "key", "member_id", "template", "name", "terms", "valid_from", "valid_until", "state",
    "source", "trigger_key", "issued_at", "store_id", "device_id", "sale_id", "used_at"))
_ENTRY = Prepared(sqlite_insert(_ENTRIES).on_conflict_do_nothing(), column_keys=(
    "id", "key", "kind", "at", "store_id", "sale_id", "discount_fen"))
_SETTLE = Prepared(update(_COUPONS).where(_COUPONS.c.key == bindparam("k")).values(
    state=bindparam("state"), sale_id=bindparam("sale"), used_at=bindparam("at")))
_LEDGER = Prepared(select(_ENTRIES.c.kind, _ENTRIES.c.sale_id, _ENTRIES.c.at).where(
    _ENTRIES.c.key == bindparam("key")))
_ROW = Prepared(select(_COUPONS).where(_COUPONS.c.key == bindparam("key")))


def wire(row: Mapping[str, Any]) -> dict[str, Any]:
    """A coupon row as ``coupon.issued`` carries it (times as ISO text)."""
    out = dict(row)
    for k in ("valid_from", "valid_until", "issued_at"):
        out[k] = row[k].isoformat()
    out.pop("sale_id", None)
    out.pop("used_at", None)
    return out


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def post_issued(conn: Connection, coupon: Mapping[str, Any], *, event_id: str) -> bool:
    """Adds the coupon and its ``issued`` entry; False when it was there already. A coupon
    of a member merged away (its issue pulled after the merge) is the winner's: the one who
    uses it (docs/rules.md, "Coupons after a merge")."""
    from pos_member.services.points_ledger import current_member

    row = {**coupon, "member_id": current_member(conn, coupon["member_id"]),
           "valid_from": _at(coupon["valid_from"]),
           "valid_until": _at(coupon["valid_until"]), "issued_at": _at(coupon["issued_at"]),
           "state": ISSUED, "sale_id": None, "used_at": None,
           "trigger_key": coupon.get("trigger_key")}
    added = _INSERT.run(conn, row) == 1
    _ENTRY.run(conn, {"id": event_id, "key": coupon["key"], "kind": ISSUED,
                      "at": row["issued_at"], "store_id": coupon["store_id"], "sale_id": None,
                      "discount_fen": 0})
    return added


def merge_coupons(conn: Connection, *, loser_id: str, winner_id: str) -> None:
    """``member.merged``: the loser's coupons are the winner's (used or not: the ledger stays
    under the coupon's key; the events keep the member they named)."""
    conn.execute(update(_COUPONS).where(_COUPONS.c.member_id == loser_id)
                 .values(member_id=winner_id))


def post_used(conn: Connection, kind: str, p: Mapping[str, Any], *, event_id: str,
              at: datetime) -> bool:
    """A redemption (``redeemed``) or its return (``returned``): the entry, then the state
    from the ledger (:func:`settle`)."""
    added = _ENTRY.run(conn, {"id": event_id, "key": p["key"], "kind": kind, "at": at,
                              "store_id": p["store_id"], "sale_id": p["sale_id"],
                              "discount_fen": p["discount_fen"]}) == 1
    if added:
        settle(conn, p["key"])
    return added


def post_redeemed_issued(conn: Connection, p: Mapping[str, Any], *, event_id: str,
                         at: datetime) -> None:
    """A redemption at this till of a coupon its ledger has as issued (checked under the
    write lock): the entry, and the state :func:`settle` would work out — redeemed on this
    bill, as no other redemption is open — written without reading the ledger back (the
    checkout's path)."""
    if _ENTRY.run(conn, {"id": event_id, "key": p["key"], "kind": REDEEMED, "at": at,
                         "store_id": p["store_id"], "sale_id": p["sale_id"],
                         "discount_fen": p["discount_fen"]}) == 1:
        _SETTLE.run(conn, {"k": p["key"], "state": REDEEMED, "sale": p["sale_id"], "at": at})


def post_ended(conn: Connection, kind: str, p: Mapping[str, Any], *, event_id: str,
               at: datetime, store_id: str) -> bool:
    """Expired or revoked: the entry, then the state from the ledger."""
    added = _ENTRY.run(conn, {"id": event_id, "key": p["key"], "kind": kind, "at": at,
                              "store_id": store_id, "sale_id": None, "discount_fen": 0}) == 1
    if added:
        settle(conn, p["key"])
    return added


def settle(conn: Connection, key: str) -> None:
    """The coupon's state as its ledger says, whatever order its entries arrived in (each till
    reaches the same): ``redeemed`` while a redemption is not returned (on the earliest such
    bill), else ``revoked`` or ``expired`` if it was, else ``issued``."""
    rows = _LEDGER.all(conn, {"key": key})
    returned = {r.sale_id for r in rows if r.kind == RETURNED}
    open_sales = [(r.at, r.sale_id) for r in rows if r.kind == REDEEMED
                  and r.sale_id not in returned]
    kinds = {r.kind for r in rows}
    if open_sales:
        at, sale = min(open_sales)
        state: tuple[str, str | None, datetime | None] = (REDEEMED, sale, at)
    elif REVOKED in kinds or EXPIRED in kinds:
        state = (REVOKED if REVOKED in kinds else EXPIRED, None, None)
    else:
        state = (ISSUED, None, None)
    _SETTLE.run(conn, {"k": key, "state": state[0], "sale": state[1], "at": state[2]})


def row_of(conn: Connection, key: str) -> Any:
    return _ROW.first(conn, {"key": key})


def is_blocked(conn: Connection, member_id: str) -> bool:
    return conn.scalar(select(CouponBlock.member_id).where(
        CouponBlock.member_id == member_id)) is not None


# -- pulled events ------------------------------------------------------------------------


def _block(conn: Connection, ev: Mapping[str, Any], payload: Any) -> bool:
    """HQ's coupon block: replaces the member's row; an unblock lifts it only when it names
    the same flag (an old settlement never lifts a newer block)."""
    table = CouponBlock.__table__
    if ev["type"] == events.MEMBER_COUPONS_BLOCKED.type:
        conn.execute(sqlite_insert(table).values(
            member_id=payload.member_id, flag_id=str(payload.flag_id),
            blocked_at=_at(ev["created_at"])).on_conflict_do_update(
            index_elements=["member_id"], set_={"flag_id": str(payload.flag_id)}))
    else:
        conn.execute(table.delete().where(table.c.member_id == payload.member_id,
                                          table.c.flag_id == str(payload.flag_id)))
    return True


def _pulled(conn: Connection, ev: Mapping[str, Any], payload: Any) -> bool:
    kind = ev["type"]
    at = _at(ev["created_at"])
    if kind == events.COUPON_ISSUED.type:
        post_issued(conn, payload.coupon, event_id=ev["id"])
    elif kind == events.COUPON_REDEEMED.type:
        post_used(conn, REDEEMED, events.encode(payload), event_id=ev["id"], at=at)
    elif kind == events.COUPON_RETURNED.type:
        post_used(conn, RETURNED, events.encode(payload), event_id=ev["id"], at=at)
    else:
        post_ended(conn, EXPIRED if kind == events.COUPON_EXPIRED.type else REVOKED,
                   events.encode(payload), event_id=ev["id"], at=at, store_id=ev["store_id"])
    return True


COUPON_HANDLERS = {t.type: _pulled for t in (
    events.COUPON_ISSUED, events.COUPON_REDEEMED, events.COUPON_RETURNED,
    events.COUPON_EXPIRED, events.COUPON_REVOKED)} | {
    events.MEMBER_COUPONS_BLOCKED.type: _block, events.MEMBER_COUPONS_UNBLOCKED.type: _block}
