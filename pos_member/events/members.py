"""Member events: registration, profile, merge, tier, balance blocks."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from pos_member.events.base import Payload, Sealer, declare, need_sealer, seal

# Associated data of a member's personal values, encrypted in events (and the phone and the
# name in the members table too): a ciphertext moved to another field does not decrypt.
PHONE_CTX = "member.phone"
NAME_CTX = "member.name"
BIRTHDAY_CTX = "member.birthday"
GENDER_CTX = "member.gender"
TAGS_CTX = "member.tags"  # sealed (a JSON list of text): edits from v3, registrations from v3


class MemberRegistered(Payload, frozen=True, kw_only=True):
    """Version 3. Personal data travels only encrypted (base64 AES-GCM with the chain's data
    key): phone, name, gender, birthday, tags (``tags_enc``, a JSON list; None when there are
    none). Version 2 carried ``tags`` in clear; version 1 also ``gender`` and ``birthday``
    (ISO date)."""

    member_id: str
    member_no: str
    phone_index: str
    phone_enc: str
    name_enc: str | None = None
    gender_enc: str | None = None
    birthday_enc: str | None = None
    tags_enc: str | None = None
    source_channel: str
    guide_id: str | None = None
    referrer_id: str | None = None
    store_id: str | None = None
    registered_at: str
    privacy_policy_version: str
    privacy_consent_at: str
    marketing_consent: bool = False
    marketing_consent_at: str | None = None


# Profile fields that are personal data: wire name (v2) → (name in v1 and in the member's
# field versions, encryption context).
SEALED_PROFILE_FIELDS = {
    "gender_enc": ("gender", GENDER_CTX),
    "birthday_enc": ("birthday", BIRTHDAY_CTX),
}
# The sealed fields of a profile edit and of a registration from their version 3 (issue 20):
# the tags too.
SEALED_EDIT_FIELDS = {**SEALED_PROFILE_FIELDS, "tags_enc": ("tags", TAGS_CTX)}


def seal_profile_fields(fields: dict[str, Any], sealer: Sealer,
                        sealed: dict[str, tuple[str, str]] = SEALED_PROFILE_FIELDS
                        ) -> dict[str, Any]:
    """Clear ``gender``/``birthday`` (ISO date) — and ``tags`` (a list) when ``sealed`` names
    it — as the sealed ``gender_enc``/``birthday_enc``/``tags_enc`` an event carries, in their
    place (the field order otherwise kept): a till's edit as it goes into
    ``member.profile_updated``, and older versions' payloads upcast."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        for wire, (plain, context) in sealed.items():
            if name == plain:
                out[wire] = seal(sealer, sealed_text(plain, value), context=context)
                break
        else:
            out[name] = value
    return out


def sealed_text(plain: str, value: Any) -> str | None:
    """The text a personal value is sealed as: tags as a JSON list (``TypeError`` for what is
    not a list of text), the others as they are."""
    if plain != "tags" or value is None:
        return value  # type: ignore[no-any-return]
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise TypeError("tags are not a list of text")
    return json.dumps(list(value), ensure_ascii=False)


def opened_value(plain: str, text: str | None) -> Any:
    """``sealed_text`` read back: tags as a list (``ValueError`` for what is not one)."""
    if plain != "tags" or text is None:
        return text
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ValueError("sealed tags are not a list of text")
    return value


def _registered_v1_to_v2(p: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    if "gender" not in p and "birthday" not in p:
        return p
    return seal_profile_fields(p, need_sealer(MEMBER_REGISTERED.type, 1, sealer))


def _registered_v2_to_v3(p: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    """A v2 registration's clear ``tags`` sealed as ``tags_enc``; none (the common case)
    become ``tags_enc`` None without needing the key."""
    if "tags" not in p:
        return p
    if p["tags"] is None or p["tags"] == []:
        return {**{k: v for k, v in p.items() if k != "tags"}, "tags_enc": None}
    return seal_profile_fields(p, need_sealer(MEMBER_REGISTERED.type, 2, sealer),
                               {"tags_enc": ("tags", TAGS_CTX)})


class MemberProfileUpdated(Payload, frozen=True, kw_only=True):
    """Version 3: ``fields`` maps wire field names to new values: ``name_enc``,
    ``gender_enc``, ``birthday_enc``, ``tags_enc`` (encrypted; the tags a JSON list),
    ``marketing_consent``, ``marketing_consent_at``; a field a newer till adds is carried as it
    is. Version 2 had ``tags`` in clear; version 1 also ``gender`` and ``birthday``."""

    member_id: str
    fields: dict[str, Any]


def _profile_v1_to_v2(p: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    fields = p.get("fields")
    if not isinstance(fields, dict) or not ({"gender", "birthday"} & fields.keys()):
        return p
    sealer = need_sealer(MEMBER_PROFILE_UPDATED.type, 1, sealer)
    return {**p, "fields": seal_profile_fields(fields, sealer)}


def _profile_v2_to_v3(p: dict[str, Any], sealer: Sealer | None) -> dict[str, Any]:
    fields = p.get("fields")
    if not isinstance(fields, dict) or "tags" not in fields:
        return p
    sealer = need_sealer(MEMBER_PROFILE_UPDATED.type, 2, sealer)
    return {**p, "fields": seal_profile_fields(fields, sealer,
                                               {"tags_enc": ("tags", TAGS_CTX)})}


class MemberMerged(Payload, frozen=True, kw_only=True):
    """A server event: two registrations of one phone; the loser's number becomes an alias."""

    winner_member_id: str
    loser_member_id: str
    winner_member_no: str
    loser_member_no: str


class MemberTierChanged(Payload, frozen=True, kw_only=True):
    member_id: str
    from_: str | None = msgspec.field(default=None, name="from")
    to: str
    reason: str
    at: str
    spend_fen: int = 0
    growth: int = 0


class MemberBalanceBlocked(Payload, frozen=True, kw_only=True):
    """A server event: a cross-store overdraw; every till refuses balance payments."""

    member_id: str
    balance_fen: int
    flag_id: int | str


class MemberBalanceUnblocked(Payload, frozen=True, kw_only=True):
    member_id: str
    flag_id: int | str
    settled_fen: int = 0
    note: str | None = None


MEMBER_REGISTERED = declare("member.registered", MemberRegistered, version=3,
                            upcasters={1: _registered_v1_to_v2, 2: _registered_v2_to_v3})
MEMBER_PROFILE_UPDATED = declare("member.profile_updated", MemberProfileUpdated, version=3,
                                 upcasters={1: _profile_v1_to_v2, 2: _profile_v2_to_v3})
MEMBER_MERGED = declare("member.merged", MemberMerged)
MEMBER_TIER_CHANGED = declare("member.tier_changed", MemberTierChanged)
MEMBER_BALANCE_BLOCKED = declare("member.balance_blocked", MemberBalanceBlocked)
MEMBER_BALANCE_UNBLOCKED = declare("member.balance_unblocked", MemberBalanceUnblocked)
