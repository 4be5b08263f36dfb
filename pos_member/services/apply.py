"""Applying changes pulled from the central server to the till's database.

A page of changes is applied in one transaction together with the new sync cursor, so a till
killed mid-page either has the whole page and its cursor or neither. Applying is idempotent and
does not depend on arrival order (a hypothesis test permutes and repeats pages):

- Every applied event id is kept in ``applied_events``; an event seen again is skipped.
- The till's own events coming back are skipped (they are already here); one it no longer
  holds (its data restored from an older copy) is applied like another till's and its
  counters catch up (:mod:`pos_member.services.own_events`).
- ``member.registered`` from another till inserts the member (ciphertexts and the phone's blind
  index come in the payload; every till holds the chain's data key from enrolment). Missing
  ``stores``/``devices`` rows are added from the event's ids, their numbers read from the member
  number (``SSSS DD …``) and the store's name a placeholder (``#0002``) until the server sends
  store details. Guide, clerk and referrer are chain-wide ids, not foreign keys (migration 0002).
- ``member.profile_updated``: last writer wins per field by ``(hlc, event id)``
  (:mod:`pos_member.services.field_versions`); an update pulled before its registration is kept
  and laid over the row when the registration arrives.
- ``member.merged`` (a server event: two stores registered one phone): the loser's number is
  aliased to the winner (``member_aliases``; ``find_member`` follows it) and the loser's row, if
  here, becomes ``status="merged"`` and gives up the phone index. A registration whose phone is
  already held here by another member waits with a placeholder index (``dup:<id>``) until the
  merge names the winner; one that is already known as a loser goes in as merged.
- ``rules.published``: the version is validated and stored in ``rules_versions`` (activated at
  the event's time) and added to ``settings.rules_schedule`` with its start time (the payload's
  ``starts_at``; without one, in force at once); the unit of work switches to it at that time, while
  running (``services.rules.RulesSchedule``). ``settings.rules_pulled`` keeps the newest by
  server position, as before.
- ``staff.created`` / ``staff.locked`` of this till's own store (another till of the store):
  the colleague is added with the argon2id hash the event carries, so they log in here too;
  a lock sets ``locked_until`` (the later one stays). Other stores' staff are not applied. A
  pulled colleague whose staff number is already used here by someone else is not applied
  (logged): staff numbers are unique in a store, the local one keeps it.
- Every payload is read through its declaration (``pos_member.events.decode``): typed, and
  upcast from an older ``payload_version`` in that one place (a ``member.registered`` of
  version 1 carried the birthday in clear; it is sealed on the way in). A type this version
  does not know, a version newer than it knows, or a payload that does not match raises an
  ``events.EventNotReadable``: see ``_apply_safely``.
- A type this version does not know, or one it cannot read, is held in quarantine with the
  reason (:mod:`pos_member.services.quarantine`), with every later event of the same members
  or sales behind it, and tried again after the till is upgraded. Known types with nothing to
  apply at a till (an alert, a till set up) are recorded as applied.

Applying writes no events: nothing pulled is ever pushed back. Remote hybrid timestamps are
folded into this device's clock, so a local edit made after seeing a remote one sorts after it;
except one more than ``MAX_DRIFT_MS`` ahead of this till's wall clock (a till with a wrong
clock): it is applied but not folded in, so it cannot drag this till's clock forward.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
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
    Member,
    MemberAlias,
    RulesVersion,
    Setting,
    Staff,
)
from pos_member.db.uow import UnitOfWork
from pos_member.errors import RulesInvalid, StoreNotSetUp
from pos_member.hlc import HLCTimestamp
from pos_member.member_code import is_valid_member_no
from pos_member.permissions import Role
from pos_member.rules import parse_rules
from pos_member.services import own_events, quarantine
from pos_member.services.balance_block_sync import (
    BALANCE_BLOCKED,
    BALANCE_UNBLOCKED,
    apply_balance_blocked,
    apply_balance_unblocked,
)
from pos_member.services.chain_places import ensure_device, ensure_store
from pos_member.services.chain_places import name_stores as name_stores  # sync.engine's
from pos_member.services.chain_places import unnamed_stores as unnamed_stores
from pos_member.services.field_versions import claim_fields, newer_fields
from pos_member.services.member_cards import PHONE_CTX
from pos_member.services.members import PROFILE_UPDATED, REGISTERED
from pos_member.services.outbox import SYNC_CURSOR
from pos_member.services.points_ledger import merge_points
from pos_member.services.points_sync import POINTS_HANDLERS
from pos_member.services.rules import PULLED as RULES_PULLED
from pos_member.services.rules import SCHEDULE as RULES_SCHEDULE
from pos_member.services.rules import schedule_entry
from pos_member.services.sales_sync import SALES_HANDLERS
from pos_member.services.staff import STAFF_CREATED, STAFF_LOCKED
from pos_member.services.stored_value_ledger import MONEY_EVENTS
from pos_member.services.stored_value_sync import SV_HANDLERS, apply_money_event, merge_accounts
from pos_member.services.targets import (
    ROSTER_SET,
    SPLIT_ADJUSTED,
    TARGET_SET,
    apply_roster_set,
    apply_split_adjusted,
    apply_target_set,
)
from pos_member.services.tiers import TIER_CHANGED, apply_tier_changed

log = logging.getLogger(__name__)

MERGED = events.MEMBER_MERGED.type
RULES_PUBLISHED = events.RULES_PUBLISHED.type
RULES_PULLED_POSITION = "rules_pulled_position"
ALWAYS = datetime(1970, 1, 1, tzinfo=UTC)  # the start of a version published without one
DUP_PREFIX = "dup:"
MERGED_PREFIX = "merged:"

# A remote timestamp further ahead of this till's clock than this is not folded into it: one
# till with a clock a day ahead must not drag every till's clock a day forward (the server
# flags such a till: ``clock_ahead``, the same 5 minutes).
MAX_DRIFT_MS = 5 * 60 * 1000

_APPLIED = AppliedEvent.__table__
_MEMBERS = Member.__table__
_MEMBER_COLUMNS = frozenset(c.key for c in _MEMBERS.columns)
_ALIASES = MemberAlias.__table__
_SETTINGS = Setting.__table__
_STAFF = Staff.__table__


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
    Held events are tried again first when the till was upgraded since their last try."""
    changes = list(changes)
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
            ok, reason = _apply_safely(conn, uow, ev, pos, store_id)
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
                else _apply_safely(conn, uow, ev, position, store_id)
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
        current = conn.scalar(select(_SETTINGS.c.value).where(_SETTINGS.c.key == SYNC_CURSOR))
        if current is None:
            conn.execute(insert(_SETTINGS), {"key": SYNC_CURSOR, "value": str(cursor)})
        elif cursor > int(current):
            conn.execute(update(_SETTINGS).where(_SETTINGS.c.key == SYNC_CURSOR)
                         .values(value=str(cursor)))
        tx.commit()
    if retried or any(c["event"]["type"] == RULES_PUBLISHED for c in changes):
        uow.reload_rules()  # a version with a start time: the till switches at that time
    return ApplyResult(applied, ignored, own, repeated, max(cursor, int(current or 0)),
                       held=held, changes=touched)


