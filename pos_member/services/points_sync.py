"""Points at a till that pulls other tills' changes: the entries of their ``points.*``
events posted through the points ledger (:func:`points_ledger.post_entry`), as the till's own
are, idempotent per entry; the handler takes the typed payload (``events.PointsPosted``).
:data:`POINTS_HANDLERS` is their part of the pulled-event dispatch table; the loser's ledger
of a duplicate-phone merge moves in :func:`points_ledger.merge_points`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection

from pos_member import events
from pos_member.services.points import ADJUSTED, EXPIRED, REDEEMED, WELCOMED
from pos_member.services.points_ledger import ENTRY_EXISTS, decode_entry, post_entry


def points_events_handler(conn: Connection, ev: Mapping[str, Any],
                          p: events.PointsPosted) -> bool:
    """Pulled ``points.*`` events: post their entries (idempotent per entry)."""
    entries = [decode_entry(e) for e in p.entries]  # decode all before writing
    applied = False
    for e in entries:
        if conn.execute(ENTRY_EXISTS, {"id": e["id"]}).first() is None:
            post_entry(conn, e, event_id=ev["id"])
            applied = True
    return applied


# Pulled event type → handler(conn, event, typed payload) -> applied?, for the pulled-event
# dispatch table.
POINTS_HANDLERS: dict[str, Callable[[Connection, Mapping[str, Any], Any], bool]] = {
    WELCOMED: points_events_handler,
    REDEEMED: points_events_handler,
    ADJUSTED: points_events_handler,
    EXPIRED: points_events_handler,
}
