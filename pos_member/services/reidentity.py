"""A till that takes a new device identity and keeps every event it recorded.

Two ways lead here: HQ answered a push with a *fork* (this till's data were restored from an
older copy, or its disk copied: its seqs are taken at HQ by the other copy's events), or the
till was revoked and enrolled again in place with a fresh code. Either way the till gets a new
device from HQ (``sync.engine``: ``/v1/reidentify`` or ``/v1/enrol``) and HQ tells it which
of its unacknowledged events it stores already and which of their member numbers another
member holds (``/v1/adopt``). Then, in one local transaction (:func:`take_over`):

- the new device, its counters and its token; the old device's counters are ``retired``
  (nothing is written under it any more: a clerk still logged in is asked to log in again);
- each unacknowledged event of the old device gets an ``event_moves`` row, in seq order:
  ``stored`` when HQ has it, else ``moved`` to the new device's next seq under the same id
  (events are immutable: the row stays as written, the move says where it goes now);
- a member whose number another member holds chain-wide gets a new number of the new device
  (its registration moves with the new number; the member is told by SMS through the
  notification outbox; an audit row records the change);
- the new device's own ``device.set_up`` event goes first.

Nothing here talks HTTP; everything is decided by its arguments, so it is deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from pos_member import events
from pos_member.crypto import KeyStore
from pos_member.db.models import (
    Device,
    DeviceCounter,
    DeviceSuccession,
    Event,
    EventMove,
    Member,
    Setting,
)
from pos_member.db.uow import UnitOfWork
from pos_member.errors import WrongStore
from pos_member.member_code import make_member_no
from pos_member.services import member_directory
from pos_member.services.enrolment import DEVICE_TOKEN, Enrolment
from pos_member.services.notifications import enqueue
from pos_member.services.outbox import put_setting
from pos_member.services.setup import TillIdentity, get_setting

FORK, REENROLLED = "fork", "re-enrolled"
NOTICE = "reidentity_notice"  # the last re-identity, for the status line (JSON)
RENUMBERED = "member.renumbered"  # the notification kind
_REQUEST = "reidentify_request:{device_id}"
_EVENTS, _MOVES = Event.__table__, EventMove.__table__
_COUNTERS = DeviceCounter.__table__


@dataclass(frozen=True, slots=True)
class Pending:
    """What the old device has not had acknowledged: HQ is asked about these."""

    event_ids: list[str]
    members: list[tuple[str, str]]  # (member_id, member_no) of the pending registrations


@dataclass(frozen=True, slots=True)
class Reidentity:
    """What :func:`take_over` did; ``line`` is what the cashier reads."""

    reason: str
    old_device_number: int
    device_number: int
    moved: int
    stored: int
    renumbered: int

    def line(self) -> str:
        cause = ("its data were restored from an older copy or copied" if self.reason == FORK
                 else "it was enrolled again")
        numbers = (f"; {self.renumbered} member number(s) changed, the members are told by SMS"
                   if self.renumbered else "")
        return (f"This till now sends as till {self.device_number} (was till "
                f"{self.old_device_number}) because {cause}: {self.moved} unsent event(s) "
                f"go under the new number{numbers}. Nothing was lost.")

    def to_json(self) -> str:
        return json.dumps({"reason": self.reason, "old": self.old_device_number,
                           "new": self.device_number, "moved": self.moved,
                           "stored": self.stored, "renumbered": self.renumbered})

    @classmethod
    def from_json(cls, text: str) -> Reidentity:
        d = json.loads(text)
        return cls(d["reason"], d["old"], d["new"], d["moved"], d["stored"], d["renumbered"])


def request_id(uow: UnitOfWork, *, device_id: str) -> str:
    """The idempotency key of this device's ``/v1/reidentify``: made and committed once, so
    asking again after a lost answer names the same new device."""
    key = _REQUEST.format(device_id=device_id)
    with uow.begin() as tx:
        existing = get_setting(tx.session, key)
        if existing is not None:
            return existing
        value = tx.new_id()
        put_setting(tx.session, key, value)
        tx.commit()
        return value


def _unacked(conn: Any, device_id: str, acked: int) -> list[Any]:
    """The device's unacknowledged events in seq order: its own, and those moved to it when
    it took over from a device before it (a till restored twice): (id, seq, type, payload,
    moved)."""
    own = conn.execute(select(_EVENTS.c.id, _EVENTS.c.seq, _EVENTS.c.type, _EVENTS.c.payload)
                       .where(_EVENTS.c.device_id == device_id, _EVENTS.c.seq > acked)).all()
    moved = conn.execute(
        select(_EVENTS.c.id, _MOVES.c.seq, _EVENTS.c.type,
               _EVENTS.c.payload.label("original"), _MOVES.c.payload)
        .join(_MOVES, _MOVES.c.id == _EVENTS.c.id)
        .where(_MOVES.c.device_id == device_id, _MOVES.c.seq > acked)).all()
    rows = [(r.id, r.seq, r.type, r.payload, False) for r in own]
    rows += [(r.id, r.seq, r.type, r.payload if r.payload is not None else r.original, True)
             for r in moved]
    return sorted(rows, key=lambda r: r[1])


def pending(uow: UnitOfWork, *, device_id: str) -> Pending:
    """The old device's unacknowledged events (ids) and the registrations among them."""
    with uow.read() as s:
        conn = s.connection()
        acked = conn.scalar(select(_COUNTERS.c.acked_event_seq)
                            .where(_COUNTERS.c.device_id == device_id)) or 0
        rows = _unacked(conn, device_id, acked)
    members = [(p["member_id"], p["member_no"]) for _id, _seq, kind, p, _m in rows
               if kind == events.MEMBER_REGISTERED.type]
    return Pending([r[0] for r in rows], members)


