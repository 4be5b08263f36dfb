from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pos_member.services.outbox import (
    acked_through,
    last_sync_at,
    mark_acked,
    pending_count,
    pending_events,
    set_last_sync_at,
    sync_cursor,
)
from sync.protocol import WireEvent
from tests.factories import Till


def device(till: Till) -> str:
    assert till.app.identity is not None
    return till.app.identity.device_id


def test_pending_events_are_every_unacknowledged_event_in_sequence_order(till: Till) -> None:
    till.register()
    till.register()
    events = pending_events(till.uow, device_id=device(till), limit=100)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e["type"] for e in events][-8:] == [
        "member.registered", "points.welcome", "coupon.issued", "coupon.issued"] * 2


def test_pending_events_have_the_wire_shape(till: Till) -> None:
    till.register()
    for e in pending_events(till.uow, device_id=device(till), limit=100):
        WireEvent.model_validate(e)  # raises if a field is missing or malformed


def test_pending_events_stop_at_the_limit(till: Till) -> None:
    assert len(pending_events(till.uow, device_id=device(till), limit=2)) == 2


def test_pending_events_refuse_a_limit_below_one(till: Till) -> None:
    with pytest.raises(ValueError):
        pending_events(till.uow, device_id=device(till), limit=0)


def test_acknowledged_events_are_no_longer_pending(till: Till) -> None:
    total = pending_count(till.uow, device_id=device(till))
    mark_acked(till.uow, device_id=device(till), acked_through=3)
    assert pending_count(till.uow, device_id=device(till)) == total - 3
    assert pending_events(till.uow, device_id=device(till), limit=1)[0]["seq"] == 4


def test_the_acknowledgement_mark_never_moves_back(till: Till) -> None:
    mark_acked(till.uow, device_id=device(till), acked_through=4)
    assert mark_acked(till.uow, device_id=device(till), acked_through=2) == 4
    assert acked_through(till.uow, device_id=device(till)) == 4


def test_an_acknowledgement_beyond_the_last_event_is_capped(till: Till) -> None:
    total = pending_count(till.uow, device_id=device(till))
    assert mark_acked(till.uow, device_id=device(till), acked_through=total + 50) == total
    assert pending_count(till.uow, device_id=device(till)) == 0


def test_events_written_after_an_acknowledgement_are_pending(till: Till) -> None:
    total = pending_count(till.uow, device_id=device(till))
    mark_acked(till.uow, device_id=device(till), acked_through=total)
    till.register()
    assert [e["type"] for e in pending_events(till.uow, device_id=device(till), limit=9)] == [
        "member.registered", "points.welcome", "coupon.issued", "coupon.issued"
    ]


def test_a_new_till_has_cursor_zero_and_has_never_synced(till: Till) -> None:
    assert sync_cursor(till.uow) == 0
    assert last_sync_at(till.uow) is None


def test_last_sync_time_is_remembered(till: Till) -> None:
    at = datetime(2026, 1, 5, 21, 30, tzinfo=UTC)
    set_last_sync_at(till.uow, at=at)
    assert last_sync_at(till.uow) == at
