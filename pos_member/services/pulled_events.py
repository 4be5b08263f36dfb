"""Pulled events: applying a page of changes pulled from the central server to the till's
database, each event through its area's handler.

A page of changes is applied in one transaction together with the new sync cursor, so a till
killed mid-page either has the whole page and its cursor or neither. Applying is idempotent and
does not depend on arrival order (a hypothesis test permutes and repeats pages):

- Every applied event id is kept in ``applied_events``; an event seen again is skipped.
- The till's own events coming back are skipped (they are already here); one it no longer
  holds (its data restored from an older copy) is applied like another till's and its
  counters catch up (:mod:`pos_member.services.own_events`).
- Each event type's handler lives with its area: members (``members_sync``: registrations,
  profile edits by last writer wins per field, duplicate-phone merges), staff
  (``staff_sync``), rules versions (``rules_sync``), stored value (``stored_value_sync``),
  sales (``sales_sync``), points (``points_sync``), tiers, targets, balance blocks; this
  module only dispatches (``_TYPED``, ``_LEDGERS``, ``MONEY_EVENTS``), each handler
  taking the typed payload.
- Every payload is read through its declaration (``pos_member.events.decode``): typed, and
  upcast from an older ``payload_version`` in that one place (a ``member.registered`` of
  version 1 carried the birthday in clear; it is sealed on the way in). A type this version
  does not know, a version newer than it knows, or a payload that does not match raises an
  ``events.EventNotReadable``: see ``_apply_safely``.
- A type this version does not know, or one it cannot read, is held in quarantine with the
  reason (:mod:`pos_member.services.quarantine`), with every later event of the same members
  or sales behind it, and tried again after the till is upgraded. Known types with nothing to
  apply at a till (an alert, a till set up) are recorded as applied; so is, unapplied, a
  till's store-scoped event naming a store not its own (``pos_member.events.scope``).

Applying writes no events: nothing pulled is ever pushed back. Remote hybrid timestamps are
folded into this device's clock, so a local edit made after seeing a remote one sorts after it;
except one more than ``MAX_DRIFT_MS`` ahead of this till's wall clock (a till with a wrong
clock): it is applied but not folded in, so it cannot drag this till's clock forward.
"""

from __future__ import annotations

import binascii
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos_member import events
from pos_member.changes import NOTHING, Changes, changes_of_event
from pos_member.clock import to_ms
from pos_member.crypto import PiiCipher
from pos_member.db.models import (
    AppliedEvent,
    Device,
    DeviceCounter,
    DeviceSuccession,
    Event,
    Setting,
)
from pos_member.db.uow import UnitOfWork
from pos_member.errors import StoreNotSetUp
from pos_member.events.scope import other_store
from pos_member.hlc import HLCTimestamp
from pos_member.services import member_directory, own_events, quarantine
from pos_member.services.balance_block_sync import BALANCE_BLOCK_HANDLERS
from pos_member.services.chain_places import name_stores as name_stores  # sync.engine's
from pos_member.services.chain_places import unnamed_stores as unnamed_stores
from pos_member.services.coupons_ledger import COUPON_HANDLERS
from pos_member.services.member_standing import SERVICE_HANDLERS
from pos_member.services.members_sync import MEMBERS_HANDLERS
from pos_member.services.outbox import SYNC_CURSOR
from pos_member.services.points_sync import POINTS_HANDLERS
from pos_member.services.recall_campaigns import apply_recall_messaged
from pos_member.services.rfm import apply_bounds_published
from pos_member.services.rules_sync import RULES_HANDLERS, RULES_PUBLISHED
from pos_member.services.sales_sync import SALES_HANDLERS
from pos_member.services.staff_sync import STAFF_HANDLERS
from pos_member.services.stored_value_ledger import MONEY_EVENTS
from pos_member.services.stored_value_sync import SV_HANDLERS, apply_money_event
from pos_member.services.targets import (
    ROSTER_SET,
    SPLIT_ADJUSTED,
    TARGET_SET,
    apply_roster_set,
    apply_split_adjusted,
    apply_target_set,
)
from pos_member.services.tiers import TIER_CHANGED, apply_tier_changed

# A remote timestamp further ahead of this till's clock than this is not folded into it: one
# till with a clock a day ahead must not drag every till's clock a day forward (the server
# flags such a till: ``clock_ahead``, the same 5 minutes).
MAX_DRIFT_MS = 5 * 60 * 1000

log = logging.getLogger(__name__)

