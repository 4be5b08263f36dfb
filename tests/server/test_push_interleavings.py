"""Hypothesis: any interleaving of partial, repeated and re-ordered batches from one till ends
with every event stored once, in seq order, each keeping the position it was first given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.protocol import PushRequest
from sync.server import services
from tests.server.factories import LiveServer

N = 8
batches = st.lists(st.lists(st.integers(0, N - 1), max_size=N), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches)
def test_any_interleaving_stores_each_event_once_in_order(
    server: LiveServer, batches: list[list[int]]
) -> None:
    till = server.enrol()  # a fresh device per example: its sequence starts at 1
    device = services.authenticate(server.ctx, token=till.enrolment.token)
    events = till.events(N)
    positions: dict[int, int] = {}
    pushed: set[int] = set()
    for batch in [*batches, list(range(N))]:
        request = PushRequest(device_id=till.id, events=[events[i] for i in batch])
        answer = services.push(server.ctx, device=device, request=request)
        pushed.update(events[i].seq for i in batch)
        contiguous = 0
        while contiguous + 1 in pushed:
            contiguous += 1
        assert answer.acked_through == contiguous
        for ack in answer.stored:
            assert ack.seq not in positions
            positions[ack.seq] = ack.position
        for ack in answer.duplicates:
            assert positions[ack.seq] == ack.position
        assert set(answer.held) == {events[i].seq for i in batch} - set(positions)
    rows = [r for r in server.events_table() if r.device_id == till.id]
    assert [r.seq for r in rows] == list(range(1, N + 1))
    assert {r.seq: r.position for r in rows} == positions
