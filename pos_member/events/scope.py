"""Store-scoped events: the types whose payload names a store (``store_id``) that must be the
event's own store (docs/rules.md, "Store-scoped events").

A till records these for its own store only (its staff, its KPI targets, rosters and splits,
its set-up), so a pushed one naming another store is forged or broken:
HQ refuses the push (``sync.server.payloads``, 422, nothing stored) and a till that pulls one
already stored ignores it rather than apply it to the store it names
(``services.pulled_events``). HQ's own events (store ``hq``: a target HQ set for a store) name
the store they are for and are not checked. Types that may name another store are left out:
a registration's ``store_id`` is the member's home store; a coupon's issuing store, the store
a coupon was used at and a sale's store inside points events are where something happened,
shown in ledgers, and set nothing of that store (a coupon is used once chain-wide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from pos_member.events.store import (
    DEVICE_SET_UP,
    KPI_ROSTER_SET,
    KPI_SPLIT_ADJUSTED,
    KPI_TARGET_SET,
    STAFF_CREATED,
    STAFF_DEACTIVATED,
    STAFF_PIN_RESET,
    STAFF_REACTIVATED,
    STAFF_UPDATED,
)

HQ_STORE_ID = "hq"  # the store of HQ's own events (``sync.server.models.SERVER_STORE_ID``)

STORE_SCOPED = frozenset(d.type for d in (
    DEVICE_SET_UP, STAFF_CREATED, STAFF_UPDATED, STAFF_DEACTIVATED, STAFF_REACTIVATED,
    STAFF_PIN_RESET, KPI_TARGET_SET, KPI_ROSTER_SET, KPI_SPLIT_ADJUSTED))


class _Named(msgspec.Struct):
    store_id: Any = None


_NAMED = msgspec.json.Decoder(_Named)


def other_store(kind: str, store_id: str, payload: Mapping[str, Any] | bytes | str
                ) -> str | None:
    """The other store a store-scoped event's payload names (None when it names its own, none,
    or the type is not store-scoped, or the event is HQ's). ``payload``: the decoded dict or
    its JSON text."""
    if kind not in STORE_SCOPED or store_id == HQ_STORE_ID:
        return None
    if isinstance(payload, Mapping):
        named = payload.get("store_id")
    else:
        try:
            named = _NAMED.decode(payload).store_id
        except msgspec.DecodeError:
            return None  # the declaration's own check says what is wrong
    if named is None or named == store_id:
        return None
    return str(named)[:40]
