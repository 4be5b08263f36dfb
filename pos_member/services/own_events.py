"""This till's own events coming back from a pull that the till no longer holds.

A till restored from an older copy of its data folder (a backup, a re-imaged PC) lacks what it
recorded and sent after the copy was taken; HQ stores it. When the pull brings those events
back they are not skipped as "own" (they are not here): they are applied like another till's,
and the device's counters catch up with them, so the till's next event takes the seq after the
last one HQ stores and its next member the number after the last one it gave (no fork, no
number given twice). See docs/sync.md, "Forks".

A registration of its own that it does hold may come back under another member number: a
copy of this till (put back later from an older backup) moved it to a new identity and HQ
stores it renumbered. HQ's number is the chain's: :func:`numbered_at_hq` takes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from pos_member.db.models import DeviceCounter, Event, Member
from pos_member.member_code import is_valid_member_no
from pos_member.services.members import REGISTERED

_EVENTS = Event.__table__
_COUNTERS = DeviceCounter.__table__
_MEMBERS = Member.__table__


def lost_ids(conn: Connection, device_id: str, changes: Sequence[Mapping[str, Any]]) -> set[str]:
    """Ids of this device's events in ``changes`` that its ``events`` table does not hold."""
    ids = [c["event"]["id"] for c in changes if c["event"]["device_id"] == device_id]
    if not ids:
        return set()
    return set(ids) - set(conn.scalars(select(_EVENTS.c.id).where(_EVENTS.c.id.in_(ids))))


def catch_up(conn: Connection, device_id: str, ev: Mapping[str, Any]) -> None:
    """Moves the device's counters past ``ev``: HQ stores it, so it and every seq before it
    are acknowledged; a registration's member number is given."""
    row = conn.execute(select(_COUNTERS.c.last_event_seq, _COUNTERS.c.acked_event_seq,
                              _COUNTERS.c.last_member_seq)
                       .where(_COUNTERS.c.device_id == device_id)).one()
    seq = int(ev["seq"])
    member_seq = row.last_member_seq
    number = (ev.get("payload") or {}).get("member_no") if ev["type"] == REGISTERED else None
    if isinstance(number, str) and is_valid_member_no(number):
        member_seq = max(member_seq, int(number[6:13]))
    conn.execute(update(_COUNTERS).where(_COUNTERS.c.device_id == device_id).values(
        last_event_seq=max(row.last_event_seq, seq),
        acked_event_seq=max(row.acked_event_seq, seq),
        last_member_seq=member_seq))


def numbered_at_hq(conn: Connection, ev: Mapping[str, Any], *, member_id: str,
                   member_no: str) -> bool:
    """A pulled registration of a member this till holds: if it is this till's own event
    (its id is here) under another number, the member takes HQ's number. Whether it changed
    anything."""
    if not is_valid_member_no(member_no) or conn.scalar(
            select(_EVENTS.c.id).where(_EVENTS.c.id == ev["id"])) is None:
        return False
    done = conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id,
                                               _MEMBERS.c.member_no != member_no)
                        .values(member_no=member_no))
    return bool(done.rowcount)
