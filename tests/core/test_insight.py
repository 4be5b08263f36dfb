"""Programme health (issue 19) against a small chain whose figures are worked out by hand below,
and its refusals (nothing written)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import update

from pos_member.clock import DEFAULT_TZ
from pos_member.db.models import Member, PointsEntry, Sale, SvLedgerEntry
from pos_member.errors import (
    NoMembersInStore,
    PeriodNotBegun,
    PeriodReversed,
    PermissionDenied,
)
from pos_member.services.insight import HealthReport, Tally, health_report, programme_health
from pos_member.services.insight_report import write_health_workbook
from tests.factories import Till, make_till

_n = count(1)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def at(d: date, hh: int = 12, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=DEFAULT_TZ)


def D(y: int, m: int, d: int) -> date:
    return date(y, m, d)


def sale(till: Till, when: datetime, fen: int, member: str | None = None,
         refunded: int = 0) -> None:
    with till.uow.begin() as tx:
        tx.session.add(Sale(
            id=str(uuid.uuid4()), txn_id=str(uuid.uuid4()), store_id=till.manager.store_id,
            device_id=till.manager.device_id, bill_no=f"B{next(_n)}", amount_fen=fen,
            member_id=member, clerk_id=None, guide_id=None, categories=[], sold_at=when,
            business_day=when.date(), refunded_fen=refunded))
        tx.commit()


def points(till: Till, member: str, kind: str, pts: int, when: datetime) -> None:
    with till.uow.begin() as tx:
        tx.session.add(PointsEntry(
            id=str(uuid.uuid4()), member_id=member, kind=kind, points=pts,
            store_id=till.manager.store_id, device_id=till.manager.device_id, at=when))
        tx.commit()


def sv(till: Till, member: str, kind: str, principal: int, bonus: int, when: datetime) -> None:
    with till.uow.begin() as tx:
        tx.session.add(SvLedgerEntry(
            id=str(uuid.uuid4()), member_id=member, txn_id=str(uuid.uuid4()), kind=kind,
            principal_delta_fen=principal, bonus_delta_fen=bonus,
            store_id=till.manager.store_id, device_id=till.manager.device_id, at=when,
            business_day=when.date()))
        tx.commit()


def join(till: Till, when: datetime, tier: str = "regular") -> str:
    till.clock.set(when)
    member_id = till.register().id
    if tier != "regular":
        with till.uow.begin() as tx:
            tx.session.execute(update(Member).where(Member.id == member_id).values(tier=tier))
            tx.commit()
    return member_id


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Till, dict[str, str]]]:
    """The chain below, built once for the module: every test only reads it (the refusals
    check that nothing was written)."""
    till = make_till(tmp_path_factory.mktemp("insight"))
    yield till, _build(till)
    till.app.close()


@pytest.fixture
def till(built: tuple[Till, dict[str, str]]) -> Till:
    return built[0]


@pytest.fixture
def chain(built: tuple[Till, dict[str, str]]) -> dict[str, str]:
    return built[1]


def _build(till: Till) -> dict[str, str]:
    """Eight members of store 1 (A gold, the rest regular), March 2026 the period:

    A joined 2026-01-10; bought 01-12 ¥100, 02-20 ¥200, 03-03 ¥300, 03-15 ¥120 (¥20 back).
    B joined 03-05 12:00; bought 03-05 12:30 ¥50, 03-09 ¥80.
    C joined 03-20; bought 03-21 ¥60 (wholly refunded), 03-25 ¥40.
    D joined 03-28; never bought.   G joined 03-02 12:00; bought 03-02 12:30 ¥25 only.
    H joined 03-01 10:00; bought 03-20 ¥65.
    E joined 2025-01-15; bought 2025-03-05 ¥150 only.  F joined 2024-06-01; bought 2024-12-01.
    Walk-ins: 02-01 ¥10 (outside), 03-04 ¥30, 03-06 ¥70, 03-07 ¥20 wholly refunded.
    """
    rules = till.uow.rules
    till.uow.rules = dataclasses.replace(rules, registration=dataclasses.replace(
        rules.registration, welcome_points=0, welcome_coupon_pack=""))
    m = {"F": join(till, at(D(2024, 6, 1))), "E": join(till, at(D(2025, 1, 15))),
         "A": join(till, at(D(2026, 1, 10)), "gold"), "H": join(till, at(D(2026, 3, 1), 10)),
         "G": join(till, at(D(2026, 3, 2))), "B": join(till, at(D(2026, 3, 5))),
         "C": join(till, at(D(2026, 3, 20))), "D": join(till, at(D(2026, 3, 28)))}
    for member, day, fen, back in (
            ("F", D(2024, 12, 1), 9000, 0), ("E", D(2025, 3, 5), 15000, 0),
            ("A", D(2026, 1, 12), 10000, 0), ("A", D(2026, 2, 20), 20000, 0),
            ("A", D(2026, 3, 3), 30000, 0), ("A", D(2026, 3, 15), 12000, 2000),
            ("B", D(2026, 3, 9), 8000, 0), ("C", D(2026, 3, 21), 6000, 6000),
            ("C", D(2026, 3, 25), 4000, 0), ("H", D(2026, 3, 20), 6500, 0)):
        sale(till, at(day), fen, m[member], back)
    sale(till, at(D(2026, 3, 5), 12, 30), 5000, m["B"])
    sale(till, at(D(2026, 3, 2), 12, 30), 2500, m["G"])
    for day, fen, back in ((D(2026, 2, 1), 1000, 0), (D(2026, 3, 4), 3000, 0),
                           (D(2026, 3, 6), 7000, 0), (D(2026, 3, 7), 2000, 2000)):
        sale(till, at(day), fen, refunded=back)
    a, b = m["A"], m["B"]
    for member, kind, pts, day in (
            (a, "earn", 100, D(2026, 1, 12)), (a, "gift", -50, D(2026, 2, 25)),
            (a, "earn", 300, D(2026, 3, 3)), (a, "earn", 120, D(2026, 3, 15)),
            (a, "redeem", -200, D(2026, 3, 15)), (a, "clawback", -20, D(2026, 3, 16)),
            (a, "expire", -30, D(2026, 3, 10)), (a, "earn", 999, D(2026, 4, 5)),
            (b, "welcome", 50, D(2026, 3, 5)), (b, "earn", 130, D(2026, 3, 9)),
            (b, "redeem", -80, D(2026, 3, 9)), (b, "restore", 30, D(2026, 3, 10))):
        points(till, member, kind, pts, at(day))
    sv(till, a, "topup", 50000, 5000, at(D(2026, 2, 1)))
    sv(till, a, "payment", -12000, -1200, at(D(2026, 3, 3)))
    sv(till, a, "topup", 10000, 0, at(D(2026, 4, 5)))
    sv(till, m["C"], "topup", 20000, 0, at(D(2026, 3, 22)))
    sv(till, m["C"], "payment", -3000, 0, at(D(2026, 3, 25)))
    till.clock.set(at(D(2026, 4, 10)))
    return m


def test_the_store_total_matches_the_hand_computed_figures(till: Till, chain: dict) -> None:
    report = programme_health(till.uow, clerk=till.manager, start=MARCH[0], end=MARCH[1],
                              store_id=till.manager.store_id)
    r = report.row(till.manager.store_id)
    t = r.tally
    # Members by 03-31: all eight; new in March: H, G, B, C, D.
    assert (t.members, t.new_members) == (8, 5)
    # Purchase in 03-02..03-31: A, B, C (03-25; 03-21 was refunded), G, H.
    assert t.active_members == 5 and r.activity == Decimal("0.625")
    # March buyers A(2), B(2), C(1), G(1), H(1): 2 of 5 bought again.
    assert (t.buyers, t.repeat_buyers, r.repurchase_rate) == (5, 2, Decimal("0.4"))
    # Spend 400+130+40+25+65 = ¥660 over 8 members.
    assert (t.member_spend_fen, r.arpu_fen) == (66000, 8250)
    # 7 member bills ¥660 → ¥94.29; walk-ins ¥30, ¥70 (the refunded one is no bill) → ¥50.
    assert (t.member_bills, r.member_ticket_fen) == (7, 9429)
    assert (t.walk_in_bills, r.walk_in_ticket_fen) == (2, 5000)
    # Share ¥660 of ¥760.
    assert r.member_sales_share == Decimal("0.8684")
    # Issued A 300+120-20, B 50+130 = 580; redeemed A 200, B 80-30 = 250.
    assert (t.points_issued, t.points_redeemed, r.redemption_rate) == (580, 250,
                                                                       Decimal("0.4310"))
    # Outstanding at 03-31: A 100-50+300+120-200-20-30 = 220, B 50+130-80+30 = 130.
    assert t.points_outstanding == 350
    # Stored value: A 50000-12000 / 5000-1200, C 20000-3000 (April's top-up is later).
    assert (t.sv_principal_fen, t.sv_bonus_fen) == (55000, 3800)
    # Not lost at 03-01 (last purchase under 365 days old): A (02-20), E (2025-03-05);
    # E has not bought since and is 365 days out by 03-31 (F was lost long before).
    assert (t.churn_base, t.churned, r.churn_rate) == (2, 1, Decimal("0.5"))


def test_the_march_cohort_counts_only_matured_members(till: Till, chain: dict) -> None:
    r = programme_health(till.uow, clerk=till.manager, start=MARCH[0], end=MARCH[1],
                         store_id=till.manager.store_id).row(till.manager.store_id)
    (march,) = r.cohorts
    # H, G, B, C, D. 7 days behind them by 04-01 00:00: H, G, B, C (D joined 03-28).
    # Came back after a day and within 7: B (03-09), C (03-25); G only on the day; H on day 19.
    # 30 days: only H (03-01 10:00 + 30 d = 03-31 10:00), who came back on day 19.
    assert march.month == "2026-03" and march.members == 5
    assert (march.matured, march.retained) == ((4, 1, 0), (2, 1, 0))
    assert (march.rate(7), march.rate(30), march.rate(90)) == (Decimal("0.5"), Decimal("1"),
                                                                None)


def test_tier_rows_split_the_store_total(till: Till, chain: dict) -> None:
    store = till.manager.store_id
    report = programme_health(till.uow, clerk=till.manager, start=MARCH[0], end=MARCH[1])
    gold, regular = report.row(store, "gold"), report.row(store, "regular")
    # A alone is gold: ¥400 over 2 bills, ¥400 of the store's ¥760.
    assert (gold.tally.members, gold.arpu_fen, gold.member_ticket_fen) == (1, 40000, 20000)
    assert gold.member_sales_share == Decimal("0.5263") and gold.walk_in_ticket_fen is None
    assert (gold.tally.points_outstanding, gold.tally.sv_principal_fen) == (220, 38000)
    # Seven regular members spent ¥260: ¥37.14 each; E is the one lost.
    assert (regular.tally.members, regular.arpu_fen, regular.churn_rate) == (7, 3714,
                                                                           Decimal("1"))
    assert gold.tally + regular.tally + walk_ins(report, store) == report.row(store).tally
    # No store given: the chain's row sums the stores' (one here), its members' figures read
    # by one pass over each ledger, the store's by look-ups per member: the same rows.
    assert report.row(None).tally == report.row(store).tally
    one = programme_health(till.uow, clerk=till.manager, start=MARCH[0], end=MARCH[1],
                           store_id=store)
    assert [r for r in report.rows if r.store_id is not None] == list(one.rows)
    with till.uow.read() as s:  # HQ's way (PostgreSQL): each ledger grouped by member
        hq = health_report(s, start=MARCH[0], end=MARCH[1], store_id=None,
                           today=till.clock.today(), zone=till.clock.zone, churned_days=365,
                           grouped=True)
    assert hq.rows == report.rows
    with till.uow.read() as s:
        hq_one = health_report(s, start=MARCH[0], end=MARCH[1], store_id=store,
                               today=till.clock.today(), zone=till.clock.zone,
                               churned_days=365, grouped=True)
    assert hq_one.rows == one.rows


def walk_ins(report: HealthReport, store: str) -> Tally:
    """The store row's part no tier has: its walk-in bills."""
    t = report.row(store).tally
    return Tally(walk_in_bills=t.walk_in_bills, walk_in_bills_fen=t.walk_in_bills_fen)