_APPLIED = AppliedEvent.__table__
_SETTINGS = Setting.__table__


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one page did. ``applied`` counts events that changed or could change state."""

    applied: int  # with held events applied after an upgrade
    ignored: int  # types tills knowingly do not apply (another store's staff, a flag)
    own: int  # this device's own events coming back
    repeated: int  # already applied (or already held) before
    cursor: int
    held: int = 0  # newly held in quarantine: unreadable, unknown, or behind a held one
    changes: Changes = NOTHING  # the members and areas the applied events touched


def apply_page(
    uow: UnitOfWork, *, device_id: str, changes: Iterable[Mapping[str, Any]], cursor: int
) -> ApplyResult:
    """Applies one pulled page (``{"position": int, "event": <wire event dict>}`` items) and
    moves ``settings.sync_cursor`` to ``cursor`` (never back), in one committed transaction.
    Held events are tried again first when the till was upgraded since their last try.

    An event holding a number no SQLite integer takes (a broken or tampered till's 2**70)
    fails only when it is written, maybe after other writes of its own: the page is then
    rolled back and applied again with a savepoint around each event, and that event is held
    (``TOO_LARGE``) instead of stopping every pull of the till for good. The savepoints cost
    nothing on the usual path, which never meets one."""
    changes = list(changes)
    try:
        return _apply_page(uow, device_id=device_id, changes=changes, cursor=cursor,
                           careful=False)
    except Exception as e:
        if not _too_large(e):
            raise
    return _apply_page(uow, device_id=device_id, changes=changes, cursor=cursor, careful=True)


TOO_LARGE = "cannot read: a number no database integer holds"


def _too_large(error: BaseException) -> bool:
    """An ``OverflowError`` of a value bound to SQLite, bare or wrapped by SQLAlchemy."""
    return isinstance(error, OverflowError) or isinstance(
        getattr(error, "orig", None), OverflowError)


def _apply_page(uow: UnitOfWork, *, device_id: str, changes: list[Mapping[str, Any]],
                cursor: int, careful: bool) -> ApplyResult:
    applied = ignored = own = repeated = held = 0
    touched = NOTHING
    with uow.begin() as tx:
        conn = tx.conn
        ids = [c["event"]["id"] for c in changes]
        seen = set(conn.scalars(select(_APPLIED.c.id).where(_APPLIED.c.id.in_(ids)))) if ids \
            else set()
        seen |= quarantine.held_ids(conn, ids)
        newest: HLCTimestamp | None = None
        now = uow.clock.now()
        horizon = to_ms(now) + MAX_DRIFT_MS
        done: list[dict[str, Any]] = []
        store_id = conn.scalar(select(Device.__table__.c.store_id)
                               .where(Device.__table__.c.id == device_id))
        version = quarantine.till_version(TILL_READS)
        released: list[Changes] = []  # what the held events applied now changed

        def attempt(ev: Mapping[str, Any], pos: int) -> tuple[bool, str | None]:
            ok, reason = _apply_safely(conn, uow, ev, pos, store_id, careful=careful)
            if ok:
                released.append(changes_of_event(ev["type"], ev.get("payload") or {}))
            return ok, reason

        retried, blocked = quarantine.retry(conn, attempt, version=version)
        applied += retried
        for c in released:
            touched |= c
        lost = own_events.lost_ids(conn, device_id, changes)  # a restored till's
        mine = _own_ids(conn, changes)  # a device this till was before a new identity
        for change in changes:
            ev = change["event"]
            if ev["id"] in mine:
                own += 1
                continue
            if ev["device_id"] == device_id:
                if ev["id"] not in lost:
                    own += 1
                    continue
                own_events.catch_up(conn, device_id, ev)
            if ev["id"] in seen:
                repeated += 1
                continue
            seen.add(ev["id"])
            position = int(change["position"])
            keys = quarantine.keys_of(ev)
            ok, reason = (False, quarantine.WAITS) if keys & blocked \
                else _apply_safely(conn, uow, ev, position, store_id, careful=careful)
            if reason is not None:
                quarantine.hold(conn, ev, position, reason, at=now, version=version)
                blocked |= keys
                held += 1
                continue
            applied, ignored = applied + ok, ignored + (not ok)
            if ok:
                touched |= changes_of_event(ev["type"], ev.get("payload") or {})
            done.append({"id": ev["id"], "position": position})
            stamp = _stamp(ev)
            if stamp is not None and stamp.wall_ms <= horizon and (
                    newest is None or stamp > newest):
                newest = stamp
        if done:  # one statement per page: most pulled events need no other write
            conn.execute(insert(_APPLIED), done)
        if held or retried:
            quarantine.sync_flag(conn, store_id=store_id, device_id=device_id, at=now,
                                 new_id=tx.new_id)
        if newest is not None:
            _observe(conn, device_id, newest)
        cursor = _move_cursor(conn, cursor)
        tx.commit()
    if retried or any(c["event"]["type"] == RULES_PUBLISHED for c in changes):
        uow.reload_rules()  # a version with a start time: the till switches at that time
    return ApplyResult(applied, ignored, own, repeated, cursor, held=held, changes=touched)


def _move_cursor(conn: Connection, cursor: int) -> int:
    """Moves ``settings.sync_cursor`` to ``cursor``, never back; the cursor after it."""
    current = conn.scalar(select(_SETTINGS.c.value).where(_SETTINGS.c.key == SYNC_CURSOR))
    if current is None:
        conn.execute(insert(_SETTINGS), {"key": SYNC_CURSOR, "value": str(cursor)})
    elif cursor > int(current):
        conn.execute(update(_SETTINGS).where(_SETTINGS.c.key == SYNC_CURSOR)
                     .values(value=str(cursor)))
    return max(cursor, int(current or 0))


def retry_held(uow: UnitOfWork, *, device_id: str) -> int:
    """Tries the held events again if the till was upgraded since (when the till opens);
    returns how many applied."""
    with uow.begin() as tx:
        conn = tx.conn
        store_id = conn.scalar(select(Device.__table__.c.store_id)
                               .where(Device.__table__.c.id == device_id))
        retried, _ = quarantine.retry(  # careful: rare (after an upgrade), and at opening
            conn, lambda ev, pos: _apply_safely(conn, uow, ev, pos, store_id, careful=True),
            version=quarantine.till_version(TILL_READS))
        if retried:
            quarantine.sync_flag(conn, store_id=store_id, device_id=device_id,
                                 at=uow.clock.now(), new_id=tx.new_id)
        tx.commit()
    if retried:
        uow.reload_rules()
    return retried


def _own_ids(conn: Connection, changes: list[Mapping[str, Any]]) -> set[str]:
    """Events of a device this till was before a new identity (``services.reidentity``) that
    it holds itself: its own, not applied again. Those it does not hold were written by the
    other copy of the till (a restored backup's original) and are applied like another
    till's."""
    before = set(conn.scalars(select(DeviceSuccession.__table__.c.device_id)))
    ids = [c["event"]["id"] for c in changes if c["event"]["device_id"] in before]
    if not ids:
        return set()
    return set(conn.scalars(select(Event.__table__.c.id).where(Event.__table__.c.id.in_(ids))))


def _apply_safely(
    conn: Connection, uow: UnitOfWork, ev: Mapping[str, Any], position: int,
    store_id: str | None, *, careful: bool = False,
) -> tuple[bool, str | None]:
    """Applies one event: (applied?, None), or (False, why not) for an event this version
    cannot read or does not know — the caller holds it in quarantine. Each handler decodes its
    whole payload before it writes anything, so a refusal writes nothing (cheaper than a
    savepoint per event, which would triple the cost of a page). ``careful``: inside a
    savepoint, a number too large for the database held as well (``apply_page``)."""
    if careful:
        try:
            with conn.begin_nested():
                return _apply_safely(conn, uow, ev, position, store_id)
        except Exception as e:
            if not _too_large(e):
                raise
            return False, TOO_LARGE
    try:
        return _apply_event(conn, uow, ev, position, store_id), None
    except events.UnknownEventType:
        return False, quarantine.UNKNOWN_TYPE
    except events.EventNotReadable as e:  # a newer payload version, or one that does not match
        return False, f"cannot read: {type(e).__name__}: {e.problem}"
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as e:
        return False, f"cannot read: {type(e).__name__}: {e}"


def _apply_event(conn: Connection, uow: UnitOfWork, ev: Mapping[str, Any], position: int,
                 store_id: str | None) -> bool:
    kind = ev["type"]
    events.declaration(kind)  # an unknown type: UnknownEventType
    if kind not in _TYPED and kind not in _LEDGERS and kind not in MONEY_EVENTS:
        return False  # known, nothing to apply at a till (an alert, a till set up)
    if kind in STAFF_HANDLERS and (store_id is None or ev["store_id"] != store_id):
        return False  # another store's staff do not log in here
    if other_store(kind, ev["store_id"], ev["payload"]) is not None:
        # A till's store-scoped event naming another store (HQ refuses such a push now; one
        # stored before is ignored, never applied to the store it names): docs/rules.md.
        log.warning("pulled event %s (%s) ignored: it names a store not its own", ev["id"],
                    kind)
        return False
    cipher = _cipher(uow)
    payload = events.decode(kind, ev.get("payload_version", 1), ev["payload"], sealer=cipher)
    if kind in member_directory.DIRECTORY_TYPES:
        # Another store's member: the directory is all this till holds of them.
        full = member_directory.full_too(conn, kind, ev, payload, store_id)
        applied = _apply_typed(conn, uow, cipher, ev, kind, payload, position) if full \
            else True
        member_directory.apply(conn, kind, ev, payload)
        return applied
    return _apply_typed(conn, uow, cipher, ev, kind, payload, position)


def _apply_typed(conn: Connection, uow: UnitOfWork, cipher: PiiCipher | None,
                 ev: Mapping[str, Any], kind: str, payload: Any, position: int) -> bool:
    typed = _TYPED.get(kind)
    if typed is not None:
        return typed(conn, cipher, ev, payload, position)
    if isinstance(payload, events.MoneyMoved):  # sv.* money: counts on the store's day
        return apply_money_event(conn, ev, payload, uow.clock.zone)
    return _LEDGERS[kind](conn, ev, payload)


def _cipher(uow: UnitOfWork) -> PiiCipher | None:
    try:
        return uow.cipher
    except StoreNotSetUp:
        return None


def _stamp(ev: Mapping[str, Any]) -> HLCTimestamp | None:
    try:
        return HLCTimestamp.unpack(str(ev.get("hlc", "")))
    except ValueError:
        return None


def _observe(conn: Connection, device_id: str, remote: HLCTimestamp) -> None:
    """Folds a remote timestamp into this device's hybrid clock (the next local one is later)."""
    t = DeviceCounter.__table__
    row = conn.execute(
        select(t.c.hlc_wall_ms, t.c.hlc_counter).where(t.c.device_id == device_id)
    ).first()
    if row is None or HLCTimestamp(row.hlc_wall_ms, row.hlc_counter) >= remote:
        return
    conn.execute(update(t).where(t.c.device_id == device_id)
                 .values(hlc_wall_ms=remote.wall_ms, hlc_counter=remote.counter))


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?  Each
# area's module owns its handlers (members_sync, rules_sync, staff_sync).
_TYPED: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int], bool]] = {
    **MEMBERS_HANDLERS,  # member.registered, member.profile_updated, member.merged
    **RULES_HANDLERS,  # rules.published
    **STAFF_HANDLERS,  # staff.* (this store's only)
    **SERVICE_HANDLERS,  # member.status_set, card_reissued, phone_changed, erased, tier_set
}

