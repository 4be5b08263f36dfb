"""Payload versions are read: ``member.registered`` and ``member.profile_updated`` are at
version 3 (gender, birthday and tags sealed like the phone); a till still applies version 1
events (plain gender and birthday) and version 2 ones (plain tags) pulled from an older till,
upcast in one place."""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

import pytest

from pos_member.crypto import PiiCipher
from pos_member.errors import MemberNotFound
from pos_member.events import (
    BIRTHDAY_CTX,
    GENDER_CTX,
    SV_FROZEN,
    TAGS_CTX,
    PinSet,
    seal,
    unseal,
)
from pos_member.services.member_cards import Gender, find_member, reveal_personal_data
from pos_member.services.members import update_profile
from tests.factories import Till, wire_events
from tests.factories import apply_pulled as apply


def of_type(till: Till, type: str) -> list[dict[str, Any]]:
    return [e for e in wire_events(till) if e["type"] == type]


def as_version_1(fields: dict[str, Any], *, gender: str | None,
                 birthday: str | None) -> dict[str, Any]:
    """A version 2 object as a till before version 2 wrote it: gender and birthday in clear,
    in the places of the sealed ones."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "gender_enc":
            out["gender"] = gender
        elif name == "birthday_enc":
            out["birthday"] = birthday
        else:
            out[name] = value
    return out


def test_a_new_registration_carries_no_plain_birthday_gender_or_tags(a: Till) -> None:
    a.register(name="李娜", gender=Gender.FEMALE, birthday=date(1990, 5, 17),
               tags=("孕婴", "VIP甲"))
    (ev,) = of_type(a, "member.registered")
    p = ev["payload"]
    assert ev["payload_version"] == 3
    assert "birthday" not in p and "gender" not in p and "tags" not in p
    assert "1990-05-17" not in json.dumps(ev)
    assert "VIP" not in json.dumps(ev, ensure_ascii=False)
    assert json.loads(unseal(a.uow.cipher, p["tags_enc"], context=TAGS_CTX) or "") == [
        "孕婴", "VIP甲"]
    assert unseal(a.uow.cipher, p["birthday_enc"], context=BIRTHDAY_CTX) == "1990-05-17"
    assert unseal(a.uow.cipher, p["gender_enc"], context=GENDER_CTX) == "F"


def test_a_profile_edit_carries_no_plain_birthday_gender_or_tags(a: Till) -> None:
    card = a.register()
    update_profile(a.uow, clerk=a.manager, member_id=card.id, birthday=date(1985, 12, 1),
                   gender=Gender.MALE, tags=("孕婴", "VIP甲"))
    (ev,) = of_type(a, "member.profile_updated")
    fields = ev["payload"]["fields"]
    assert ev["payload_version"] == 3
    assert "birthday" not in fields and "gender" not in fields and "tags" not in fields
    assert "1985-12-01" not in json.dumps(ev)
    assert "VIP" not in json.dumps(ev, ensure_ascii=False)
    assert unseal(a.uow.cipher, fields["birthday_enc"], context=BIRTHDAY_CTX) == "1985-12-01"
    assert json.loads(unseal(a.uow.cipher, fields["tags_enc"], context=TAGS_CTX) or "") == [
        "孕婴", "VIP甲"]


def test_a_version_2_tags_edit_from_an_older_till_applies(a: Till, b: Till) -> None:
    """An edit written before version 3 (its tags in clear) is upcast with the chain's key
    and applied as a version 3 one is; a later version 3 edit of the tags wins over it."""
    card = a.register()
    apply(b, of_type(a, "member.registered"))
    update_profile(a.uow, clerk=a.manager, member_id=card.id, tags=("老客",))
    (ev,) = of_type(a, "member.profile_updated")
    fields = {k: v for k, v in ev["payload"]["fields"].items() if k != "tags_enc"}
    old = {**ev, "payload_version": 2,
           "payload": {**ev["payload"], "fields": {**fields, "tags": ["老客"]}}}
    apply(b, [old], first=10)
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).tags == ("老客",)
    a.clock.advance(minutes=5)
    update_profile(a.uow, clerk=a.manager, member_id=card.id, tags=("老客", "孕婴"))
    apply(b, [of_type(a, "member.profile_updated")[-1]], first=11)
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).tags == ("老客", "孕婴")


def test_a_version_2_registration_from_an_older_till_applies_with_its_tags(
        a: Till, b: Till) -> None:
    card = a.register(tags=("老客",))
    (ev,) = of_type(a, "member.registered")
    p = {k: v for k, v in ev["payload"].items() if k != "tags_enc"}
    apply(b, [{**ev, "payload_version": 2, "payload": {**p, "tags": ["老客"]}}])
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).tags == ("老客",)


def test_a_version_1_registration_from_an_older_till_applies(a: Till, b: Till) -> None:
    card = a.register(name="李娜", gender=Gender.FEMALE, birthday=date(1990, 5, 17))
    (ev,) = of_type(a, "member.registered")
    old = {**ev, "payload_version": 1,
           "payload": as_version_1(ev["payload"], gender="F", birthday="1990-05-17")}
    apply(b, [old])
    found = find_member(b.uow, clerk=b.cashier, code=card.member_no)
    assert (found.id, found.gender, found.birthday_month) == (card.id, Gender.FEMALE, 5)
    revealed = reveal_personal_data(b.uow, clerk=b.manager, member_id=card.id)
    assert revealed.birthday == date(1990, 5, 17)


def test_a_version_1_profile_edit_from_an_older_till_applies(a: Till, b: Till) -> None:
    card = a.register(birthday=date(1990, 5, 17))
    apply(b, of_type(a, "member.registered"))
    update_profile(a.uow, clerk=a.manager, member_id=card.id, birthday=date(1985, 12, 1),
                   gender=Gender.MALE)
    (ev,) = of_type(a, "member.profile_updated")
    old = {**ev, "payload_version": 1,
           "payload": {**ev["payload"], "fields": as_version_1(
               ev["payload"]["fields"], gender="M", birthday="1985-12-01")}}
    apply(b, [old], first=10)
    found = find_member(b.uow, clerk=b.cashier, code=card.member_no)
    assert (found.gender, found.birthday_month) == (Gender.MALE, 12)


def test_version_1_and_version_2_edits_of_one_field_resolve_alike(a: Till, b: Till) -> None:
    """Last writer wins per field whatever version each edit was written at: a later version
    2 edit beats an earlier version 1 edit of the same field, in either order of arrival."""
    card = a.register()
    apply(b, of_type(a, "member.registered"))
    update_profile(a.uow, clerk=a.manager, member_id=card.id, birthday=date(1980, 1, 2))
    (first,) = of_type(a, "member.profile_updated")
    old = {**first, "payload_version": 1,
           "payload": {**first["payload"], "fields": as_version_1(
               first["payload"]["fields"], gender=None, birthday="1980-01-02")}}
    a.clock.advance(minutes=5)
    update_profile(a.uow, clerk=a.manager, member_id=card.id, birthday=date(1981, 3, 4))
    newer = of_type(a, "member.profile_updated")[-1]
    apply(b, [newer], first=10)
    apply(b, [old], first=11)
    assert find_member(b.uow, clerk=b.cashier, code=card.member_no).birthday_month == 3


def test_an_event_is_recorded_only_with_its_own_declared_payload(a: Till) -> None:
    card = a.register()
    before = a.table_counts()
    with a.uow.begin() as tx, pytest.raises(TypeError):
        tx.record(a.cashier, SV_FROZEN, PinSet(member_id=card.id, pin_hash="$argon2id$x"))
    assert a.table_counts() == before


def test_a_birthday_sealed_with_another_key_is_refused_and_the_page_goes_on(
        a: Till, b: Till) -> None:
    first, second = a.register(birthday=date(1990, 5, 17)), a.register()
    regs = of_type(a, "member.registered")
    stranger = PiiCipher(os.urandom(64))
    bad = {**regs[0], "payload": {**regs[0]["payload"], "birthday_enc": seal(
        stranger, "1990-05-17", context=BIRTHDAY_CTX)}}
    apply(b, [bad, regs[1]])
    with pytest.raises(MemberNotFound):
        find_member(b.uow, clerk=b.cashier, code=first.member_no)
    assert find_member(b.uow, clerk=b.cashier, code=second.member_no).id == second.id
