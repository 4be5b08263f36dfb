"""The event declarations: one per type, versions read and upcast in one place."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pos_member import events
from pos_member.crypto import PiiCipher
from pos_member.events import (
    EVENTS,
    MalformedPayload,
    NewerEventVersion,
    UnknownEventType,
    decode,
    encode,
)

ROOT = Path(__file__).resolve().parents[2]
_TYPE = re.compile(r'"((?:member|sv|points|sale|staff|kpi|device|rules|flag)\.[a-z_]+)"')


def test_each_event_type_string_is_written_in_one_declaration_only() -> None:
    """Outside the declarations, code names an event type through its declaration: the type
    string itself is written once (tests, docs and migrations aside: a migration keeps its own
    copy of what it reads, as it was at its revision)."""
    files = subprocess.run(["git", "ls-files", "pos_member", "sync", "ui"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    found: dict[str, list[str]] = {}
    for name in files:
        if not name.endswith(".py") or "/migrations/" in name:
            continue
        for t in _TYPE.findall((ROOT / name).read_text(encoding="utf-8")):
            if t in EVENTS:
                found.setdefault(t, []).append(name)
    assert {t: where for t, where in found.items() if len(where) > 1} == {}
    assert {t: where for t, where in found.items()
            if not all(w.startswith("pos_member/events/") for w in where)} == {}


def test_an_unknown_type_or_a_newer_version_is_a_specific_error() -> None:
    with pytest.raises(UnknownEventType):
        decode("voucher.issued", 1, {"member_id": "m"})
    with pytest.raises(NewerEventVersion):
        decode("sv.frozen", 2, {"member_id": "m", "reason": "lost card"})
    with pytest.raises(MalformedPayload):
        decode("sv.frozen", 1, {"member_id": 7, "reason": "lost card"})
    with pytest.raises(MalformedPayload):
        decode("sv.frozen", 0, {"member_id": "m", "reason": "lost card"})
    with pytest.raises(MalformedPayload):
        decode("sv.frozen", 1, b"[1, 2]")


def test_decode_reads_raw_json_and_encode_writes_it_back_field_for_field() -> None:
    raw = {"member_id": "m1", "from": "regular", "to": "silver", "reason": "upgrade",
           "at": "2026-05-01T10:00:00+00:00", "spend_fen": 120000, "growth": 30}
    typed = decode("member.tier_changed", 1, events.base.msgspec.json.encode(raw))
    assert isinstance(typed, events.MemberTierChanged)
    assert typed.from_ == "regular"
    assert encode(typed) == raw
    assert list(encode(typed)) == list(raw)


def test_every_declaration_has_an_upcaster_from_each_older_version() -> None:
    for declared in EVENTS.values():
        assert set(declared.upcasters) == set(range(1, declared.version)), declared.type


def test_a_v1_registration_is_upcast_to_sealed_personal_fields() -> None:
    cipher = PiiCipher(os.urandom(64))
    v1 = {"member_id": "m1", "member_no": "0001010000001", "phone_index": "ab",
          "phone_enc": base64.b64encode(b"x").decode(), "name_enc": None, "gender": "F",
          "birthday": "1990-05-17", "tags": [], "source_channel": "store",
          "registered_at": "2026-01-01T00:00:00+00:00", "privacy_policy_version": "1",
          "privacy_consent_at": "2026-01-01T00:00:00+00:00"}
    typed = decode("member.registered", 1, v1, sealer=cipher)
    assert isinstance(typed, events.MemberRegistered)
    assert events.unseal(cipher, typed.birthday_enc, context=events.BIRTHDAY_CTX) \
        == "1990-05-17"
    assert events.unseal(cipher, typed.gender_enc, context=events.GENDER_CTX) == "F"
    assert "birthday" not in encode(typed) and "gender" not in encode(typed)
    with pytest.raises(events.EventNotReadable):
        decode("member.registered", 1, v1)  # sealing needs the chain's data key


def test_the_declarations_import_nothing_but_msgspec_and_the_standard_library() -> None:
    code = ("import sys, json; import pos_member.events; "
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded = done.stdout
    for heavy in ("sqlalchemy", "argon2", "pos_member.services", "pos_member.db", "PySide6"):
        assert f'"{heavy}' not in loaded, heavy


def test_a_field_the_old_payload_left_out_stays_out() -> None:
    """A stand-alone set-up's ``device.set_up`` never had ``enrolled``; an enrolment's has."""
    fields = dict(store_id="s", store_number=1, store_name="门店1", device_id="d",
                  device_number=1, device_name="收银台")
    assert "enrolled" not in encode(events.DeviceSetUp(**fields))
    assert encode(events.DeviceSetUp(**fields, enrolled=True))["enrolled"] is True
