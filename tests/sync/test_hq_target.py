"""HQ sets a store's monthly new-member target on the server; the store's tills pull it and
split it like a target the manager typed (newest write wins)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pos_member.errors import EditedAheadElsewhere, InvalidMonth, InvalidTarget
from pos_member.services.targets import month_targets, set_month_target
from sync.server import services
from sync.server.errors import StoreNotFound
from sync.server.models import Event
from tests.sync.harness import Central, enrolled_till


def test_a_target_hq_sets_reaches_the_stores_tills_and_a_later_one_wins(
    tmp_path: Path, server_database_url: str,
) -> None:
    central = Central(server_database_url)
    till = enrolled_till(central, tmp_path / "till.sqlite", 1)
    other = enrolled_till(central, tmp_path / "other.sqlite", 2)
    try:
        assert services.set_store_target(central.ctx, store_number=1, month="2026-12",
                                         target="540") == ("2026-12", 540)
        till.sync()
        other.sync()
        with till.app.uow.read() as s:
            assert month_targets(s, till.clerk.store_id, ["2026-12"]) == {"2026-12": 540}
        with other.app.uow.read() as s:
            assert month_targets(s, other.clerk.store_id, ["2026-12"]) == {}
        till.clock.advance(minutes=1)
        set_month_target(till.app.uow, clerk=till.clerk, month="2026-12", target=600)
        till.sync()
        with till.app.uow.read() as s:
            assert month_targets(s, till.clerk.store_id, ["2026-12"]) == {"2026-12": 600}
    finally:
        till.close()
        other.close()
        central.stop()


def test_a_bad_target_or_store_is_refused_and_nothing_is_published(
    server_database_url: str,
) -> None:
    central = Central(server_database_url)

    def events() -> int:
        return central.query(lambda c: c.scalar(select(func.count()).select_from(Event)))

    try:
        before = events()
        for month, target, store, error in (("2026-12", "-5", 1, InvalidTarget),
                                            ("2026-12", "1.5", 1, InvalidTarget),
                                            ("2026-13", "10", 1, InvalidMonth),
                                            ("2026-12", "10", 9, StoreNotFound)):
            with pytest.raises(error):
                services.set_store_target(central.ctx, store_number=store, month=month,
                                          target=target)
        assert events() == before
    finally:
        central.stop()


def test_a_target_after_one_set_at_a_till_whose_clock_runs_ahead(
    tmp_path: Path, server_database_url: str,
) -> None:
    """A manager set the month's target at a till whose clock ran a day ahead: the manager at
    the store's other till (clock right) is told their new target would not hold, instead of
    an event that loses everywhere while the old target stays; HQ's target takes effect."""
    central = Central(server_database_url)
    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 1)
    try:
        a.clock.advance(days=1)
        set_month_target(a.app.uow, clerk=a.clerk, month="2026-12", target=300)
        a.sync()
        b.sync()
        events_before = b.events()
        with pytest.raises(EditedAheadElsewhere):
            set_month_target(b.app.uow, clerk=b.clerk, month="2026-12", target=400)
        assert b.events() == events_before
        services.set_store_target(central.ctx, store_number=1, month="2026-12", target="500")
        for till in (a, b):
            till.sync()
            with till.app.uow.read() as s:
                assert month_targets(s, till.clerk.store_id, ["2026-12"]) == {"2026-12": 500}
    finally:
        a.close()
        b.close()
        central.stop()
