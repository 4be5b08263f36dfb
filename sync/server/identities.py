"""A till's identity handed on: forked tills, re-enrolled tills, reinstated devices.

- ``reidentify``: a till whose log forked (``forks``) asks, with its old token, for a new
  device in its store. The old device is *retired* (its token answers ``device_retired`` to
  every call but this one, so a second copy of the till recovers the same way); the new one
  takes the store's next device number and ``replaces_device_id`` names the old one. The
  till's ``request_id`` makes it idempotent: asked again (the answer was lost), the same new
  device is answered with a fresh token, as long as that device was never used; once used,
  the same request is another copy of the till (restored from before the answer came) and
  gets a new device of its own.
- ``adopt``: the new device (a successor, or a device enrolled in place with a fresh code)
  takes over its predecessor's unsent events: HQ answers which of their ids it stores already
  and which of their members' numbers another member holds (a stored registration in the
  store, or another successor's claim); the numbers left to the caller are claimed
  (``member_no_claims``). The predecessor is retired and its held events dropped (its
  sequence is closed; the till sends them again under the new device).
- ``reinstate_device``: HQ lifts a revocation (not a retirement).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from pos_member.clock import to_ms
from pos_member.events import MEMBER_REGISTERED
from pos_member.ids import uuid7_str
from sync.protocol import AdoptRequest, AdoptResponse, EnrolResponse, ReidentifyRequest
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import Conflict, DeviceNotFound, Forbidden
from sync.server.log import LogWriter
from sync.server.models import Device, Event, HeldEvent, MemberNoClaim, Store

REIDENTIFIED_FLAG = "device_reidentified"
MAX_DEVICES_PER_STORE = 99  # member numbers hold 2 digits of device number


def reidentify(ctx: ServerContext, *, device: DeviceIdentity, request: ReidentifyRequest
               ) -> tuple[EnrolResponse, bool]:
    """A new device in ``device``'s store for the till holding its token (active or retired,
    never revoked: ``authenticate`` refused that). Returns the answer (token and data key, as
    an enrolment) and whether the device was new (False: the same request asked again)."""
    if request.device_id != device.id:
        raise Forbidden(detail="the request's device_id is not this device's")
    now = ctx.clock.now()
    token = secrets.token_urlsafe(32)
    with ctx.db.write() as conn:
        store = conn.execute(select(Store.__table__).where(Store.id == device.store_id)).one()
        answered = conn.execute(select(Device.id, Device.number).where(
            Device.replaces_device_id == device.id, Device.request_id == request.request_id,
        ).order_by(Device.number)).all()
        # the device a lost answer named, unless a copy of the till took it into use: then
        # this is another copy (restored from before the answer came) and gets its own
        again = next((d for d in answered if not _used(conn, d.id)), None)
        if again is not None:
            conn.execute(update(Device).where(Device.id == again.id)
                         .values(token_hash=_sha256(token)))
            device_id, number, new = again.id, again.number, False
        else:
            number = (conn.execute(select(func.max(Device.number))
                                   .where(Device.store_id == store.id)).scalar() or 0) + 1
            if number > MAX_DEVICES_PER_STORE:
                raise Conflict(detail=f"store {store.number} has {MAX_DEVICES_PER_STORE} devices")
            device_id = uuid7_str(lambda: to_ms(now))
            conn.execute(insert(Device).values(
                id=device_id, store_id=store.id, number=number, name=device.name,
                token_hash=_sha256(token), enrolled_at=now, revoked_at=None,
                retired_at=None, replaces_device_id=device.id, request_id=request.request_id,
            ))
            conn.execute(update(Device).where(Device.id == device.id, Device.retired_at.is_(None))
                         .values(retired_at=now))
            LogWriter(conn, now=now).raise_flag(kind=REIDENTIFIED_FLAG, store_id=store.id, detail={
                "old_device_id": device.id, "old_device_number": device.number,
                "device_id": device_id, "device_number": number, "reason": "fork"})
            new = True
        answer = EnrolResponse(
            store_id=store.id, store_number=store.number, store_name=store.name,
            device_id=device_id, device_number=number, token=token,
            data_key=ctx.db.keys.data_key(conn))
    return answer, new


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _used(conn: Any, device_id: str) -> bool:
    """Whether the device stored anything or was itself handed on (then a lost answer is no
    longer the story: its token must not be handed out again)."""
    return conn.execute(select(Event.id).where(Event.device_id == device_id).limit(1)
                        ).first() is not None or conn.execute(
        select(Device.retired_at).where(Device.id == device_id)).scalar() is not None


def adopt(ctx: ServerContext, *, device: DeviceIdentity, request: AdoptRequest) -> AdoptResponse:
    """``device`` takes over the unsent events of ``request.device_id``; see the module
    docstring. Refuses (nothing written) a predecessor of another store, the caller itself,
    and an active device the caller is not the successor of (HQ revokes it first)."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        old = conn.execute(select(Device.__table__).where(Device.id == request.device_id)
                           ).first()
        if old is None or old.store_id != device.store_id:
            raise DeviceNotFound(device_id=request.device_id)
        if old.id == device.id:
            raise Conflict(detail="a device cannot take over its own events")
        successor = device.replaces == old.id
        if not successor and old.revoked_at is None and old.retired_at is None:
            raise Conflict(detail=f"till {old.number} is still active: HQ revokes it first "
                                  "(pos-member-server revoke-device)")
        if old.retired_at is None:
            conn.execute(update(Device).where(Device.id == old.id).values(retired_at=now))
        if device.replaces is None:
            conn.execute(update(Device).where(Device.id == device.id)
                         .values(replaces_device_id=old.id))
            LogWriter(conn, now=now).raise_flag(
                kind=REIDENTIFIED_FLAG, store_id=device.store_id, detail={
                    "old_device_id": old.id, "old_device_number": old.number,
                    "device_id": device.id, "device_number": device.number,
                    "reason": "re-enrolled"})
        conn.execute(delete(HeldEvent).where(HeldEvent.device_id == old.id))
        stored = _stored(conn, request.event_ids)
        taken = _claim_numbers(conn, device, request, now=now)
    return AdoptResponse(stored=stored, taken=taken)


