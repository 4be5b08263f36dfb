"""The server's fast push decoder (``sync.server.wire``) against the contract (``PushRequest``):
it accepts what the contract accepts, with the same values, and refuses what it refuses."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from sync.protocol import MAX_BATCH, OutboxBatch, PushRequest
from sync.server.errors import PushRefused
from sync.server.log import _EVENT_TABLE, _stamp
from sync.server.wire import IncomingEvent, decode_push, registration_fields

NOW = "2026-11-25T04:40:04.123456+00:00"
# An hlc's digits in other scripts: ``\\d`` takes them, the contract does not (ASCII only)
ARABIC_INDIC = "".join(chr(0x660 + int(d)) for d in "001767603600002")
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "001767603600002")


def _event(seq: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"{seq:036d}", "store_id": "s1", "device_id": "d1", "seq": seq,
        "clerk_id": None, "hlc": f"{1767603600000 + seq:015d}-000000",
        "type": "member.registered", "entity_id": None, "payload_version": 1,
        "payload": {"phone_index": "ab" * 32, "member_id": "m1", "member_no": "0001",
                    "tags": ["vip"], "name": "二"},
        "rules_version": "2026.1", "created_at": NOW,
    } | changes


def _body(*events: dict[str, Any], **changes: Any) -> bytes:
    return json.dumps({"device_id": "d1", "events": list(events)} | changes).encode()


def test_a_decoded_event_equals_the_contracts() -> None:
    body = _body(_event(1), _event(2, clerk_id="c1", created_at="2026-11-25T12:40:04+08:00"))
    decoded = decode_push(body)
    expected = PushRequest.model_validate_json(body)
    assert [e.to_json_dict() for e in decoded.events] == [
        e.model_dump(mode="json") for e in expected.events
    ]
    assert [e.payload for e in decoded.events] == [e.payload for e in expected.events]
    assert registration_fields(decoded.events[0]) == ("ab" * 32, "m1", "0001")


def test_the_payload_is_kept_as_the_text_that_arrived() -> None:
    body = b'{"device_id": "d1", "events": [' + json.dumps(_event()).replace(
        '"payload": {', '"payload":   {"x": [1, 2.50],').encode() + b"]}"
    [event] = decode_push(body).events
    assert event.payload_text.startswith('{"x": [1, 2.50],')


@pytest.mark.parametrize("changes", [
    {"seq": 0}, {"seq": 1.5}, {"payload_version": 0}, {"id": "short"},
    {"hlc": "1767603600000-000000"}, {"hlc": "001767603600001-000000\n"},
    {"hlc": ARABIC_INDIC + "-000000"}, {"hlc": "001767603600001-" + FULLWIDTH[:6]},
    {"type": ""}, {"rules_version": "x" * 33}, {"payload": [1]}, {"payload": "{}"},
    {"created_at": "yesterday"}, {"extra": 1},
])
def test_what_the_contract_refuses_is_refused(changes: dict[str, Any]) -> None:
    body = _body(_event() | changes)
    with pytest.raises(ValueError):
        PushRequest.model_validate_json(body)
    with pytest.raises(PushRefused) as refused:
        decode_push(body)
    assert refused.value.errors  # pydantic's own list, for the 422 message


@pytest.mark.parametrize("hlc", ["001767603600002-000000\n", "001767603600002_000000",
                                 "00176760360000\x00-000000", "0017676036000-2-000000",
                                 ARABIC_INDIC + "-000000", FULLWIDTH + "-000000"])
def test_one_malformed_hlc_among_many_is_refused_at_its_place(hlc: str) -> None:
    body = _body(*(_event(seq, hlc=hlc) if seq == 2 else _event(seq) for seq in (1, 2, 3)))
    with pytest.raises(PushRefused) as refused:
        decode_push(body)
    assert [e["loc"] for e in refused.value.errors] == [("events", 1, "hlc")]


def test_a_missing_field_and_malformed_json_are_refused() -> None:
    event = _event()
    del event["rules_version"]
    for body in (_body(event), b'{"device_id": "d1", "events": [', b""):
        with pytest.raises(PushRefused):
            decode_push(body)


def test_a_batch_over_the_limit_is_refused() -> None:
    with pytest.raises(PushRefused):
        decode_push(_body(*(_event(i) for i in range(1, MAX_BATCH + 2))))


def test_what_only_the_contract_takes_is_taken_through_it() -> None:
    """Lax values the fast decoder does not coerce (a seq as text) take the contract's path
    and come out as the contract reads them; NaN in a payload, which the contract reads, is
    refused there (it was stored as null)."""
    body = _body(_event(3) | {"seq": "3"})
    [event] = decode_push(body).events
    assert event.seq == 3
    with pytest.raises(PushRefused) as refused:
        decode_push(body.replace(b'"name": "\\u4e8c"', b'"name": NaN'))
    assert "NaN" in refused.value.errors[0]["msg"]


def test_an_outbox_batch_encodes_what_the_contract_reads() -> None:
    batch = OutboxBatch(device_id="d1", events=[_event(1), _event(2)])
    assert PushRequest.model_validate_json(batch.to_json()) == batch.request()
    assert [e.to_json_dict() for e in decode_push(batch.to_json()).events] == [
        e.model_dump(mode="json") for e in batch.request().events
    ]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()],
                         ids=["sqlite", "postgresql"])
def test_event_times_are_bound_as_the_column_type_binds_them(dialect: Any) -> None:
    bind = _EVENT_TABLE.c.created_at.type._cached_bind_processor(dialect)
    rng = random.Random(7)
    zones = [UTC, *(timezone(timedelta(hours=h)) for h in (0, 8, -3))]
    for _ in range(500):
        moment = datetime(rng.randrange(1000, 9000), rng.randrange(1, 13), rng.randrange(1, 29),
                          rng.randrange(24), rng.randrange(60), rng.randrange(60),
                          rng.choice([0, rng.randrange(10**6)]), tzinfo=rng.choice(zones))
        assert _stamp(dialect)(moment) == bind(moment)
    naive = datetime(2026, 1, 1, 12)  # noqa: DTZ001 - a naive time is what is tested
    assert _stamp(dialect)(naive) == bind(naive.replace(tzinfo=UTC))


def test_an_incoming_event_round_trips_a_contract_event() -> None:
    expected = PushRequest.model_validate_json(_body(_event())).events[0]
    assert IncomingEvent.from_wire(expected).to_json_dict() == expected.model_dump(mode="json")
