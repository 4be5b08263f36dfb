"""Push: each event stored exactly once, in per-device sequence order, with a global position."""

from __future__ import annotations

from sync.protocol import Ack, ErrorBody
from tests.server.factories import LiveServer


def acks(server: LiveServer, device_id: str | None = None) -> list[Ack]:
    """The stored rows as acknowledgements, in position order (positions are gapless on
    SQLite; on PostgreSQL they come from the writing transaction, so a test compares with
    what is stored, not with 1, 2, 3)."""
    return [Ack(seq=r.seq, position=r.position) for r in server.events_table()
            if device_id is None or r.device_id == device_id]


def test_push_stores_events_and_acknowledges_their_positions(server: LiveServer) -> None:
    till = server.enrol()
    answer = till.push(till.events(3))
    assert answer.stored == acks(server)
    if server.backend == "sqlite":
        assert [a.position for a in answer.stored] == [1, 2, 3]
    assert answer.duplicates == [] and answer.held == []
    assert answer.acked_through == 3
    assert [r.seq for r in server.events_table()] == [1, 2, 3]


def test_a_retry_answers_duplicates_with_the_same_positions_and_writes_nothing(
    server: LiveServer,
) -> None:
    till = server.enrol()
    batch = till.events(3)
    first = till.push(batch)
    before = server.table_counts()
    retry = till.push(batch)
    assert retry.stored == []
    assert retry.duplicates == first.stored
    assert retry.acked_through == 3
    assert server.table_counts() == before


def test_the_same_event_twice_in_one_request_is_stored_once(server: LiveServer) -> None:
    till = server.enrol()
    e = till.event()
    answer = till.push([e, e])
    assert answer.stored == acks(server) and [a.seq for a in answer.stored] == [1]
    assert len(server.events_table()) == 1


def test_a_stored_event_id_under_a_new_seq_is_a_conflict_and_nothing_is_written(
    server: LiveServer,
) -> None:
    till = server.enrol()
    first = till.event()
    till.push([first])
    before = server.table_counts()
    response = till.push_raw([till.event(), first.model_copy(update={"seq": 3})])
    assert response.status_code == 409
    assert ErrorBody.model_validate_json(response.content).code == "conflict"
    assert server.table_counts() == before


def test_a_reordered_batch_holds_3_until_2_arrives(server: LiveServer) -> None:
    till = server.enrol()
    e1, e2, e3 = till.events(3)
    first = till.push([e1, e3])
    assert first.stored == acks(server) and [a.seq for a in first.stored] == [1]
    assert first.held == [3]
    assert first.acked_through == 1
    assert [r.seq for r in server.events_table()] == [1]

    second = till.push([e2])
    assert second.stored == acks(server)[1:] and [a.seq for a in second.stored] == [2, 3]
    assert second.held == []
    assert second.acked_through == 3
    assert server.table_counts()["held_events"] == 0


def test_a_held_event_pushed_again_stays_held_once(server: LiveServer) -> None:
    till = server.enrol()
    _, e2 = till.events(2)
    assert till.push([e2]).held == [2]
    assert till.push([e2]).held == [2]
    assert server.table_counts()["held_events"] == 1
    assert server.table_counts()["events"] == 0


def test_events_of_another_store_are_refused_and_nothing_is_written(server: LiveServer) -> None:
    till = server.enrol()
    other = server.enrol()
    mine = till.event()
    theirs = till.event().model_copy(update={"store_id": other.store_id})
    before = server.table_counts()
    response = till.push_raw([mine, theirs])
    assert response.status_code == 403
    assert ErrorBody.model_validate(response.json()).code == "forbidden"
    assert server.table_counts() == before


def test_events_under_another_device_id_are_refused(server: LiveServer) -> None:
    store = server.store()
    till, neighbour = server.enrol(store), server.enrol(store)
    forged = till.event().model_copy(update={"device_id": neighbour.id})
    before = server.table_counts()
    response = till.push_raw([forged])
    assert response.status_code == 403
    assert server.table_counts() == before


def test_a_request_for_another_device_is_refused(server: LiveServer) -> None:
    till, other = server.enrol(), server.enrol()
    body = {"device_id": other.id, "events": []}
    response = server.http.post("/v1/push", json=body, headers=till.headers)
    assert response.status_code == 403


def test_an_unknown_event_type_is_stored_and_relayed(server: LiveServer) -> None:
    till = server.enrol()
    answer = till.push([till.event(type="coupon.future_thing", payload={"x": [1, "二"]})])
    assert answer.acked_through == 1
    [change] = till.pull().changes
    assert change.event.type == "coupon.future_thing"
    assert change.event.payload == {"x": [1, "二"]}


def test_two_devices_have_their_own_sequences(server: LiveServer) -> None:
    a, b = server.enrol(), server.enrol()
    first = a.push(a.events(2))
    answer = b.push(b.events(2))
    assert answer.stored == acks(server, b.id) and [s.seq for s in answer.stored] == [1, 2]
    assert answer.stored[0].position > first.stored[-1].position


def test_a_seq_far_beyond_any_gap_is_refused_and_nothing_is_written(server: LiveServer) -> None:
    till = server.enrol()
    before = server.table_counts()
    response = till.push_raw([till.event(), till.event(seq=200_000)])
    assert response.status_code == 422
    assert server.table_counts() == before


def test_payload_text_and_fields_are_stored_as_they_arrived(server: LiveServer) -> None:
    """PostgreSQL stores a batch by a binary COPY (``log._copy_events``): backslashes and raw
    whitespace between a payload's tokens come back as sent, and so does a backslash in a
    text field."""
    import json

    from sqlalchemy import Text, cast, select

    from sync.server.models import Event

    till = server.enrol()
    payload = '{"a":\n\t"back\\\\slash \\" quote \\t tab",\r\n "b": ["二", 1.50]}'
    for entity_id in (None, "x\\y"):
        event = till.event().model_dump(mode="json") | {"entity_id": entity_id}
        body = json.dumps({"device_id": till.id, "events": [event]}).replace(
            json.dumps(event["payload"]), payload)
        assert payload in body
        response = server.http.post("/v1/push", content=body.encode(), headers={
            **till.headers, "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
    with server.ctx.db.read() as conn:
        rows = conn.execute(select(Event.entity_id, cast(Event.payload, Text))
                            .order_by(Event.seq)).all()
    assert [r[0] for r in rows] == [None, "x\\y"]
    assert [json.loads(r[1]) for r in rows] == [json.loads(payload)] * 2
    if server.backend == "postgresql":  # json keeps the text as it came
        assert [r[1] for r in rows] == [payload] * 2