def test_a_period_past_today_stops_today(till: Till, chain: dict) -> None:
    report = programme_health(till.uow, clerk=till.manager, start=D(2026, 4, 1),
                              end=D(2026, 4, 30), store_id=till.manager.store_id)
    assert report.end == D(2026, 4, 10)
    # The April top-up (04-05) is in; the 04-05 points too.
    t = report.row(till.manager.store_id).tally
    assert (t.sv_principal_fen, t.points_outstanding) == (65000, 1349)


@pytest.mark.parametrize(("start", "end", "store", "error"), [
    (D(2026, 3, 31), D(2026, 3, 1), None, PeriodReversed),
    (D(2026, 4, 11), D(2026, 4, 30), None, PeriodNotBegun),
    (D(2026, 3, 1), D(2026, 3, 31), "another-store", NoMembersInStore),
])
def test_bad_input_is_refused_with_nothing_changed(till: Till, chain: dict, start: date,
                                                   end: date, store: str | None,
                                                   error: type[Exception]) -> None:
    before = till.dump()
    with pytest.raises(error) as e:
        programme_health(till.uow, clerk=till.manager, start=start, end=end,
                         store_id=store or till.manager.store_id)
    assert str(e.value)
    assert till.dump() == before


def test_a_store_whose_members_joined_after_the_period_has_none(till: Till,
                                                                chain: dict) -> None:
    with pytest.raises(NoMembersInStore):
        programme_health(till.uow, clerk=till.manager, start=D(2024, 1, 1),
                         end=D(2024, 5, 31), store_id=till.manager.store_id)