def retry_held(uow: UnitOfWork, *, device_id: str) -> int:
    """Tries the held events again if the till was upgraded since (when the till opens);
    returns how many applied."""
    with uow.begin() as tx:
        conn = tx.conn
        store_id = conn.scalar(select(Device.__table__.c.store_id)
                               .where(Device.__table__.c.id == device_id))
        retried, _ = quarantine.retry(
            conn, lambda ev, pos: _apply_safely(conn, uow, ev, pos, store_id),
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
    store_id: str | None,
) -> tuple[bool, str | None]:
    """Applies one event: (applied?, None), or (False, why not) for an event this version
    cannot read or does not know — the caller holds it in quarantine. Each handler decodes its
    whole payload before it writes anything, so a refusal writes nothing (cheaper than a
    savepoint per event, which would triple the cost of a page)."""
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
    declared = events.declaration(kind)  # an unknown type: UnknownEventType
    version = ev.get("payload_version", 1)
    if kind not in _TYPED and kind not in _HANDLERS and kind not in MONEY_EVENTS:
        return False  # known, nothing to apply at a till (an alert, a till set up)
    if kind in (STAFF_CREATED, STAFF_LOCKED) and (store_id is None or ev["store_id"] != store_id):
        return False  # another store's staff do not log in here
    cipher = _cipher(uow)
    payload = events.decode(kind, version, ev["payload"], sealer=cipher)
    typed = _TYPED.get(kind)
    if typed is not None:
        return typed(conn, cipher, ev, payload, position)
    if version != declared.version:  # upcast: the handler reads the current version's object
        ev = {**ev, "payload": events.encode(payload)}
    if kind in MONEY_EVENTS:  # a ledger line counts on the store's day, in the clock's zone
        return apply_money_event(conn, ev, uow.clock.zone)
    return _HANDLERS[kind](conn, ev)


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


