"""Members at a till that pulls other tills' changes (docs/sync.md): registrations from other
stores, profile edits (last writer wins per field), and the server's duplicate-phone merges.
:data:`MEMBERS_HANDLERS` is their part of the pulled-event dispatch table
(:mod:`pos_member.services.pulled_events`); each handler takes the typed payload and decodes
all of it before it writes.

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
  merge names the winner; one that is already known as a loser goes in as merged. The loser's
  stored value and points follow (``stored_value_sync.merge_accounts``,
  ``points_ledger.merge_points``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, bindparam, insert, select, update

from pos_member import events
from pos_member.crypto import PiiCipher
from pos_member.db.models import Member, MemberAlias
from pos_member.db.prepared import Prepared
from pos_member.errors import StoreNotSetUp
from pos_member.member_code import is_valid_member_no
from pos_member.services import member_standing, own_events
from pos_member.services.chain_places import ensure_device, ensure_store
from pos_member.services.coupons_ledger import merge_coupons
from pos_member.services.field_versions import claim_fields, newer_fields
from pos_member.services.member_cards import PHONE_CTX
from pos_member.services.members import PROFILE_UPDATED, REGISTERED
from pos_member.services.points_ledger import merge_points
from pos_member.services.profile_seal import seal_one
from pos_member.services.stored_value_sync import merge_accounts
from pos_member.services.wire_values import unb64, wire_datetime

MERGED = events.MEMBER_MERGED.type
DUP_PREFIX = "dup:"
MERGED_PREFIX = "merged:"

_MEMBERS = Member.__table__
_MEMBER_COLUMNS = frozenset(c.key for c in _MEMBERS.columns)
_ALIASES = MemberAlias.__table__
# A registration's look-ups, run on the driver (pos_member/db/prepared.py): a new till catching
# up with its store's history applies one for each of its members.
_MEMBER_HERE = Prepared(select(_MEMBERS.c.id).where(_MEMBERS.c.id == bindparam("id")))
_NUMBER_MERGED = Prepared(select(_ALIASES.c.member_id)
                          .where(_ALIASES.c.member_no == bindparam("member_no")))
_PHONE_TAKEN = Prepared(select(_MEMBERS.c.id)
                        .where(_MEMBERS.c.phone_index == bindparam("phone_index")))


# -- member.registered ---------------------------------------------------------------------


def apply_registered(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                p: events.MemberRegistered, position: int) -> bool:
    member_id = p.member_id
    if _MEMBER_HERE.first(conn, {"id": member_id}) is not None:
        return own_events.numbered_at_hq(conn, ev, member_id=member_id, member_no=p.member_no)
    member_no = p.member_no
    if not is_valid_member_no(member_no):
        raise ValueError(f"not a member number: {member_no!r}")
    store_id = p.store_id or ev["store_id"]
    at = wire_datetime(ev["created_at"])
    if not p.phone_index or not p.phone_enc:
        raise ValueError("a registration without a phone")
    row: dict[str, Any] = {
        "id": member_id,
        "member_no": member_no,
        "phone_index": p.phone_index,
        "phone_enc": unb64(p.phone_enc),
        "tags": [],
        "source_channel": p.source_channel,
        "guide_id": p.guide_id,
        "referrer_id": p.referrer_id,
        "store_id": store_id,
        "device_id": ev["device_id"],
        "registered_by": ev.get("clerk_id"),
        "registered_at": wire_datetime(p.registered_at),
        "privacy_policy_version": p.privacy_policy_version,
        "privacy_consent_at": wire_datetime(p.privacy_consent_at),
        "tier": "regular",
        "status": "active",
        "updated_hlc": ev["hlc"],
    }
    profile = _opened({"name_enc": p.name_enc, "gender_enc": p.gender_enc,
                       "birthday_enc": p.birthday_enc, "tags_enc": p.tags_enc,
                       "marketing_consent": p.marketing_consent,
                       "marketing_consent_at": p.marketing_consent_at}, cipher)
    profile.update(newer_fields(conn, member_id=member_id, hlc=ev["hlc"], event_id=ev["id"],
                                cipher=cipher))
    row.update(_profile_columns(profile, cipher))
    row.setdefault("marketing_consent", False)
    # Everything is decoded: from here on, writes only.
    ensure_store(conn, store_id, int(member_no[:4]), at)
    ensure_device(conn, ev["device_id"], store_id, int(member_no[4:6]), at)
    merged = _NUMBER_MERGED.first(conn, row)
    if merged is not None and merged.member_id:
        row["status"], row["phone_index"] = "merged", MERGED_PREFIX + member_id
    elif (taken := _PHONE_TAKEN.first(conn, row)) is not None and taken.id:
        row["phone_index"] = DUP_PREFIX + member_id  # until the server's merge names the winner
    conn.execute(insert(_MEMBERS), row)
    return True


# -- member.profile_updated ----------------------------------------------------------------


PROFILE_FIELDS = ("name_enc", "gender", "birthday", "tags", "marketing_consent",
                  "marketing_consent_at", "privacy_policy_version", "privacy_consent_at")


def _profile_columns(fields: Mapping[str, Any], cipher: PiiCipher | None) -> dict[str, Any]:
    """Wire-form profile fields → member columns: gender, birthday and tags sealed into their
    encrypted columns (``profile_seal``). Unknown fields are left out (a newer till's field
    this version cannot show; its value is kept in ``member_field_hlc``)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("gender", "birthday", "tags"):
            if cipher is None:
                raise StoreNotSetUp()
            if name == "birthday":
                value = date.fromisoformat(value) if value else None
            out[f"{name}_enc"] = seal_one(cipher, name, tuple(value or ()) if name == "tags"
                                          else value)
        elif name == "name_enc":
            out[name] = unb64(value)
        elif name in ("marketing_consent_at", "privacy_consent_at"):
            out[name] = wire_datetime(value) if value else None
        elif name == "marketing_consent":
            out[name] = bool(value)
        elif name in _MEMBER_COLUMNS and name in PROFILE_FIELDS:
            out[name] = value
    return out