def _stored(conn: Any, ids: list[str]) -> list[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        found.update(conn.scalars(select(Event.id).where(Event.id.in_(chunk))))
    return [i for i in ids if i in found]


def _claim_numbers(conn: Any, device: DeviceIdentity, request: AdoptRequest, *,
                   now: Any) -> list[str]:
    """The members' numbers another member holds; the rest are claimed for the caller."""
    wanted = {m.member_no: m.member_id for m in request.members}
    if not wanted:
        return []
    holders: dict[str, set[str]] = {}
    numbers = list(wanted)
    for start in range(0, len(numbers), 1000):
        chunk = numbers[start:start + 1000]
        member_no = Event.payload["member_no"].as_string()
        rows = conn.execute(select(member_no, Event.payload["member_id"].as_string()).where(
            Event.store_id == device.store_id, Event.type == MEMBER_REGISTERED.type,
            member_no.in_(chunk)))
        for no, member_id in rows:
            holders.setdefault(no, set()).add(member_id)
        for claim in conn.execute(select(MemberNoClaim.member_no, MemberNoClaim.member_id)
                                  .where(MemberNoClaim.member_no.in_(chunk))):
            holders.setdefault(claim.member_no, set()).add(claim.member_id)
    taken = [no for no, member_id in wanted.items() if holders.get(no, set()) - {member_id}]
    claimed = holders.keys()
    fresh = [{"member_no": no, "member_id": member_id, "device_id": device.id,
              "claimed_at": now}
             for no, member_id in wanted.items() if no not in claimed]
    if fresh:
        conn.execute(insert(MemberNoClaim), fresh)
    return taken


def reinstate_device(ctx: ServerContext, *, device_id: str) -> None:
    """Lifts a revocation: the till's token works again and it sends what waits. Refuses a
    device whose identity went to a successor (its events are that device's now)."""
    with ctx.db.write() as conn:
        row = conn.execute(select(Device.revoked_at, Device.retired_at)
                           .where(Device.id == device_id)).first()
        if row is None:
            raise DeviceNotFound(device_id=device_id)
        if row.retired_at is not None:
            raise Conflict(detail="the device's identity went to a new device; it cannot be "
                                  "reinstated")
        if row.revoked_at is not None:
            conn.execute(update(Device).where(Device.id == device_id).values(revoked_at=None))
