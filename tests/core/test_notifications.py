"""The notification outbox: queued with the change, sent after commit, once."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from pos_member.errors import ChannelError
from pos_member.services.notifications import (
    FAILED,
    LEASE,
    MAX_ATTEMPTS,
    PENDING,
    SENT,
    LogChannel,
    Notification,
    deliver_due,
    enqueue,
    pending_count,
)
from tests.factories import Till, without_welcome_pack


@pytest.fixture(autouse=True)
def no_welcome_pack(till: Till) -> None:
    """These tests count the outbox's rows: registering queues no welcome-pack message here
    (that message is tests/core/test_coupons.py's)."""
    without_welcome_pack(till)


class FlakyChannel:
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Notification] = []

    def send(self, message: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ChannelError("gateway down")
        self.sent.append(message)


class BrokenForOne:
    """Raises an error no channel is supposed to raise (as ``httpx.InvalidURL`` once did) for
    one member, its text holding the phone and a code; sends the others."""

    name = "broken"

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.tries = 0
        self.sent: list[Notification] = []

    def send(self, message: Notification) -> None:
        if message.member_id == self.member_id:
            self.tries += 1
            raise RuntimeError(f"bad request for {message.phone}: code 482913")
        self.sent.append(message)


def _row(till: Till, key: str) -> tuple[str, int, str | None]:
    """(status, attempts, last_error) of the notification queued under ``key``."""
    con = sqlite3.connect(till.path)
    try:
        return con.execute("SELECT status, attempts, last_error FROM notification_outbox "
                           "WHERE dedupe_key = ?", (key,)).fetchone()  # type: ignore[no-any-return]
    finally:
        con.close()


def _queue(till: Till, member_id: str, key: str, *, commit: bool = True) -> bool:
    with till.uow.begin() as tx:
        queued = enqueue(tx, member_id=member_id, kind="sv.paid",
                         params={"amount_fen": 1234, "balance_fen": 500}, dedupe_key=key)
        if commit:
            tx.commit()
    return queued


def test_a_dedupe_key_queues_once(till: Till) -> None:
    m = till.register()
    assert _queue(till, m.id, "k1") is True
    assert _queue(till, m.id, "k1") is False
    assert pending_count(till.uow) == 1


def test_a_rolled_back_change_queues_nothing(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k1", commit=False)
    assert pending_count(till.uow) == 0


def test_sent_after_commit_once_with_the_members_phone(till: Till) -> None:
    m = till.register(phone="13912345678")
    _queue(till, m.id, "k1")
    channel = LogChannel()
    assert deliver_due(till.uow, channel).sent == 1
    assert deliver_due(till.uow, channel).sent == 0
    [msg] = channel.sent
    assert msg.phone == "13912345678"
    assert "¥12.34" in msg.text and "¥5.00" in msg.text


def test_a_failure_is_retried_after_backoff(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k1")
    channel = FlakyChannel(failures=1)
    report = deliver_due(till.uow, channel)
    assert (report.sent, report.retried) == (0, 1)
    assert deliver_due(till.uow, channel).sent == 0  # not due yet
    till.clock.advance(seconds=31)
    assert deliver_due(till.uow, channel).sent == 1
    assert len(channel.sent) == 1


def test_gives_up_after_max_attempts(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k1")
    channel = FlakyChannel(failures=1000)
    for _ in range(MAX_ATTEMPTS + 3):
        deliver_due(till.uow, channel)
        till.clock.advance(hours=2)
    assert pending_count(till.uow) == 0
    assert _row(till, "k1") == (FAILED, MAX_ATTEMPTS, "gateway down")
    assert channel.failures == 1000 - MAX_ATTEMPTS


def test_an_unexpected_error_for_one_member_does_not_hold_up_the_others(
        till: Till, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    broken, fine = till.register(phone="13911112222"), till.register()
    _queue(till, broken.id, "broken")  # first in the run
    _queue(till, fine.id, "fine")
    channel = BrokenForOne(broken.id)
    report = deliver_due(till.uow, channel)
    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    assert [m.member_id for m in channel.sent] == [fine.id]
    assert _row(till, "fine")[0] == SENT
    assert _row(till, "broken") == (PENDING, 1, "unexpected RuntimeError")
    assert "RuntimeError" in caplog.text
    assert "13911112222" not in caplog.text and "482913" not in caplog.text


def test_an_unexpected_error_is_retried_with_backoff_and_given_up_at_the_limit(
        till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k")
    channel = BrokenForOne(m.id)
    deliver_due(till.uow, channel)
    till.clock.advance(seconds=29)
    deliver_due(till.uow, channel)  # not due yet: backoff, not the 2-minute lease
    assert channel.tries == 1
    for _ in range(MAX_ATTEMPTS + 3):
        till.clock.advance(hours=2)
        deliver_due(till.uow, channel)
    assert channel.tries == MAX_ATTEMPTS
    assert _row(till, "k") == (FAILED, MAX_ATTEMPTS, "unexpected RuntimeError")


def test_a_failing_phone_lookup_is_that_rows_failure_only(till: Till) -> None:
    a, b = till.register(), till.register()
    _queue(till, a.id, "a")
    _queue(till, b.id, "b")

    def phone_of(member_id: str) -> str | None:
        if member_id == a.id:
            raise KeyError(member_id)
        return "13900000000"

    channel = LogChannel()
    report = deliver_due(till.uow, channel, phone_of=phone_of)
    assert (report.sent, report.retried) == (1, 1)
    assert [m.member_id for m in channel.sent] == [b.id]
    assert _row(till, "a") == (PENDING, 1, "unexpected KeyError")


def test_a_dispatcher_dying_mid_send_never_goes_past_the_attempt_limit(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k")
    calls = 0

    class Dies:
        name = "dies"

        def send(self, message: Notification) -> None:
            nonlocal calls
            calls += 1
            raise SystemExit  # the process ends: no outcome is written

    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(SystemExit):
            deliver_due(till.uow, Dies())
        till.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert deliver_due(till.uow, Dies()).failed == 1
    assert calls == MAX_ATTEMPTS
    assert _row(till, "k")[:2] == (FAILED, MAX_ATTEMPTS)


def test_a_row_stuck_past_the_limit_is_failed_not_sent_again(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k")
    con = sqlite3.connect(till.path)
    con.execute("UPDATE notification_outbox SET attempts = 13")  # as seen in the field
    con.commit()
    con.close()
    channel = LogChannel()
    assert deliver_due(till.uow, channel).failed == 1
    assert channel.sent == [] and _row(till, "k")[0] == FAILED


def test_a_late_failure_does_not_undo_a_later_dispatchers_send(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k")

    class SlowThenFails:
        name = "slow"

        def send(self, message: Notification) -> None:
            # so slow that the lease ran out and another dispatcher sent the row meanwhile
            till.clock.advance(seconds=LEASE.total_seconds() + 1)
            assert deliver_due(till.uow, LogChannel()).sent == 1
            raise ChannelError("timed out")

    deliver_due(till.uow, SlowThenFails())
    assert _row(till, "k")[0] == SENT
    till.clock.advance(hours=2)
    assert deliver_due(till.uow, LogChannel()).sent == 0


def test_a_claimed_row_is_not_sent_by_a_second_dispatcher(till: Till) -> None:
    m = till.register()
    _queue(till, m.id, "k1")

    class Reentrant:
        name = "re"

        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(self, message: Notification) -> None:
            self.sent.append(message.id)
            # a second dispatcher running meanwhile finds nothing due
            assert deliver_due(till.uow, LogChannel()).sent == 0

    ch = Reentrant()
    deliver_due(till.uow, ch)
    assert len(ch.sent) == 1


def test_params_must_be_plain_values(till: Till) -> None:
    m = till.register()
    with till.uow.begin() as tx, pytest.raises(TypeError):
        enqueue(tx, member_id=m.id, kind="x", params={"a": 1.5}, dedupe_key="k")  # type: ignore[dict-item]


def test_a_run_past_its_budget_gives_back_the_rows_it_has_not_tried(till: Till) -> None:
    from datetime import timedelta

    m = till.register()
    for key in ("k1", "k2", "k3"):
        _queue(till, m.id, key)
    channel = LogChannel()
    report = deliver_due(till.uow, channel, budget=timedelta(0))  # spent after the first
    assert report.sent == 1 and len(channel.sent) == 1
    assert sorted(_row(till, k) for k in ("k1", "k2", "k3")) == [
        ("pending", 0, None), ("pending", 0, None), ("sent", 1, None)]
    assert deliver_due(till.uow, channel).sent == 2  # due at once, not after the lease
