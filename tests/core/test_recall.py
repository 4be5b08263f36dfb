"""The recall list (召回名单, issue 19): the store's members away for the dormant threshold or
more, by value or by time away, worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from pos_member.clock import DEFAULT_TZ
from pos_member.db.models import Sale
from pos_member.errors import PermissionDenied
from pos_member.services import rfm
from pos_member.services.member_insight import LOST, SLEEPING, WIN_BACK
from pos_member.services.recall import RecallOrder, recall_list, write_recall_workbook
from tests.factories import NOTHING_AT_HQ, Till

TODAY = date(2026, 6, 30)


def at(ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=ago), time(12), tzinfo=DEFAULT_TZ)


def sale(till: Till, member: str, ago: int, fen: int, refunded: int = 0) -> None:
    with till.uow.begin() as tx:
        tx.session.add(Sale(
            id=str(uuid.uuid4()), txn_id=str(uuid.uuid4()), store_id=till.manager.store_id,
            device_id=till.manager.device_id, bill_no=f"R-{uuid.uuid4().hex[:10]}",
            amount_fen=fen, member_id=member, categories=[], sold_at=at(ago),
            business_day=at(ago).date(), refunded_fen=refunded))
        tx.session.flush()
        rfm.refresh(tx.conn, member)  # what record_sale and a refund keep (services/rfm.py)
        tx.commit()


@pytest.fixture
def members(till: Till) -> dict[str, str]:
    """[tags] dormant_days 60, [lifecycle] 90 / 365. A: last bought 59 days ago (not away
    long enough); B: 60 days, ¥300 in all; C: 100 days, ¥50; D: 400 days, ¥900 (¥100 of
    it refunded); E: bought 10 days ago, but that was wholly refunded, before that 70 days
    ago (¥20); F: never bought."""
    till.clock.set(at(500))
    m = {k: till.register().id for k in "ABCDEF"}
    for k, ago, fen, back in (("A", 59, 10_000, 0), ("B", 200, 20_000, 0), ("B", 60, 10_000, 0),
                              ("C", 100, 5_000, 0), ("D", 400, 100_000, 10_000),
                              ("E", 70, 2_000, 0), ("E", 10, 50_000, 50_000)):
        sale(till, m[k], ago, fen, back)
    till.clock.set(at(0))
    return m


def test_the_members_away_60_days_or_more_most_valuable_first(till: Till,
                                                              members: dict) -> None:
    got = recall_list(till.uow, clerk=till.manager)
    who = {v: k for k, v in members.items()}
    assert [(who[e.member_id], e.spend_fen, e.days_away) for e in got] == [
        ("D", 90_000, 400), ("B", 30_000, 60), ("C", 5_000, 100), ("E", 2_000, 70)]
    assert [e.stage for e in got] == [LOST, "active", SLEEPING, "active"]
    assert all(e.action == WIN_BACK for e in got)


def test_longest_away_first(till: Till, members: dict) -> None:
    got = recall_list(till.uow, clerk=till.manager, order=RecallOrder.AWAY)
    assert [e.days_away for e in got] == [400, 100, 70, 60]


def test_cashiers_do_not_see_it_and_nothing_is_written(till: Till, members: dict) -> None:
    before = till.dump()
    with pytest.raises(PermissionDenied):
        recall_list(till.uow, clerk=till.cashier)
    recall_list(till.uow, clerk=till.manager)
    assert till.dump() == before


def test_the_workbook_lists_them(till: Till, members: dict, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    got = recall_list(till.uow, clerk=till.manager)
    saved = write_recall_workbook(got, tmp_path / "recall.xlsx", tiers={"regular": "普通"})
    rows = list(load_workbook(saved.path).active.iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3], r[4], r[6]) for r in rows] == [
        ("普通", 400, 900, "流失"), ("普通", 60, 300, "活跃"), ("普通", 100, 50, "沉睡"),
        ("普通", 70, 20, "活跃")]
    assert rows[0][7] == "—" and rows[0][8] == WIN_BACK  # not scored before the nightly run


def test_an_erased_member_is_no_one_to_win_back(till: Till, members: dict) -> None:
    from pos_member.services import member_privacy

    member_privacy.erase(till.uow, clerk=till.manager, member_id=members["B"], hq=NOTHING_AT_HQ)
    got = [e.member_id for e in recall_list(till.uow, clerk=till.manager)]
    assert members["B"] not in got and members["D"] in got