def take_over(uow: UnitOfWork, keystore: KeyStore, enrolment: Enrolment, *, old: TillIdentity,
              stored: set[str], renumber: list[tuple[str, str]], reason: str
              ) -> tuple[TillIdentity, Reidentity]:
    """This till becomes ``enrolment``'s device; see the module docstring. One transaction;
    the token goes to ``keystore`` before it commits. Raises ``WrongStore`` (nothing
    written) when the new device is in another store. ``renumber``: the pending
    registrations (member id, number) whose number another member holds chain-wide."""
    e = enrolment
    if e.store_id != old.store_id:
        raise WrongStore(got=e.store_number, have=old.store_number)
    with uow.begin() as tx:
        s, conn = tx.session, tx.conn
        now = uow.clock.now()
        counters = conn.execute(select(_COUNTERS).where(_COUNTERS.c.device_id == old.device_id)
                                ).one()
        s.add(Device(id=e.device_id, store_id=e.store_id, number=e.device_number,
                     name=e.device_name, created_at=now))
        s.flush()
        conn.execute(insert(_COUNTERS).values(
            device_id=e.device_id, last_event_seq=0, last_member_seq=0, acked_event_seq=0,
            hlc_wall_ms=counters.hlc_wall_ms, hlc_counter=counters.hlc_counter, retired=False))
        conn.execute(update(_COUNTERS).where(_COUNTERS.c.device_id == old.device_id)
                     .values(retired=True))
        s.add(DeviceSuccession(device_id=old.device_id, successor_id=e.device_id,
                               reason=reason, at=now))
        put_setting(s, "device_id", e.device_id)
        s.flush()
        ident = TillIdentity(e.store_id, e.store_number, e.store_name, e.device_id,
                             e.device_number)
        clerk = ident.system_clerk()
        ev = tx.record(clerk, events.DEVICE_SET_UP, events.DeviceSetUp(
            store_id=e.store_id, store_number=e.store_number, store_name=e.store_name,
            device_id=e.device_id, device_number=e.device_number, device_name=e.device_name,
            enrolled=True), entity_id=e.device_id)
        tx.audit(clerk, "device.reidentified", "device", e.device_id, event=ev, after={
            "old_device_id": old.device_id, "old_device_number": old.device_number,
            "device_number": e.device_number, "reason": reason})
        # a registration HQ stores under another number (another copy of this till moved it
        # before) takes a number of this device only until the pull brings HQ's
        # (``own_events.numbered_at_hq``): the member is told HQ's, not this one
        provisional = {p["member_id"] for event_id, _seq, kind, p, _m
                       in _unacked(conn, old.device_id, counters.acked_event_seq)
                       if kind == events.MEMBER_REGISTERED.type and event_id in stored}
        renumbered = _renumber(tx, ident, renumber, quiet=provisional)
        moved = _move(tx, old, ident, counters.acked_event_seq, stored, renumbered, now=now)
        notice = Reidentity(reason, old.device_number, e.device_number, moved,
                            len(stored), len(renumbered.keys() - provisional))
        put_setting(s, NOTICE, notice.to_json())
        row = s.get(Setting, _REQUEST.format(device_id=old.device_id))
        if row is not None:
            s.delete(row)
        keystore.put(DEVICE_TOKEN.format(device_id=e.device_id), e.token)
        tx.commit()
    return ident, notice


