"""The notification outbox: queued with the change, sent after commit, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.services.notifications import (
    FAILED,
    MAX_ATTEMPTS,
    ChannelError,
    LogChannel,
    Notification,
    deliver_due,
    enqueue,
    pending_count,
)
from tests.factories import Till, make_till


@pytest.fixture
def till(tmp_path: Path) -> Till:
    return make_till(tmp_path)


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
    for _ in range(MAX_ATTEMPTS):
        deliver_due(till.uow, channel)
        till.clock.advance(hours=2)
    assert pending_count(till.uow) == 0
    import sqlite3
    con = sqlite3.connect(till.path)
    assert con.execute("SELECT status FROM notification_outbox").fetchone()[0] == FAILED
    con.close()


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
