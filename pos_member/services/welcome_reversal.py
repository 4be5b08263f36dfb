"""One welcome bonus per person (docs/rules.md): when two records of one person are merged
(``member.merged``: one phone registered at two stores offline), the merged-away record's
welcome points are reversed; the surviving record keeps its own.

The reversal is a ``welcome_reversed`` points entry derived from the welcome entry alone — its
id (a UUID5 of the welcome entry's id), the points, the time, store and device of the welcome,
the welcome's own lot consumed first — so every till posts the same entry, once, whichever
arrives first: the merge (the loser's welcome is here: ``merge_points`` reads it with
:func:`losers_welcomes` and reverses it) or the loser's welcome (the merge is here:
``post_entry`` calls :func:`reverse_welcome` for a welcome whose member was merged away).
Writes no event: each till derives it from events every till pulls.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pos_member.db.models import PointsEntry
from pos_member.points_lots import WELCOME_REVERSED, reversal_id

__all__ = ["WELCOME_REVERSED", "losers_welcomes", "reversal_id", "reverse_welcome"]

_E = PointsEntry.__table__


def reverse_welcome(conn: Connection, welcome: Mapping[str, Any], holder_id: str) -> None:
    """Posts the reversal of ``welcome`` (a welcome entry: id, points, at, store_id,
    device_id) to ``holder_id``, the member now holding its points. Already posted: nothing."""
    from pos_member.services.points_ledger import post_entry

    points = int(welcome["points"])
    if points <= 0:
        return
    at = welcome["at"]
    post_entry(conn, {
        "id": reversal_id(str(welcome["id"])), "member_id": holder_id,
        "kind": WELCOME_REVERSED, "points": -points, "txn_id": None, "sale_id": None,
        "bill_no": None, "store_id": welcome["store_id"], "device_id": welcome["device_id"],
        "clerk_id": None, "at": at.isoformat() if isinstance(at, datetime) else str(at),
        "note": None, "clerk_name": None, "consume": [[str(welcome["id"]), points]]})


def losers_welcomes(conn: Connection, loser_id: str) -> list[Mapping[str, Any]]:
    """The welcome entries held by ``loser_id`` (read before the merge moves them)."""
    from pos_member.services.points_ledger import WELCOME

    return [r._mapping for r in conn.execute(
        select(_E.c.id, _E.c.points, _E.c.at, _E.c.store_id, _E.c.device_id)
        .where(_E.c.member_id == loser_id, _E.c.kind == WELCOME).order_by(_E.c.id))]
