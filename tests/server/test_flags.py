"""Flags for HQ: clocks running ahead; flags the tills raised (registration bursts)."""

from __future__ import annotations

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from sync.server import services
from tests.server.factories import LiveServer


def _ahead(server: LiveServer, **delta: float) -> str:
    from datetime import timedelta

    return HLCTimestamp(to_ms(server.clock.now() + timedelta(**delta)), 0).pack()


def _clock_flags(server: LiveServer) -> list[services.FlagView]:
    return [f for f in services.list_flags(server.ctx) if f.kind == "clock_ahead"]


def test_an_event_over_5_minutes_ahead_is_stored_and_flagged(server: LiveServer) -> None:
    till = server.enrol()
    answer = till.push([till.event(hlc=_ahead(server, minutes=6))])
    assert answer.acked_through == 1
    [flag] = _clock_flags(server)
    assert flag.store_id == till.store_id
    assert flag.detail["device_id"] == till.id
    assert flag.detail["ahead_ms"] == 6 * 60_000


def test_an_event_within_5_minutes_is_not_flagged(server: LiveServer) -> None:
    till = server.enrol()
    till.push([till.event(hlc=_ahead(server, minutes=4, seconds=59))])
    assert _clock_flags(server) == []


def test_a_clock_ahead_is_flagged_once_per_device_per_hour(server: LiveServer) -> None:
    till, other = server.enrol(), server.enrol()
    till.push([till.event(hlc=_ahead(server, hours=1))])
    server.clock.advance(minutes=30)
    till.push([till.event(hlc=_ahead(server, hours=1))])
    other.push([other.event(hlc=_ahead(server, hours=1))])
    assert len(_clock_flags(server)) == 2
    server.clock.advance(minutes=31)
    till.push([till.event(hlc=_ahead(server, hours=1))])
    assert len(_clock_flags(server)) == 3


def test_a_flag_raised_at_a_till_joins_hqs_list_once(server: LiveServer) -> None:
    till = server.enrol()
    raised = till.event(type="flag.raised", payload={
        "flag_id": "f-1", "kind": "registration_burst", "registrations": 30,
        "window_minutes": 10, "clerk_id": None, "clerk_name": "张三"})
    till.push([raised])
    till.push([raised])  # a retried batch: a duplicate, no second flag
    [flag] = [f for f in services.list_flags(server.ctx) if f.kind == "registration_burst"]
    assert flag.store_id == till.store_id
    assert (flag.detail["registrations"], flag.detail["flag_id"]) == (30, "f-1")
    assert flag.detail["device_id"] == till.id


def test_the_latest_wall_time_of_a_push_is_read_as_its_numbers() -> None:
    """``push_flags._latest_wall_ms`` compares the hlcs as text: they are ASCII digits (the
    contract refuses other scripts' digits, tests/server/test_wire.py)."""
    from types import SimpleNamespace

    from sync.server.push_flags import _latest_wall_ms

    for hlcs, wall in [
        (["001767603600002-000009", "001767603600010-000000"], 1767603600010),
        (["001767603600010-000000", "001767603600009-999999"], 1767603600010),
    ]:
        assert _latest_wall_ms([SimpleNamespace(hlc=h) for h in hlcs]) == wall, hlcs
