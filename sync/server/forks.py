"""Forks: a till whose event log no longer continues the one HQ stores.

A till restored from a backup, or a copied disk, writes new events under seqs HQ already
stores under other events. ``ingest.store`` refuses such a push whole (409 ``fork``, nothing
of it stored); this module holds what it needs for that: the check of a request against
itself, the look-up behind a refused insert, and the ``fork`` flag for HQ, raised in a
transaction of its own after the push's rolled back. The till recovers by taking a new
identity (``identities``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import Conflict, Forked
from sync.server.models import Event
from sync.server.push_flags import flag_device_once
from sync.server.wire import IncomingEvent

FORK_FLAG = "fork"


def check_batch(events: Sequence[IncomingEvent]) -> None:
    """A request that contradicts itself is refused whole (409 ``conflict``): two different
    events under one seq, or one event under two seqs. The same event twice is harmless."""
    if len({e.seq for e in events}) == len(events) == len({e.id for e in events}):
        return  # each seq and each id once: the usual request (two sets, no loop)
    by_seq: dict[int, str] = {}
    by_id: dict[str, int] = {}
    for e in events:
        if by_seq.setdefault(e.seq, e.id) != e.id:
            raise Conflict(detail=f"two different events under seq {e.seq} in one request")
        if by_id.setdefault(e.id, e.seq) != e.seq:
            raise Conflict(detail=f"event {e.id} under two seqs in one request")


def id_elsewhere(ctx: ServerContext, device: DeviceIdentity,
                  events: Sequence[IncomingEvent]) -> Forked | None:
    """After the insert refused an id stored already: a fork when it is stored under another
    device (the same event recorded by a copy of this till that took a new identity)."""
    pushed = {e.id: e for e in events}
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(Event.id, Event.device_id, Event.seq)
            .where(Event.id.in_(list(pushed)))).all()
    for r in rows:
        if r.device_id != device.id:
            return Forked(pushed[r.id].seq, r.id, r.id, stored_device_id=r.device_id)
    return None


def raise_fork(ctx: ServerContext, device: DeviceIdentity, detail: dict[str, Any], *,
               now: datetime) -> None:
    """A ``fork`` flag for HQ, once per device while one is open."""
    flag_device_once(ctx, device, kind=FORK_FLAG, detail=detail, now=now)
