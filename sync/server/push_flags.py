"""The flags a push raises for HQ after storing its events: a till's clock ahead of the
server's (``clock_ahead``, once per device per hour), a till's own flags (``flag.raised``:
registration bursts, points below zero) and balance payments an SMS code did not verify
(``sms_unverified``). The events are stored all the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from pos_member.clock import to_ms
from pos_member.events import FLAG_RAISED, SV_PAID
from pos_member.hlc import HLCTimestamp
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.log import LogWriter
from sync.server.models import Flag, SmsCode
from sync.server.wire import IncomingEvent

CLOCK_AHEAD = timedelta(minutes=5)
CLOCK_AHEAD_FLAG_EVERY = timedelta(hours=1)


def flag_device_once(ctx: ServerContext, device: DeviceIdentity, *, kind: str,
                     detail: dict[str, Any], now: datetime) -> None:
    """A ``kind`` flag for HQ about ``device`` (its id and number, then ``detail``), in a
    transaction of its own, once per device while one is open (a fork, payloads not as
    declared: the till sends the same again until someone acts)."""
    with ctx.db.write() as conn:
        open_flags = conn.execute(select(Flag.detail).where(
            Flag.kind == kind, Flag.store_id == device.store_id,
            Flag.resolved_at.is_(None))).scalars()
        if any(d.get("device_id") == device.id for d in open_flags):
            return
        LogWriter(conn, now=now).raise_flag(kind=kind, store_id=device.store_id, detail={
            "device_id": device.id, "device_number": device.number, **detail})


def flags_from_tills(log: LogWriter, stored: Sequence[IncomingEvent]) -> None:
    """A flag a till raised (a registration burst, points clawed back below zero) joins HQ's
    list, with the till's detail and the device and flag ids that name it there."""
    for e in stored:
        if e.type == FLAG_RAISED.type:  # a till's own flag (registration burst, negative points)
            payload = e.payload
            detail = {k: v for k, v in payload.items() if k != "kind"}
            log.raise_flag(kind=str(payload.get("kind", "till")), store_id=e.store_id,
                           detail={**detail, "device_id": e.device_id, "event_id": e.id})


def check_sms_payments(log: LogWriter, conn: Connection,
                        stored: Sequence[IncomingEvent]) -> None:
    """A balance payment a till says an SMS code verified must name a code HQ sent for that
    member, amount and transaction, and verified. The money has moved at the till already,
    so a payment that does not (a till's software tampered with, or a bug) is stored like any
    other and flagged for HQ (``sms_unverified``) rather than refused."""
    for e in stored:
        if e.type != SV_PAID.type:  # before the payload: reading it may decode it
            continue
        p = e.payload
        if p.get("factor") != "sms":
            continue
        challenge = p.get("sms_challenge_id")
        row = conn.execute(
            select(SmsCode.member_id, SmsCode.amount_fen, SmsCode.txn_id, SmsCode.verified_at)
            .where(SmsCode.id == challenge)).first() if isinstance(challenge, str) else None
        problem = ("no such code" if row is None
                   else "not verified" if row.verified_at is None
                   else "for another payment" if (row.member_id, row.amount_fen, row.txn_id)
                   != (p.get("member_id"), p.get("amount_fen"), p.get("txn_id")) else None)
        if problem is not None:
            log.raise_flag(kind="sms_unverified", store_id=e.store_id, detail={
                "problem": problem, "member_id": p.get("member_id"), "txn_id": p.get("txn_id"),
                "amount_fen": p.get("amount_fen"), "device_id": e.device_id,
                "event_id": e.id})


def _latest_wall_ms(stored: Sequence[IncomingEvent]) -> int:
    """The latest wall time (ms) of the events' hlcs. An hlc is 15 ASCII digits, ``-`` and 6
    (the contract's pattern), so the greatest in text order has the greatest wall time (an hlc
    below it differs first at a smaller digit, or only after its wall time)."""
    return int(max(e.hlc for e in stored)[:15])


def check_clock(
    log: LogWriter, conn: Connection, device: DeviceIdentity, stored: list[IncomingEvent],
    *, now: datetime,
) -> None:
    if not stored:
        return
    if _latest_wall_ms(stored) <= to_ms(now + CLOCK_AHEAD):
        return
    latest = max(HLCTimestamp.unpack(e.hlc) for e in stored)
    recent = conn.execute(
        select(Flag.detail).where(
            Flag.kind == "clock_ahead",
            Flag.store_id == device.store_id,
            Flag.raised_at > now - CLOCK_AHEAD_FLAG_EVERY,
        )
    ).scalars()
    if any(d.get("device_id") == device.id for d in recent):
        return
    log.raise_flag(kind="clock_ahead", store_id=device.store_id, detail={
        "device_id": device.id,
        "device_number": device.number,
        "hlc": latest.pack(),
        "ahead_ms": latest.wall_ms - to_ms(now),
    })