def test_cashiers_do_not_see_the_report(till: Till, chain: dict) -> None:
    with pytest.raises(PermissionDenied):
        programme_health(till.uow, clerk=till.cashier, start=MARCH[0], end=MARCH[1])


def test_the_workbook_holds_the_figures(till: Till, chain: dict, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    store = till.manager.store_id
    report = programme_health(till.uow, clerk=till.manager, start=MARCH[0], end=MARCH[1],
                              store_id=store)
    saved = write_health_workbook(report, tmp_path / "health.xlsx", stores={store: "门店1"},
                                  tiers={"gold": "金卡", "regular": "普通"})
    wb = load_workbook(saved.path)
    rows = {(r[0], r[1]): r for r in wb["Programme health"].iter_rows(min_row=4,
                                                                      values_only=True)}
    assert set(rows) == {("门店1", "金卡"), ("门店1", "普通"), ("门店1", "All tiers")}
    total = rows[("门店1", "All tiers")]
    # Members, ARPU ¥82.50, walk-in 客单价 ¥50, share, 储值 principal ¥550, churn.
    assert (total[2], total[7], total[9], total[10], total[15], total[17]) == (
        8, Decimal("82.5"), 50, 0.8684, 550, 0.5)
    assert rows[("门店1", "金卡")][9] == "—"  # no walk-in 客单价 for a tier
    cohorts = list(wb["Cohorts"].iter_rows(min_row=2, values_only=True))
    assert ("门店1", "All tiers", "2026-03", 5, 0.5, 1, "—") in cohorts
    assert not list(tmp_path.glob("*.part"))
