"""Stored value at a till that pulls other tills' changes: their money events booked in the
ledger here, freezes and member credentials by the later hybrid timestamp, and the ledger of a
duplicate-phone merge's loser moved to the winner. :mod:`pos_member.services.pulled_events`
dispatches here (``SV_HANDLERS``, and ``apply_money_event`` with the store's time zone for
the money events, ``MONEY_EVENTS``); every handler takes the event's typed payload and is
idempotent (a pulled event applied twice changes nothing more). Money is booked through
:mod:`pos_member.services.stored_value_ledger`, the same as the till's own operations."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member import events
from pos_member.services import member_standing
from pos_member.services.member_auth import PIN_LOCKED, PIN_SET, TOTP_PROVISIONED
from pos_member.services.points_ledger import current_member
from pos_member.services.stored_value_ledger import (
    ACCOUNTS,
    CREDENTIALS,
    FROZEN,
    LEDGER,
    MONEY_EVENTS,
    UNFROZEN,
    book,
    business_day,
    ensure_account,
    ledger_totals,
)

log = logging.getLogger(__name__)


def _name(value: object) -> str | None:
    return value[:60] if isinstance(value, str) and value.strip() else None


def _created_at(ev: Mapping[str, Any]) -> datetime:
    at = datetime.fromisoformat(str(ev["created_at"]))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def apply_money_event(conn: Connection, ev: Mapping[str, Any], p: events.MoneyMoved,
                      zone: tzinfo) -> bool:
    """A money event from another till (``p``: its typed payload, ``events.ToppedUp``,
    ``Paid``, ``PaymentRefunded`` or ``TopupRefunded``): book it in the ledger and move the
    account. Its business day is the store's date (``zone``: the store clock's) at the event's
    time."""
    kind = MONEY_EVENTS[ev["type"]]
    member_id = _current_member(conn, p.member_id)
    at = _created_at(ev)
    entry = {"id": ev["id"], "member_id": member_id, "txn_id": p.txn_id, "kind": kind,
             "principal_delta_fen": p.principal_delta_fen,
             "bonus_delta_fen": p.bonus_delta_fen, "cash_fen": _cash_fen(p),
             "method": getattr(p, "method", None), "method_ref": getattr(p, "method_ref", None),
             "factor": getattr(p, "factor", None), "approved_by": getattr(p, "approved_by", None),
             "ref_txn_id": getattr(p, "ref_txn_id", None),
             "offline": bool(getattr(p, "offline", False)), "store_id": ev["store_id"],
             "device_id": ev["device_id"], "clerk_id": ev.get("clerk_id"), "at": at,
             "business_day": business_day(at, zone),
             "clerk_name": _name(getattr(p, "clerk_name", None))}
    booked = book(conn, entry) is not None
    if not booked:
        log.warning("stored-value event %s not booked (txn already here)", ev["id"])
    return booked


def _cash_fen(p: events.MoneyMoved) -> int:
    """The cash a ledger line records: a top-up's amount paid in, a top-up refund's cash paid
    out; none for a balance payment or its refund."""
    if isinstance(p, events.TopupRefunded):
        return int(p.cash_fen or 0)
    if isinstance(p, events.ToppedUp):
        return int(p.amount_fen or 0)
    return 0


def _current_member(conn: Connection, member_id: str) -> str:
    """A merged loser's money goes to the winner (a merge pulled before the loser's events),
    following merges that compose (A→B, then B→C: A's money is C's)."""
    return current_member(conn, member_id)  # the points ledger's rule, one statement


def apply_freeze_event(conn: Connection, ev: Mapping[str, Any],
                       p: events.FreezeChanged) -> bool:
    """Freeze/unfreeze from another till: the later (hybrid timestamp) wins."""
    member_id = p.member_id
    ensure_account(conn, member_id, _created_at(ev))
    cur = conn.scalar(select(ACCOUNTS.c.frozen_hlc).where(ACCOUNTS.c.member_id == member_id))
    if cur is not None and cur >= ev["hlc"]:
        return False
    conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id)
                 .values(frozen=ev["type"] == FROZEN, frozen_hlc=ev["hlc"]))
    return True


def _ensure_cred(conn: Connection, member_id: str) -> None:
    conn.execute(sqlite_insert(CREDENTIALS).on_conflict_do_nothing(index_elements=["member_id"]),
                 {"member_id": member_id, "pin_failures": 0, "totp_last_step": 0})


def apply_credential_event(conn: Connection, ev: Mapping[str, Any], p: Any) -> bool:
    """A PIN set, PIN lock or TOTP provisioning from another till (hash / ciphertext only;
    ``p``: its typed payload, ``events.PinSet``, ``PinLocked`` or ``TotpProvisioned``)."""
    member_id = p.member_id
    if member_standing.is_erased(conn, member_id):
        return True  # set before the erasure reached its till: an erased member has none
    if ev["type"] == PIN_SET:
        pin_hash = p.pin_hash
        if not pin_hash.startswith("$argon2id$"):
            raise ValueError("not an argon2id hash")
        _ensure_cred(conn, member_id)
        cur = conn.scalar(select(CREDENTIALS.c.pin_hlc).where(CREDENTIALS.c.member_id == member_id))
        if cur is not None and cur >= ev["hlc"]:
            return False
        conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.member_id == member_id).values(
            pin_hash=pin_hash, pin_hlc=ev["hlc"], pin_failures=0, pin_locked_until=None))
        return True
    if ev["type"] == PIN_LOCKED:
        until = datetime.fromisoformat(p.locked_until)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        _ensure_cred(conn, member_id)
        cur = conn.scalar(select(CREDENTIALS.c.pin_locked_until)
                          .where(CREDENTIALS.c.member_id == member_id))
        if cur is not None and cur.replace(tzinfo=UTC) >= until.astimezone(UTC):
            return False
        conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.member_id == member_id)
                     .values(pin_locked_until=until))
        return True
    if ev["type"] == TOTP_PROVISIONED:
        enc = base64.b64decode(p.secret_enc, validate=True)
        _ensure_cred(conn, member_id)
        cur = conn.scalar(select(CREDENTIALS.c.totp_hlc)
                          .where(CREDENTIALS.c.member_id == member_id))
        if cur is not None and cur >= ev["hlc"]:
            return False
        conn.execute(update(CREDENTIALS).where(CREDENTIALS.c.member_id == member_id).values(
            totp_secret_enc=enc, totp_hlc=ev["hlc"], totp_last_step=0))
        return True
    return False


def merge_accounts(conn: Connection, *, loser_id: str, winner_id: str, at: datetime) -> None:
    """A duplicate-phone merge (``at``: the merge event's time): the loser's ledger moves to
    the winner; both accounts are recomputed from the ledger. The winner keeps its own PIN,
    code and freeze state. The member is not notified: their money is the same, under one
    membership now."""
    moved = conn.execute(update(LEDGER).where(LEDGER.c.member_id == loser_id)
                         .values(member_id=winner_id)).rowcount
    if not moved:
        return
    for member_id in (loser_id, winner_id):
        ensure_account(conn, member_id, at)
        p, b = ledger_totals(conn, member_id)
        n = conn.scalar(select(func.count()).select_from(LEDGER).where(
            LEDGER.c.member_id == member_id, LEDGER.c.kind == "topup")) or 0
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id)
                     .values(principal_fen=p, bonus_fen=b, topups=int(n)))


# Pulled event type → handler(conn, event, typed payload) -> applied?
SV_HANDLERS: dict[str, Callable[[Connection, Mapping[str, Any], Any], bool]] = {
    FROZEN: apply_freeze_event,
    UNFROZEN: apply_freeze_event,
    PIN_SET: apply_credential_event,
    PIN_LOCKED: apply_credential_event,
    TOTP_PROVISIONED: apply_credential_event,
}