# Pulled event type → ledger handler(conn, event, typed payload) -> applied?  Each ledger's
# module owns its handlers (sales_sync, points_sync, tiers, stored_value_sync, targets,
# balance_block_sync); they post through the same projection writers as the till's own
# operations. The money events (MONEY_EVENTS) go to stored_value_sync.apply_money_event, which
# also takes the store's time zone.
_LEDGERS: dict[str, Callable[[Connection, Mapping[str, Any], Any], bool]] = {
    **SALES_HANDLERS,  # sale.*: sales, with the points entries they carry
    **COUPON_HANDLERS,  # coupon.*: the coupons' projection and ledger
    **POINTS_HANDLERS,  # points.*
    TIER_CHANGED: apply_tier_changed,  # member.tier_changed
    **SV_HANDLERS,  # sv.*: freezes, member PIN/TOTP (money events: MONEY_EVENTS)
    TARGET_SET: apply_target_set,
    ROSTER_SET: apply_roster_set,
    SPLIT_ADJUSTED: apply_split_adjusted,
    **BALANCE_BLOCK_HANDLERS,  # member.balance_blocked / _unblocked: HQ's overdraw blocks
    events.RFM_BOUNDS_PUBLISHED.type: apply_bounds_published,  # HQ's RFM cuts (issue 19)
    events.RECALL_MESSAGED.type: apply_recall_messaged,  # a recall campaign's message
}
# What a held event was tried under: the types this till applies and each declared payload
# version this till reads (a new one is an upgrade: held events are tried again).
TILL_READS = frozenset(f"{t}@{events.EVENTS[t].version if t in events.EVENTS else '-'}"
                       for t in (*_TYPED, *_LEDGERS, *MONEY_EVENTS))


