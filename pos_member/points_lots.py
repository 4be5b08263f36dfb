"""Points-ledger rules that HQ and the tills share, pure (no database, no clock).

The till's ledger (``services/points_ledger.py``) posts entries once per entry id; HQ's
chain-wide points projection (``sync/server/points.py``) must count the same entries the same
way, without importing the till's services. What both need:

- the entry kinds;
- the entries an event carries (``points.*``, ``sale.recorded``, ``sale.refunded``), read as
  ``(id, member_id, kind, points)``;
- the entries whose id is derived, so several tills post one and the same entry: a lot's
  expiry (:func:`expiry_entry_id`; every till that holds the lot expires it) and a merged-away
  member's welcome reversal (:func:`reversal_id`; derived by each till from the merge, never
  sent in an event). Only these can reach HQ more than once, so HQ keeps their ids
  (:data:`KEYED_KINDS`), and the welcomes, whose reversal a merge derives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from pos_member import events  # the event types' declarations (their strings live there)

EARN, WELCOME, REFERRAL, REDEEM, GIFT = "earn", "welcome", "referral", "redeem", "gift"
CLAWBACK, RESTORE, EXPIRE, ADJUST = "clawback", "restore", "expire", "adjust"
WELCOME_REVERSED = "welcome_reversed"

# Entries HQ keeps by id: the derived ones (posted alike by several tills) and the welcomes a
# later merge reverses.
KEYED_KINDS = frozenset({EXPIRE, WELCOME, WELCOME_REVERSED})

# Event types whose payload carries points entries (``entries``: a list of wire entries).
ENTRY_EVENT_TYPES = frozenset(t.type for t in (
    events.POINTS_WELCOME, events.POINTS_REDEEMED, events.POINTS_ADJUSTED,
    events.POINTS_EXPIRED, events.SALE_RECORDED, events.SALE_REFUNDED))
MAX_POINTS = 10**12  # larger is a broken till, not a points entry

_EXPIRY_NS = uuid.UUID("6f1d1b2e-6a43-4c4e-9a55-0e6f0b8c5a11")
_REVERSAL_NS = uuid.UUID("6f1d3c2a-9a57-4c1e-8f2b-6d0b3e0f7a11")  # fixed: the same id everywhere


class EntryPoints(NamedTuple):
    """What a count of points reads of one ledger entry."""

    id: str
    member_id: str
    kind: str
    points: int


def expiry_entry_id(lot_id: str) -> str:
    """The expiry of a lot has one id on every till, so it is posted once chain-wide."""
    return str(uuid.uuid5(_EXPIRY_NS, lot_id))


def reversal_id(welcome_id: str) -> str:
    """The reversal of a merged-away member's welcome: one id on every till and at HQ."""
    return str(uuid.uuid5(_REVERSAL_NS, f"welcome-reversed:{welcome_id}"))


def entries_of(event_type: str, payload: Mapping[str, Any]) -> list[EntryPoints]:
    """The points entries an event carries; [] for other events. An entry that is not one
    (no string id or member, points not an integer, absurd sizes) is left out, as a
    malformed money event is by HQ's stored value."""
    if event_type not in ENTRY_EVENT_TYPES:
        return []
    raw = payload.get("entries")
    if not isinstance(raw, list):
        return []
    out: list[EntryPoints] = []
    for e in raw:
        if not isinstance(e, Mapping):
            continue
        entry_id, member_id, kind, points = (e.get("id"), e.get("member_id"), e.get("kind"),
                                             e.get("points"))
        if not (isinstance(entry_id, str) and 0 < len(entry_id) <= 64
                and isinstance(member_id, str) and 0 < len(member_id) <= 36
                and isinstance(kind, str) and len(kind) <= 32
                and type(points) is int and abs(points) <= MAX_POINTS):
            continue
        out.append(EntryPoints(entry_id, member_id, kind, points))
    return out
