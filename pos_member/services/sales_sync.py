"""Sales at a till that pulls other tills' changes: their ``sale.recorded`` and
``sale.refunded`` events kept here as sales, with the points entries they carry posted through
the points ledger (:mod:`pos_member.services.points_ledger`), as the till's own sales are.
Every handler takes the event's typed payload (``pos_member.events``) and is idempotent.
:data:`SALES_HANDLERS` is their part of the pulled-event dispatch table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from msgspec import UNSET
from sqlalchemy import Connection, bindparam, insert, select

from pos_member import events
from pos_member.db.models import Member
from pos_member.db.prepared import Prepared
from pos_member.services import points_ledger, rfm
from pos_member.services.sale_refunds import apply_refund
from pos_member.services.sales import (
    SALE_POINTS,
    SALE_RECORDED,
    SALE_REFUNDED,
    SALES,
)

log = logging.getLogger(__name__)
MEMBERS = Member.__table__
# Run straight on the driver (pos_member/db/prepared.py): a new till catching up with its
# store's history applies a pulled sale for most of the events it pulls.
_ROW_KEYS = ("id", "txn_id", "store_id", "device_id", "bill_no", "amount_fen", "member_id",
             "clerk_id", "guide_id", "categories", "sold_at", "business_day", "refunded_fen",
             "home_store_id")
# What a pulled sale checks before it is written, in one statement: the sale already here (by
# its id, or its till transaction), its bill number taken, and its member's home store (what
# the ``sales_home_insert`` trigger would set after the insert, written with it instead).
_BEFORE_SALE = Prepared(select(
    select(SALES.c.id).where(SALES.c.id == bindparam("id")).scalar_subquery()
    .label("same_id"),
    select(SALES.c.id).where(SALES.c.txn_id == bindparam("txn_id")).scalar_subquery()
    .label("same_txn"),
    select(SALES.c.id).where(SALES.c.store_id == bindparam("store_id"),
                             SALES.c.bill_no == bindparam("bill_no")).scalar_subquery()
    .label("same_bill"),
    select(MEMBERS.c.store_id).where(MEMBERS.c.id == bindparam("member_id")).scalar_subquery()
    .label("home")))
_INSERT_SALE = Prepared(insert(SALES), column_keys=_ROW_KEYS)
_INSERT_POINTS = Prepared(insert(SALE_POINTS), column_keys=(
    "sale_id", "member_id", "bill_fen", "redeem_points", "redeem_fen", "earned", "clawed",
    "restored", "redeem_lots", "detail"))


def apply_sale_recorded(conn: Connection, ev: Mapping[str, Any],
                        p: events.SaleRecorded) -> bool:
    s = dict(p.sale)
    row = {
        "id": str(s["id"]), "txn_id": str(s["txn_id"]), "store_id": str(s["store_id"]),
        "device_id": str(s["device_id"]), "bill_no": str(s["bill_no"]),
        "amount_fen": int(s["amount_fen"]), "member_id": s.get("member_id"),
        "clerk_id": s.get("clerk_id"), "guide_id": s.get("guide_id"),
        "categories": list(s.get("categories") or []),
        "sold_at": points_ledger.to_datetime(s["sold_at"]),
        "business_day": datetime.fromisoformat(s["business_day"]).date()
        if "T" in s["business_day"] else _date(s["business_day"]),
        "refunded_fen": 0,
    }
    entries = [points_ledger.decode_entry(e) for e in p.entries]
    pp = p.points
    holders: dict[str, str] = {}
    if row["member_id"] is not None:  # a member merged away here: the sale is the winner's
        named = str(row["member_id"])
        row["member_id"] = holders[named] = points_ledger.current_member(conn, named)
    before = _BEFORE_SALE.first(conn, row)
    if before.same_id is not None or before.same_txn is not None:
        return False
    if before.same_bill is not None:
        # Two tills of a store gave one bill number offline: keep both sales.
        log.warning("pulled sale %s: bill %s taken here, kept with a suffix", row["id"],
                    row["bill_no"])
        row["bill_no"] = f"{row['bill_no'][:27]}~{row['id'][-4:]}"
    row["home_store_id"] = before.home
    _INSERT_SALE.run(conn, row)
    if row["member_id"] is not None and row["amount_fen"] > 0:
        rfm.on_purchase(conn, str(row["member_id"]), row["business_day"], row["amount_fen"])
    redeem_lots: list[list[Any]] = []
    for e in entries:
        consumed = points_ledger.post_entry(conn, e, event_id=ev["id"], holders=holders)
        if e["kind"] == points_ledger.REDEEM:
            redeem_lots = [list(c) for c in consumed]
    if pp is not UNSET and row["member_id"] is not None:
        _INSERT_POINTS.run(conn, {
            "sale_id": row["id"], "member_id": row["member_id"],
            "bill_fen": pp.bill_fen, "redeem_points": pp.redeem_points,
            "redeem_fen": pp.redeem_fen, "earned": pp.earned, "clawed": 0,
            "restored": 0, "redeem_lots": redeem_lots, "detail": {}})
    return True


def apply_sale_refunded(conn: Connection, ev: Mapping[str, Any],
                        p: events.SaleRefunded) -> bool:
    sale_id, amount, claw, restore = p.sale_id, p.refund_fen, p.clawed, p.restored
    entries = [points_ledger.decode_entry(e) for e in p.entries]
    if conn.execute(select(SALES.c.id).where(SALES.c.id == sale_id)).first() is None:
        log.warning("pulled refund of sale %s, which is not here", sale_id)
    else:
        apply_refund(conn, sale_id, amount, claw, restore)
    for e in entries:
        points_ledger.post_entry(conn, e, event_id=ev["id"])
    return True


def _date(text: str) -> date:
    return date.fromisoformat(text)


# Pulled event type → handler(conn, event, typed payload) -> applied?, for the pulled-event
# dispatch table.
SALES_HANDLERS: dict[str, Callable[[Connection, Mapping[str, Any], Any], bool]] = {
    SALE_RECORDED: apply_sale_recorded,
    SALE_REFUNDED: apply_sale_refunded,
}
