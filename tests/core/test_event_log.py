from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_member.bootstrap import bootstrap
from pos_member.errors import (
    ConsentRequired,
    DomainError,
    DuplicatePhone,
    InvalidPhone,
    LoginFailed,
    RegistrationRateLimited,
)
from pos_member.events import EVENTS
from pos_member.hlc import HLCTimestamp
from pos_member.services.members import REGISTERED, update_profile
from pos_member.services.staff import login
from tests.factories import Till, make_till


def event_rows(path: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("SELECT * FROM events ORDER BY device_id, seq").fetchall()
    finally:
        con.close()


def seqs(path: Path) -> list[int]:
    return [r["seq"] for r in event_rows(path)]


def refuse(till: Till, **kw: object) -> None:
    with pytest.raises(DomainError):
        till.register(**kw)  # type: ignore[arg-type]


# --- the per-device sequence -------------------------------------------------------------


def test_seq_is_gapless_across_many_operations_including_refused_ones(till: Till) -> None:
    first = till.register("13800000001")
    refuse(till, phone="13800000001")  # duplicate
    refuse(till, phone="12800000001")  # invalid phone
    refuse(till, privacy_consent=False)
    till.register()
    update_profile(till.uow, clerk=till.cashier, member_id=first.id, name="王小明")
    update_profile(till.uow, clerk=till.cashier, member_id=first.id, name="王小明")  # no change
    with pytest.raises(LoginFailed):
        login(till.uow, code="1001", secret="000000-wrong", device_id=till.cashier.device_id)
    till.register()
    numbers = seqs(till.path)
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_refused_registration_does_not_consume_a_seq_number(till: Till) -> None:
    before = seqs(till.path)[-1]
    till.register("13800000001")
    last = seqs(till.path)[-1]
    per_registration = last - before  # the registration and its welcome points
    with pytest.raises(DuplicatePhone):
        till.register("13800000001")
    with pytest.raises(InvalidPhone):
        till.register("123")
    till.register()
    numbers = seqs(till.path)
    assert numbers[-1] == last + per_registration
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_transaction_left_without_commit_keeps_neither_its_events_nor_its_seq(
    till: Till,
) -> None:
    before = till.table_counts()
    with till.uow.begin() as tx:
        tx.record(till.cashier, "test.abandoned", {"x": 1})
        tx.session.flush()
    till.register()
    assert "test.abandoned" not in {e["type"] for e in event_rows(till.path)}
    # registered, welcome points, the welcome pack's two coupons
    assert till.table_counts()["events"] == before["events"] + 4
    numbers = seqs(till.path)
    assert numbers == list(range(1, len(numbers) + 1))


# --- what every event carries ------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_till(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Till]:
    """One till with a few registrations and edits, shared by the read-only checks below."""
    till = make_till(tmp_path_factory.mktemp("busy"))
    for _ in range(5):
        card = till.register()
        update_profile(till.uow, clerk=till.cashier, member_id=card.id, tags=("x",))
    yield till
    till.app.close()


def test_every_event_has_a_uuid7_id(busy_till: Till) -> None:
    for row in event_rows(busy_till.path):
        assert uuid.UUID(row["id"]).version == 7


def test_every_event_has_a_hybrid_timestamp(busy_till: Till) -> None:
    for row in event_rows(busy_till.path):
        assert HLCTimestamp.unpack(row["hlc"]).wall_ms > 0


def test_every_event_has_the_rules_and_payload_version(busy_till: Till) -> None:
    version = busy_till.uow.rules.version
    for row in event_rows(busy_till.path):
        assert row["rules_version"] == version
        # Each type's current version (member.registered and member.profile_updated are at 3:
        # personal fields sealed).
        assert row["payload_version"] == EVENTS[row["type"]].version


def test_every_event_names_its_store_and_device(busy_till: Till) -> None:
    clerk = busy_till.cashier
    for row in event_rows(busy_till.path):
        assert (row["store_id"], row["device_id"]) == (clerk.store_id, clerk.device_id)


def test_event_ids_sort_in_seq_order(busy_till: Till) -> None:
    ids = [r["id"] for r in event_rows(busy_till.path)]
    assert ids == sorted(ids)


def test_event_hlc_increases_even_when_the_wall_clock_goes_back(till: Till) -> None:
    till.register()
    till.clock.advance(hours=-2)
    till.register()
    till.clock.advance(minutes=-1)
    till.register()
    till.clock.advance(hours=5)
    till.register()
    hlcs = [HLCTimestamp.unpack(r["hlc"]) for r in event_rows(till.path)]
    assert all(a < b for a, b in pairwise(hlcs))


def test_event_ids_still_sort_in_seq_order_when_the_clock_goes_back(till: Till) -> None:
    till.register()
    till.clock.advance(hours=-2)
    till.register()
    ids = [r["id"] for r in event_rows(till.path)]
    assert ids == sorted(ids)


def test_a_reopened_till_resumes_its_hybrid_clock_after_the_last_event(till: Till) -> None:
    till.register()
    last = HLCTimestamp.unpack(event_rows(till.path)[-1]["hlc"])
    till.app.close()
    till.clock.advance(days=-1)  # the till restarts with its wall clock a day behind
    app = bootstrap(till.path, keystore=till.keystore, clock=till.clock)
    try:
        till.app = app
        till.register()
    finally:
        app.close()
    assert HLCTimestamp.unpack(event_rows(till.path)[-1]["hlc"]) > last


def test_the_member_remembers_the_hlc_of_its_last_change(till: Till) -> None:
    card = till.register()
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name="王小明")
    con = sqlite3.connect(till.path)
    try:
        (updated,) = con.execute("SELECT updated_hlc FROM members").fetchone()
        (newest,) = con.execute("SELECT max(hlc) FROM events").fetchone()
    finally:
        con.close()
    assert updated == newest


