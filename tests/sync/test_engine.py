"""The sync engine against an in-memory server: batching, acknowledgement, paging, closing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pos_member.bootstrap import bootstrap
from pos_member.crypto import MemoryKeyStore
from pos_member.errors import TillNotFresh
from pos_member.services.enrolment import device_token
from pos_member.services.member_cards import find_member
from pos_member.services.outbox import (
    SERVER_URL,
    get_sync_setting,
    last_sync_at,
    pending_count,
    sync_cursor,
)
from sync.engine import CLOSE_PATIENCE_S, close_day, enrol, sync_once
from sync.errors import ServerRefused, ServerUnavailable
from tests.factories import Till, make_till, server_event
from tests.sync.fake_server import FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def a(tmp_path: Path, server: FakeServer) -> Till:
    return make_till(tmp_path, store_number=1, data_key=server.data_key)


@pytest.fixture
def b(tmp_path: Path, server: FakeServer) -> Till:
    return make_till(tmp_path, store_number=2, data_key=server.data_key)


def device(till: Till) -> str:
    assert till.app.identity is not None
    return till.app.identity.device_id


def test_a_sync_pushes_every_unsent_event_once(a: Till, server: FakeServer) -> None:
    a.register()
    total = pending_count(a.uow, device_id=device(a))
    report = sync_once(a.app, server)
    assert (report.pushed, report.pending) == (total, 0)
    assert server.stored_count(device(a)) == total


def test_events_go_in_batches(a: Till, server: FakeServer) -> None:
    for _ in range(4):
        a.register()
    total = pending_count(a.uow, device_id=device(a))
    sync_once(a.app, server, batch=3)
    assert server.pushes == -(-total // 3)


def test_a_lost_answer_marks_nothing_and_the_retry_stores_nothing_twice(
    a: Till, server: FakeServer,
) -> None:
    total = pending_count(a.uow, device_id=device(a))
    server.lose_next_answer = True
    with pytest.raises(ServerUnavailable):
        sync_once(a.app, server)
    assert pending_count(a.uow, device_id=device(a)) == total
    report = sync_once(a.app, server)
    assert (report.pushed, report.duplicates, report.pending) == (0, total, 0)
    assert len(server.log) == total


def test_a_bare_success_without_acknowledgement_marks_nothing(
    a: Till, server: FakeServer,
) -> None:
    server.forgetful = True
    total = pending_count(a.uow, device_id=device(a))
    report = sync_once(a.app, server, batch=2)
    assert report.pending == total
    assert server.pushes == 1  # and it did not loop on the same batch


def test_two_tills_see_each_others_members(a: Till, b: Till, server: FakeServer) -> None:
    from_a, from_b = a.register(), b.register()
    sync_once(a.app, server)
    sync_once(b.app, server)
    sync_once(a.app, server)
    assert find_member(a.uow, clerk=a.cashier, code=from_b.member_no).id == from_b.id
    assert find_member(b.uow, clerk=b.cashier, code=from_a.member_no).id == from_a.id


def test_pulling_in_small_pages_reaches_the_end(a: Till, b: Till, server: FakeServer) -> None:
    for _ in range(3):
        a.register()
    sync_once(a.app, server)
    report = sync_once(b.app, server, page=2)
    assert sync_cursor(b.uow) == len(server.log) == report.cursor


def test_a_till_whose_push_hq_refuses_still_pulls_and_says_so(
        a: Till, b: Till, server: FakeServer) -> None:
    """A push refused (422: a payload not as declared) stopped the round before the pull: the
    till saw nothing more of the chain for as long as the event stayed in its outbox."""
    from_b = b.register()
    sync_once(b.app, server)
    a.register()
    waiting = pending_count(a.uow, device_id=device(a))
    server.refusing.add(device(a))
    with pytest.raises(ServerRefused):
        sync_once(a.app, server)
    assert find_member(a.uow, clerk=a.cashier, code=from_b.member_no).id == from_b.id
    assert pending_count(a.uow, device_id=device(a)) == waiting  # kept, not lost


def test_a_sync_records_when_it_happened(a: Till, server: FakeServer) -> None:
    sync_once(a.app, server)
    assert last_sync_at(a.uow) == a.clock.now()


def test_close_day_reports_registrations_per_guide(a: Till, server: FakeServer) -> None:
    a.register(channel="guide", guide_id=a.guide.staff_id)
    a.register(channel="guide", guide_id=a.guide.staff_id)
    a.register()
    report = close_day(a.app, server)
    counts = {g.guide_name: g.registrations for g in report.summary.registrations}
    assert counts == {a.guide.name: 2, None: 1}
    assert report.ok


def test_closing_after_midnight_before_opening_reports_the_day_that_ended(
    a: Till, b: Till, server: FakeServer,
) -> None:
    """A late evening: the manager closes at 00:30 (store time, Asia/Shanghai), before the
    store opens again: the report is the evening's day, not the new empty one. Once the new
    day has a registration or a sale, or the store is open, closing reports the new day."""
    a.clock.set(datetime(2026, 1, 5, 13, 0, tzinfo=UTC))  # 21:00 on 5 January, store time
    a.register(channel="guide", guide_id=a.guide.staff_id)
    a.clock.set(datetime(2026, 1, 5, 16, 30, tzinfo=UTC))  # 00:30 on the 6th
    report = close_day(a.app, server)
    assert (report.summary.day, report.summary.total_registrations) == (date(2026, 1, 5), 1)
    a.register()  # 00:30 on the 6th: the new day has begun
    assert close_day(a.app, server).summary.day == date(2026, 1, 6)
    b.clock.set(datetime(2026, 1, 6, 2, 30, tzinfo=UTC))  # 10:30 on the 6th: open
    assert close_day(b.app, server).summary.day == date(2026, 1, 6)


def test_close_day_with_the_server_down_is_not_ok_but_still_reports(
    a: Till, server: FakeServer,
) -> None:
    a.register()
    server.down = True
    report = close_day(a.app, server)
    assert not report.ok
    assert report.pending > 0
    assert "cannot be reached" in (report.error or "")
    assert report.summary.total_registrations == 1


def test_close_day_waits_out_hq_busy_as_it_asks(a: Till, server: FakeServer) -> None:
    a.register()
    server.busy = [30.0, 40.0]  # the whole chain closing at once: HQ takes tills in turns
    waits: list[float] = []
    report = close_day(a.app, server, sleep=waits.append)
    assert waits == [30.0, 40.0]
    assert report.ok and report.pending == 0
    assert server.stored_count(device(a)) > 0


def test_close_day_gives_up_on_hq_busy_past_its_patience(a: Till, server: FakeServer) -> None:
    a.register()
    server.busy = [CLOSE_PATIENCE_S - 20, 30.0]
    waits: list[float] = []
    report = close_day(a.app, server, sleep=waits.append)
    assert waits == [CLOSE_PATIENCE_S - 20]  # the next wait would pass the patience
    assert not report.ok and report.pending > 0
    assert "cannot be reached" in (report.error or "")


def test_a_pulled_event_the_till_cannot_apply_is_counted_and_the_day_is_not_clean(
    a: Till, server: FakeServer,
) -> None:
    """Issue 13: it was recorded as applied and the day closed clean, the event lost."""
    server.publish(server_event("coupon.issued_in_2030", {"x": 1}))
    assert sync_once(a.app, server).quarantined == 1
    report = close_day(a.app, server)
    assert report.pending == 0 and report.error is None
    assert not report.ok
    assert "Pulled events held, not applied: 1" in report.lines()
    assert report.lines()[-1].startswith("NOT closed: pulled events this till cannot apply")


def test_enrolment_sets_up_a_fresh_till_with_the_servers_identity(
    tmp_path: Path, server: FakeServer,
) -> None:
    keystore = MemoryKeyStore()
    app = bootstrap(tmp_path / "new.sqlite", keystore=keystore)
    ident = enrol(app, server, keystore, code="ABC123", device_name="收银台",
                  server_url="http://hq")
    assert (ident.store_id, ident.device_id, ident.store_number) == ("store-1", "device-1", 1)
    assert device_token(keystore, "device-1") == "token-1"
    assert get_sync_setting(app.uow, SERVER_URL) == "http://hq"
    reopened = bootstrap(tmp_path / "new.sqlite", keystore=keystore)
    assert reopened.identity == ident


def test_enrolment_refuses_a_till_with_members_before_spending_the_code(
    a: Till, server: FakeServer,
) -> None:
    a.register()
    with pytest.raises(TillNotFresh, match="members"):
        enrol(a.app, server, a.keystore, code="ABC123", device_name="x", server_url="http://hq")
    assert server.enrolments == 0


def test_enrolled_tills_read_each_others_personal_data(
    tmp_path: Path, server: FakeServer,
) -> None:
    tills = []
    for name in ("one", "two"):
        keystore = MemoryKeyStore()
        app = bootstrap(tmp_path / f"{name}.sqlite", keystore=keystore)
        enrol(app, server, keystore, code="ABC123", device_name=name, server_url="http://hq")
        tills.append(app)
    one, two = tills
    assert one.identity is not None and two.identity is not None
    from pos_member.services.members import register_member

    card = register_member(one.uow, clerk=one.identity.system_clerk(), phone="13912345678",
                           privacy_consent=True)
    sync_once(one, server)
    sync_once(two, server)
    assert find_member(two.uow, clerk=two.identity.system_clerk(),
                       code="13912345678").id == card.id