# -- member.registered ---------------------------------------------------------------------


def _registered(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                p: events.MemberRegistered, position: int) -> bool:
    member_id = p.member_id
    if conn.scalar(select(_MEMBERS.c.id).where(_MEMBERS.c.id == member_id)) is not None:
        return False
    member_no = p.member_no
    if not is_valid_member_no(member_no):
        raise ValueError(f"not a member number: {member_no!r}")
    store_id = p.store_id or ev["store_id"]
    at = _datetime(ev["created_at"])
    if not p.phone_index or not p.phone_enc:
        raise ValueError("a registration without a phone")
    row: dict[str, Any] = {
        "id": member_id,
        "member_no": member_no,
        "phone_index": p.phone_index,
        "phone_enc": _unb64(p.phone_enc),
        "tags": [],
        "source_channel": p.source_channel,
        "guide_id": p.guide_id,
        "referrer_id": p.referrer_id,
        "store_id": store_id,
        "device_id": ev["device_id"],
        "registered_by": ev.get("clerk_id"),
        "registered_at": _datetime(p.registered_at),
        "privacy_policy_version": p.privacy_policy_version,
        "privacy_consent_at": _datetime(p.privacy_consent_at),
        "tier": "regular",
        "status": "active",
        "updated_hlc": ev["hlc"],
    }
    profile = _opened({"name_enc": p.name_enc, "gender_enc": p.gender_enc,
                       "birthday_enc": p.birthday_enc, "tags": p.tags,
                       "marketing_consent": p.marketing_consent,
                       "marketing_consent_at": p.marketing_consent_at}, cipher)
    profile.update(newer_fields(conn, member_id=member_id, hlc=ev["hlc"], event_id=ev["id"]))
    row.update(_profile_columns(profile))
    row.setdefault("marketing_consent", False)
    # Everything is decoded: from here on, writes only.
    ensure_store(conn, store_id, int(member_no[:4]), at)
    ensure_device(conn, ev["device_id"], store_id, int(member_no[4:6]), at)
    if conn.scalar(select(_ALIASES.c.member_id).where(_ALIASES.c.member_no == member_no)):
        row["status"], row["phone_index"] = "merged", MERGED_PREFIX + member_id
    elif conn.scalar(select(_MEMBERS.c.id).where(_MEMBERS.c.phone_index == row["phone_index"])):
        row["phone_index"] = DUP_PREFIX + member_id  # until the server's merge names the winner
    conn.execute(insert(_MEMBERS), row)
    return True


# -- member.profile_updated ----------------------------------------------------------------

PROFILE_FIELDS = ("name_enc", "gender", "birthday", "tags", "marketing_consent",
                  "marketing_consent_at")


