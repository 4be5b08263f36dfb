"""Forks: an event's identity is its id. A pushed event that contradicts the stored log under
its ``(device, seq)`` refuses the whole request (409 ``fork``), stores nothing of it and raises
one ``fork`` flag for HQ; a request that contradicts itself is refused whole (409
``conflict``)."""

from __future__ import annotations

from typing import Any

from sync.protocol import ErrorBody
from sync.server import services
from tests.server.factories import LiveServer


def _without_flags(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if name != "flags"}


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 409, response.text
    assert ErrorBody.model_validate_json(response.content).code == code


def test_another_event_under_a_stored_seq_is_a_fork_stored_nowhere_and_flagged(
    server: LiveServer,
) -> None:
    till = server.enrol()
    till.push(till.events(2))
    before = server.table_counts()
    restored = till.event(seq=2)  # a copy of the till wrote its own seq 2
    new = till.event(seq=3)
    response = till.push_raw([restored, new])
    _refused(response, "fork")
    assert _without_flags(server.table_counts()) == _without_flags(before)
    flags = [f for f in services.list_flags(server.ctx) if f.kind == "fork"]
    assert len(flags) == 1
    detail = flags[0].detail
    assert detail["device_id"] == till.id and detail["seq"] == 2
    assert detail["pushed_event_id"] == restored.id
    assert detail["stored_event_id"] == server.events_table()[1].id
    assert flags[0].store_id == till.store_id


def test_a_fork_pushed_again_raises_no_second_flag_while_one_is_open(server: LiveServer) -> None:
    till = server.enrol()
    till.push(till.events(1))
    other = till.event(seq=1)
    _refused(till.push_raw([other]), "fork")
    _refused(till.push_raw([other]), "fork")
    assert len([f for f in services.list_flags(server.ctx) if f.kind == "fork"]) == 1


def test_another_event_under_a_held_seq_is_a_fork(server: LiveServer) -> None:
    till = server.enrol()
    e1, _e2, e3 = till.events(3)
    assert till.push([e1, e3]).held == [3]
    before = server.table_counts()
    _refused(till.push_raw([till.event(seq=3)]), "fork")
    assert _without_flags(server.table_counts()) == _without_flags(before)


def test_an_event_stored_under_another_device_is_a_fork(server: LiveServer) -> None:
    store = server.store()
    one, two = server.enrol(store), server.enrol(store)
    moved = one.event()
    one.push([moved])
    copy = moved.model_copy(update={"device_id": two.id, "seq": 1})
    before = server.table_counts()
    _refused(two.push_raw([copy]), "fork")
    assert _without_flags(server.table_counts()) == _without_flags(before)


def test_two_different_events_under_one_seq_in_one_request_are_refused_whole(
    server: LiveServer,
) -> None:
    till = server.enrol()
    first = till.event(seq=1)
    second = till.event(seq=1)
    before = server.table_counts()
    _refused(till.push_raw([first, second]), "conflict")
    assert server.table_counts() == before


def test_one_event_under_two_seqs_in_one_request_is_refused_whole(server: LiveServer) -> None:
    till = server.enrol()
    e1 = till.event(seq=1)
    before = server.table_counts()
    _refused(till.push_raw([e1, e1.model_copy(update={"seq": 2})]), "conflict")
    assert server.table_counts() == before
