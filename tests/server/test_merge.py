"""One member per phone, chain-wide: two stores registering the same phone offline are merged
at sync; the earlier registration (by hybrid timestamp) wins."""

from __future__ import annotations

import uuid

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from sync.protocol import WireEvent
from sync.server import services
from sync.server.models import SERVER_DEVICE_ID, SERVER_STORE_ID
from tests.server.factories import Device, LiveServer

PHONE_INDEX = "a" * 64


def _registration(till: Device, *, member_no: str, minutes: int,
                  phone_index: str = PHONE_INDEX) -> WireEvent:
    hlc = HLCTimestamp(to_ms(till.server.clock.now()) - 60_000 * (10 - minutes), 0).pack()
    return till.event(type="member.registered", hlc=hlc, payload=till.registered({
        "member_id": str(uuid.uuid4()), "member_no": member_no, "phone_index": phone_index,
    }))


def _merges(till: Device) -> list[WireEvent]:
    return [c.event for c in till.pull().changes if c.event.type == "member.merged"]


def test_the_same_phone_from_two_stores_merges_into_the_earlier_registration(
    server: LiveServer,
) -> None:
    a, b = server.enrol(), server.enrol()
    early = _registration(a, member_no="0001010000011", minutes=1)
    late = _registration(b, member_no="0002010000014", minutes=2)
    b.push([late])  # the later registration reaches the server first
    a.push([early])
    [merged] = _merges(a)
    assert merged.store_id == SERVER_STORE_ID and merged.device_id == SERVER_DEVICE_ID
    assert merged.entity_id == early.payload["member_id"]
    assert merged.payload == {
        "winner_member_id": early.payload["member_id"],
        "loser_member_id": late.payload["member_id"],
        "winner_member_no": "0001010000011",
        "loser_member_no": "0002010000014",
    }
    [flag] = [f for f in services.list_flags(server.ctx) if f.kind == "member_merged"]
    assert flag.detail["winner_member_id"] == early.payload["member_id"]
    assert flag.detail["event_id"] == merged.id


def test_a_merge_is_announced_once_even_when_pushes_are_retried(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    early = _registration(a, member_no="0001010000011", minutes=1)
    late = _registration(b, member_no="0002010000014", minutes=2)
    a.push([early])
    b.push([late])
    a.push([early])
    b.push([late])
    assert len(_merges(a)) == 1


def test_equal_timestamps_are_broken_by_the_smaller_event_id(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    one = _registration(a, member_no="0001010000011", minutes=1)
    two = _registration(b, member_no="0002010000014", minutes=1)
    a.push([one])
    b.push([two])
    winner = min((one, two), key=lambda e: e.id)
    [merged] = _merges(a)
    assert merged.payload["winner_member_id"] == winner.payload["member_id"]


def test_different_phones_do_not_merge(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    a.push([_registration(a, member_no="0001010000011", minutes=1)])
    b.push([_registration(b, member_no="0002010000014", minutes=2, phone_index="b" * 64)])
    assert _merges(a) == []


def test_a_registration_without_a_phone_index_is_refused_and_merges_nothing(
    server: LiveServer,
) -> None:
    """It was relayed; the push is refused now (``sync.server.payloads``)."""
    a = server.enrol()
    answer = a.push_raw([a.event(type="member.registered", payload={"member_id": 5})])
    assert answer.status_code == 422 and "member.registered" in answer.json()["message"]
    assert _merges(a) == []