def _profile_columns(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Wire-form profile fields → member columns. Unknown fields are left out (a newer till's
    field this version cannot show; its value is kept in ``member_field_hlc``)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name_enc":
            out[name] = _unb64(value)
        elif name == "birthday":
            out[name] = date.fromisoformat(value) if value else None
        elif name == "marketing_consent_at":
            out[name] = _datetime(value) if value else None
        elif name == "tags":
            out[name] = list(value or [])
        elif name == "marketing_consent":
            out[name] = bool(value)
        elif name in _MEMBER_COLUMNS and name in PROFILE_FIELDS:
            out[name] = value
    return out


def _opened(fields: Mapping[str, Any], cipher: PiiCipher | None) -> dict[str, Any]:
    """Wire-form profile fields with the sealed ones (``gender_enc``, ``birthday_enc``) opened
    under their own names (``gender``, ``birthday``): the names the member's columns and the
    field versions use."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        sealed = events.SEALED_PROFILE_FIELDS.get(name)
        if sealed is None:
            out[name] = value
            continue
        plain, context = sealed
        if value is None:
            out[plain] = None
        elif cipher is None:
            raise ValueError(f"no data key to open {name}")
        else:
            try:
                out[plain] = events.unseal(cipher, value, context=context)
            except InvalidTag:  # sealed with another key, or in another field
                raise ValueError(f"{name} does not open with this till's data key") from None
    return out


def _profile_updated(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                     p: events.MemberProfileUpdated, position: int) -> bool:
    member_id = p.member_id
    fields = _opened(p.fields, cipher)
    _profile_columns(fields)  # decodes every value before anything is written
    won = claim_fields(conn, member_id=member_id, fields=fields, hlc=ev["hlc"],
                       event_id=ev["id"])
    columns = _profile_columns(won)
    updated = conn.scalar(select(_MEMBERS.c.updated_hlc).where(_MEMBERS.c.id == member_id))
    if updated is None:
        return True  # the registration has not arrived; it picks the values up
    if updated < ev["hlc"]:
        columns["updated_hlc"] = ev["hlc"]
    if columns:
        conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(**columns))
    return True


# -- member.merged -------------------------------------------------------------------------


def _merged(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
            p: events.MemberMerged, position: int) -> bool:
    winner_id, loser_id = p.winner_member_id, p.loser_member_id
    loser_no = p.loser_member_no
    if conn.scalar(select(_ALIASES.c.member_id).where(
            _ALIASES.c.member_no == loser_no)) is None:
        conn.execute(insert(_ALIASES), {"member_no": loser_no,
                                        "member_id": winner_id, "loser_member_id": loser_id})
    loser = conn.execute(select(_MEMBERS.c.phone_index, _MEMBERS.c.status)
                         .where(_MEMBERS.c.id == loser_id)).first()
    real_index = None
    if loser is not None and loser.status != "merged":
        if not loser.phone_index.startswith((DUP_PREFIX, MERGED_PREFIX)):
            real_index = loser.phone_index
        conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == loser_id)
                     .values(status="merged", phone_index=MERGED_PREFIX + loser_id))
    winner = conn.execute(select(_MEMBERS.c.phone_index, _MEMBERS.c.phone_enc)
                          .where(_MEMBERS.c.id == winner_id)).first()
    if winner is not None and winner.phone_index.startswith(DUP_PREFIX):
        # The winner waited for its phone index; it is the loser's, or computable from the
        # phone (every till holds the chain's key). Another duplicate may still hold it.
        if real_index is None and cipher is None:
            raise StoreNotSetUp()
        index = real_index or cipher.blind_index(  # type: ignore[union-attr]
            cipher.decrypt(winner.phone_enc, context=PHONE_CTX), context=PHONE_CTX)
        holder = conn.scalar(select(_MEMBERS.c.id).where(_MEMBERS.c.phone_index == index))
        if holder is None:
            conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == winner_id)
                         .values(phone_index=index))
    merge_accounts(conn, loser_id=loser_id, winner_id=winner_id,  # stored value follows
                   at=_datetime(ev["created_at"]))
    merge_points(conn, loser_id=loser_id, winner_id=winner_id)  # points ledger, lots, sales
    return True


# -- staff.created, staff.locked (this store's only) ---------------------------------------


def _staff_created(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                   p: events.StaffCreated, position: int) -> bool:
    staff_id, code, secret_hash = p.id, p.code, p.secret_hash
    if not isinstance(secret_hash, str) or not secret_hash.startswith("$argon2"):
        log.warning("pulled staff %s not applied: no argon2 hash (an older till's event)",
                    staff_id)
        return False  # nothing a newer version could do with it: not held
    row = {"id": staff_id, "store_id": ev["store_id"], "code": code, "name": p.name,
           "role": Role(p.role).value, "secret_hash": secret_hash, "failed_logins": 0,
           "locked_until": None, "active": True, "created_at": _datetime(ev["created_at"])}
    if conn.scalar(select(_STAFF.c.id).where(_STAFF.c.id == staff_id)) is not None:
        return False
    if conn.scalar(select(_STAFF.c.id).where(_STAFF.c.code == code)) is not None:
        log.warning("pulled staff %s not applied: staff number %s is taken here", staff_id, code)
        return False
    conn.execute(insert(_STAFF), row)
    return True


def _staff_locked(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                  p: events.StaffLocked, position: int) -> bool:
    staff_id, until = p.staff_id, _datetime(p.locked_until)
    current = conn.execute(select(_STAFF.c.locked_until)
                           .where(_STAFF.c.id == staff_id)).first()
    if current is None:
        return False  # not a colleague known here (a number clash, or an older till's event)
    if current.locked_until is not None and _datetime(current.locked_until) >= until:
        return True
    conn.execute(update(_STAFF).where(_STAFF.c.id == staff_id).values(locked_until=until))
    return True


# -- rules.published -----------------------------------------------------------------------


def _rules_published(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                     p: events.RulesPublished, position: int) -> bool:
    version, source = p.version, p.source
    try:
        if parse_rules(source).version != version:
            return False
    except RulesInvalid:
        return False  # refused: the till keeps the rules it has
    starts = p.starts_at  # HQ's start time; a server without them: in force at once
    starts_at = _datetime(starts) if isinstance(starts, str) and starts else ALWAYS
    t = RulesVersion.__table__
    if conn.scalar(select(t.c.version).where(t.c.version == version)) is None:
        conn.execute(insert(t), {"version": version, "source": source,
                                 "activated_at": _datetime(ev["created_at"])})
    pulled_at = conn.scalar(select(_SETTINGS.c.value)
                            .where(_SETTINGS.c.key == RULES_PULLED_POSITION))
    if pulled_at is None or position > int(pulled_at):
        _put(conn, RULES_PULLED, version)
        _put(conn, RULES_PULLED_POSITION, str(position))
    raw = conn.scalar(select(_SETTINGS.c.value).where(_SETTINGS.c.key == RULES_SCHEDULE))
    schedule = json.loads(raw) if raw else []
    if not any(item["version"] == version for item in schedule):
        schedule.append(schedule_entry(starts_at, position, version))
        _put(conn, RULES_SCHEDULE, json.dumps(schedule))
    return True


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?
_TYPED: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int], bool]] = {
    REGISTERED: _registered,
    PROFILE_UPDATED: _profile_updated,
    MERGED: _merged,
    RULES_PUBLISHED: _rules_published,
    STAFF_CREATED: _staff_created,
    STAFF_LOCKED: _staff_locked,
}

# Pulled event type → handler(conn, event) -> applied?  Each ledger's module owns its handlers
# (points, stored value, sales); they read the current version's payload object.
_HANDLERS: dict[str, Callable[[Connection, Mapping[str, Any]], bool]] = {
    TARGET_SET: apply_target_set,
    ROSTER_SET: apply_roster_set,
    SPLIT_ADJUSTED: apply_split_adjusted,
    BALANCE_BLOCKED: apply_balance_blocked,
    BALANCE_UNBLOCKED: apply_balance_unblocked,
    **SV_HANDLERS,  # sv.*: stored value (freezes, member PIN/TOTP; money events: above)
    **SALES_HANDLERS,  # sale.*: sales, with the points entries they carry
    **POINTS_HANDLERS,  # points.*
    TIER_CHANGED: apply_tier_changed,  # member.tier_changed
}
# What a held event was tried under: the types this till applies and each declared payload
# version this till reads (a new one is an upgrade: held events are tried again).
TILL_READS = frozenset(f"{t}@{events.EVENTS[t].version if t in events.EVENTS else '-'}"
                       for t in (*_TYPED, *_HANDLERS, *MONEY_EVENTS))


def _put(conn: Connection, key: str, value: str) -> None:
    exists = conn.scalar(select(_SETTINGS.c.key).where(_SETTINGS.c.key == key))
    if exists is None:
        conn.execute(insert(_SETTINGS), {"key": key, "value": value})
    else:
        conn.execute(update(_SETTINGS).where(_SETTINGS.c.key == key).values(value=value))


def _unb64(value: str | None) -> bytes | None:
    return base64.b64decode(value) if value is not None else None


def _datetime(value: str | datetime) -> datetime:
    """Wire times are ISO 8601; one without an offset is taken as UTC."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