# --- append-only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET type = 'forged'",
        "UPDATE events SET payload = '{}' WHERE type = 'member.registered'",
        "DELETE FROM events",
        "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)",
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
    ],
)
def test_events_and_audit_rows_cannot_be_rewritten(till: Till, sql: str) -> None:
    till.register()
    before = till.table_counts()
    con = sqlite3.connect(till.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
        con.rollback()
    finally:
        con.close()
    assert till.table_counts() == before
    assert REGISTERED in [e["type"] for e in event_rows(till.path)[-4:]]


def test_append_only_holds_through_the_orm_too(till: Till) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from pos_member.db.models import Event

    till.register()
    with pytest.raises(IntegrityError), till.uow.begin() as tx:
        tx.session.execute(update(Event).values(type="forged"))


# --- a property over random sessions at the till -----------------------------------------

operations = st.lists(
    st.one_of(
        st.just(("new",)),
        st.tuples(st.just("duplicate"), st.integers(min_value=0, max_value=1000)),
        st.tuples(st.just("invalid"), st.sampled_from(["12812345678", "abc", "", "1381234"])),
        st.just(("no_consent",)),
        st.tuples(st.just("clock"), st.integers(min_value=-3600, max_value=600)),
    ),
    max_size=40,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_members_always_match_registered_events_and_seq_stays_gapless(
    ops: list[tuple[object, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        till = make_till(Path(tmp))
        try:
            registered = 0
            for op in ops:
                run_operation(till, op, registered)
                registered = till.table_counts()["members"]
            rows = event_rows(till.path)
            assert registered == sum(r["type"] == REGISTERED for r in rows)
            assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
            hlcs = [r["hlc"] for r in rows]
            assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
        finally:
            till.app.close()


def run_operation(till: Till, op: tuple[object, ...], registered: int) -> None:
    """One thing a cashier might do; refusals are the expected ones and change no member."""
    kind, *args = op
    if kind == "new":
        with contextlib.suppress(RegistrationRateLimited):
            till.register()
        return
    if kind == "duplicate" and registered:
        with pytest.raises((DuplicatePhone, RegistrationRateLimited)):  # a burst is refused first
            till.register(_phone_of(till, int(args[0]) % registered))  # type: ignore[call-overload]
    elif kind == "invalid":
        with pytest.raises(InvalidPhone):
            till.register(str(args[0]))
    elif kind == "no_consent":
        with pytest.raises(ConsentRequired):
            till.register(privacy_consent=False)
    elif kind == "clock":
        till.clock.advance(seconds=int(args[0]))  # type: ignore[call-overload]
    assert till.table_counts()["members"] == registered


def _phone_of(till: Till, index: int) -> str:
    """The clear phone of the index-th member, read back the way a manager would see it."""
    from sqlalchemy import select

    from pos_member.db.models import Member
    from pos_member.services.member_cards import reveal_personal_data

    with till.uow.read() as s:
        ids = list(s.scalars(select(Member.id).order_by(Member.member_no)))
    return reveal_personal_data(till.uow, clerk=till.manager, member_id=ids[index]).phone