def _renumber(tx: Any, ident: TillIdentity, renumber: list[tuple[str, str]], *,
              quiet: set[str]) -> dict[str, str]:
    """New numbers of the new device for the members whose number another member holds;
    returns member id → new number. The ``quiet`` ones are not told (HQ's number follows)."""
    conn = tx.conn
    clerk = ident.system_clerk()
    renumbered: dict[str, str] = {}
    for member_id, member_no in renumber:
        new_no = make_member_no(store_no=ident.store_number, device_no=ident.device_number,
                                seq=tx.next_member_seq(ident.device_id))
        conn.execute(update(Member).where(Member.id == member_id).values(member_no=new_no))
        member_directory.renumber(conn, member_id, new_no)
        if member_id not in quiet:
            enqueue(tx, member_id=member_id, kind=RENUMBERED,
                    params={"old_no": member_no, "new_no": new_no},
                    dedupe_key=f"{RENUMBERED}:{member_id}:{new_no}")
        tx.audit(clerk, RENUMBERED, "member", member_id,
                 before={"member_no": member_no}, after={"member_no": new_no})
        renumbered[member_id] = new_no
    return renumbered


def _move(tx: Any, old: TillIdentity, ident: TillIdentity, acked: int, stored: set[str],
          renumbered: dict[str, str], *, now: Any) -> int:
    """One ``event_moves`` row per unacknowledged event of the old device, in seq order (an
    event moved to the old device before has its row pointed on, not a second one)."""
    conn = tx.conn
    counters = tx.counters(ident.device_id)
    fresh: list[dict[str, Any]] = []
    moved = 0
    for event_id, seq, kind, payload, was_moved in _unacked(conn, old.device_id, acked):
        move: dict[str, Any] = {"outcome": "stored", "device_id": None, "seq": None,
                                "payload": None, "at": now}
        if event_id not in stored:
            counters.last_event_seq += 1
            moved += 1
            move.update(outcome="moved", device_id=ident.device_id,
                        seq=counters.last_event_seq)
            member_id = payload.get("member_id") if isinstance(payload, dict) else None
            if kind == events.MEMBER_REGISTERED.type and member_id in renumbered:
                move["payload"] = {**payload, "member_no": renumbered[member_id]}
            elif was_moved:
                move["payload"] = payload  # keeps a number changed by the earlier move
        if was_moved:
            conn.execute(update(_MOVES).where(_MOVES.c.id == event_id).values(**move))
        else:
            fresh.append({"id": event_id, "from_device_id": old.device_id, "from_seq": seq,
                          **move})
    counters.dirty = True
    if fresh:
        conn.execute(insert(_MOVES), fresh)
    return moved


def last_notice(uow: UnitOfWork) -> Reidentity | None:
    """The last re-identity, for the status line; None if this till never took one."""
    with uow.read() as s:
        text = get_setting(s, NOTICE)
    return Reidentity.from_json(text) if text else None


def predecessors(conn: Any) -> set[str]:
    """Devices this till was before (their events pulled back are its own when held here)."""
    return set(conn.scalars(select(DeviceSuccession.device_id)))