def _opened(fields: Mapping[str, Any], cipher: PiiCipher | None) -> dict[str, Any]:
    """Wire-form profile fields with the sealed ones (``gender_enc``, ``birthday_enc``,
    ``tags_enc``) opened under their own names (``gender``, ``birthday``, ``tags``): the names
    the member's columns and the field versions use."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        sealed = events.SEALED_EDIT_FIELDS.get(name)
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
                out[plain] = events.opened_value(
                    plain, events.unseal(cipher, value, context=context))
            except InvalidTag:  # sealed with another key, or in another field
                raise ValueError(f"{name} does not open with this till's data key") from None
    return out


def apply_profile_updated(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                     p: events.MemberProfileUpdated, position: int) -> bool:
    member_id = p.member_id
    if member_standing.is_erased(conn, member_id):
        return True  # erased (issue 20): no personal value comes back
    fields = _opened(p.fields, cipher)
    _profile_columns(fields, cipher)  # decodes every value before anything is written
    won = claim_fields(conn, member_id=member_id, fields=fields, hlc=ev["hlc"],
                       event_id=ev["id"], cipher=cipher)
    columns = _profile_columns(won, cipher)
    updated = conn.scalar(select(_MEMBERS.c.updated_hlc).where(_MEMBERS.c.id == member_id))
    if updated is None:
        return True  # the registration has not arrived; it picks the values up
    if updated < ev["hlc"]:
        columns["updated_hlc"] = ev["hlc"]
    if columns:
        conn.execute(update(_MEMBERS).where(_MEMBERS.c.id == member_id).values(**columns))
    return True


# -- member.merged -------------------------------------------------------------------------


def apply_merged(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
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
                   at=wire_datetime(ev["created_at"]))
    merge_points(conn, loser_id=loser_id, winner_id=winner_id)  # points ledger, lots, sales
    merge_coupons(conn, loser_id=loser_id, winner_id=winner_id)  # the winner uses them
    return True


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?
MEMBERS_HANDLERS: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int],
                                     bool]] = {
    REGISTERED: apply_registered,
    PROFILE_UPDATED: apply_profile_updated,
    MERGED: apply_merged,
}
