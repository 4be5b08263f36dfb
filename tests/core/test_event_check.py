"""The till's strict check of what it writes (pos_member.events.check): on in the suite, it
refuses an event HQ's push would refuse, before anything is written."""

from __future__ import annotations

import pytest

from pos_member.events import check
from tests.factories import make_till


def test_the_suite_runs_strict() -> None:
    assert check.STRICT


def test_a_payload_not_as_declared_is_not_written(tmp_path) -> None:
    till = make_till(tmp_path)
    with till.uow.begin() as tx:
        before = tx.conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    with pytest.raises(TypeError, match="not as declared"), till.uow.begin() as tx:
        tx.record(till.cashier, "points.adjusted", {"member_id": 5, "points": "many"})
    with till.uow.begin() as tx:
        assert tx.conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one() == before
