"""Recruitment KPIs: registrations per guide against the split, 达标, pace, 会销比, member sales
share, trends, the .xlsx report read back."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pos_member.clock import DEFAULT_TZ
from pos_member.config import OpeningHours, load_config, parse_opening_hours
from pos_member.db.models import Sale
from pos_member.errors import ConfigInvalid, PermissionDenied
from pos_member.permissions import Clerk
from pos_member.services.kpi import dashboard, my_progress, permille, trend, trends
from pos_member.services.kpi_report import export_day_report
from pos_member.services.member_cards import Channel
from pos_member.services.targets import set_month_target, set_rosters
from tests.factories import Till

HOURS = OpeningHours(time(10, 0), time(22, 0))
_bills = count(1)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """A wall-clock time on ``day`` in the store's zone (the clock's default, Asia/Shanghai)."""
    return datetime.combine(day, time(hh, mm), tzinfo=DEFAULT_TZ)


def add_sale(till: Till, *, amount_fen: int, member_id: str | None = None,
             guide: Clerk | None = None, day: date | None = None, refunded_fen: int = 0) -> None:
    """A sale row as ``record_sale`` writes it (the points work owns that service)."""
    when = till.clock.now() if day is None else local(day, 12)
    with till.uow.begin() as tx:
        tx.session.add(Sale(
            id=str(uuid.uuid4()), txn_id=str(uuid.uuid4()), store_id=till.manager.store_id,
            device_id=till.manager.device_id, bill_no=f"B{next(_bills)}",
            amount_fen=amount_fen, member_id=member_id, clerk_id=till.cashier.staff_id,
            guide_id=guide.staff_id if guide else None, categories=[], sold_at=when,
            business_day=till.clock.local(when).date(), refunded_fen=refunded_fen))
        tx.commit()


def recruit(till: Till, guide: Clerk, n: int = 1) -> list[str]:
    return [till.register(channel=Channel.GUIDE, guide_id=guide.staff_id).id for _ in range(n)]


@pytest.fixture
def today(till: Till) -> date:
    """A Wednesday at 16:00 local: half of a 10:00-22:00 day gone."""
    day = date(2026, 11, 25)
    till.clock.set(local(day, 16))
    set_month_target(till.uow, clerk=till.manager, month="2026-11", target=138)
    set_rosters(till.uow, clerk=till.manager, rosters={day: [till.guide.staff_id]})
    return day


def test_registrations_are_credited_to_the_recruiting_guide(till: Till, today: date) -> None:
    recruit(till, till.guide, 3)
    till.register()  # walk-in, no guide
    board = dashboard(till.uow, clerk=till.manager, hours=HOURS)
    (g,) = board.guides
    assert (g.staff_id, g.target, g.registrations) == (till.guide.staff_id, 4, 3)
    assert board.registrations == 4 and board.unassigned_registrations == 1


def test_a_guide_meets_the_day_only_at_their_own_target(till: Till, today: date) -> None:
    recruit(till, till.guide, 3)
    assert not dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0].met
    recruit(till, till.guide, 1)
    assert dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0].met


def test_yesterday_s_registrations_do_not_count_today(till: Till, today: date) -> None:
    till.clock.set(local(today - timedelta(days=1), 21, 59))
    recruit(till, till.guide, 2)
    till.clock.set(local(today, 16))
    assert dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0].registrations == 0


def test_a_guide_behind_the_pace_of_the_hour_is_flagged(till: Till, today: date) -> None:
    recruit(till, till.guide, 1)  # target 4, half the day gone: 2 due by now
    g = dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0]
    assert (g.expected_now, g.behind) == (2, True)
    recruit(till, till.guide, 1)
    assert not dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0].behind


def test_nobody_is_behind_before_the_first_registration_is_due(till: Till, today: date) -> None:
    till.clock.set(local(today, 11))  # 1 h of 12: 4 * 60 // 720 = 0 due
    assert not dashboard(till.uow, clerk=till.manager, hours=HOURS).guides[0].behind


def test_member_attached_sales_ratio_and_member_sales_share(till: Till, today: date) -> None:
    (member,) = recruit(till, till.guide, 1)
    add_sale(till, amount_fen=30000, member_id=member, guide=till.guide)
    add_sale(till, amount_fen=10000, guide=till.guide)  # walk-in: counts in the denominator
    add_sale(till, amount_fen=10000)  # nobody's guide: the store's figures only
    add_sale(till, amount_fen=5000, member_id=member, refunded_fen=5000)  # fully refunded
    add_sale(till, amount_fen=7000, member_id=member, day=today - timedelta(days=1))
    board = dashboard(till.uow, clerk=till.manager, hours=HOURS)
    assert (board.sales.sales, board.sales.member_sales) == (3, 1)
    assert board.sales.ratio_permille == 333
    assert board.sales.share_permille == 600  # 300 of 500 yuan
    g = board.guides[0].sales
    assert (g.sales, g.member_sales, g.ratio_permille, g.share_permille) == (2, 1, 500, 750)
    assert board.ratio_target_permille == 1000


def test_permille_rounds_half_up() -> None:
    assert (permille(1, 3), permille(2, 3), permille(1, 8), permille(0, 0)) == (333, 667, 125,
                                                                                None)


def test_the_guide_sees_their_own_progress(till: Till, today: date) -> None:
    recruit(till, till.guide, 2)
    mine = my_progress(till.uow, clerk=till.guide, hours=HOURS)
    assert mine is not None and (mine.target, mine.registrations) == (4, 2)
    assert my_progress(till.uow, clerk=till.cashier, hours=HOURS) is None


def test_only_managers_see_the_store_s_dashboard(till: Till, today: date) -> None:
    with pytest.raises(PermissionDenied):
        dashboard(till.uow, clerk=till.guide, hours=HOURS)


def test_the_trend_has_one_point_per_day_with_its_target(till: Till, today: date) -> None:
    till.clock.set(local(today - timedelta(days=2), 12))
    recruit(till, till.guide, 2)
    till.clock.set(local(today, 16))
    recruit(till, till.guide, 1)
    add_sale(till, amount_fen=100, day=today - timedelta(days=6))
    week = trend(till.uow, clerk=till.manager, days=7)
    assert [p.day for p in week] == [today - timedelta(days=6 - i) for i in range(7)]
    assert [p.registrations for p in week] == [0, 0, 0, 0, 2, 0, 1]
    assert week[0].sales.sales == 1
    assert sum(p.target for p in week) == 4 * 5 + 6 * 2  # Thu..Wed, Sat and Sun 6
    both = trends(till.uow, clerk=till.manager)
    assert both[7] == week and len(both[30]) == 30


def test_the_day_report_reads_back_with_the_same_numbers(till: Till, today: date,
                                                         tmp_path: Path) -> None:
    (member,) = recruit(till, till.guide, 1)
    recruit(till, till.guide, 3)
    add_sale(till, amount_fen=12345, member_id=member, guide=till.guide)
    add_sale(till, amount_fen=10000, guide=till.guide)
    path = tmp_path / "report.xlsx"
    export_day_report(till.uow, clerk=till.manager, path=path, store_name="门店1", hours=HOURS)
    wb = load_workbook(path)
    summary = {row[0].value: row[1] for row in wb["Summary"].iter_rows()}
    assert summary["Business day"].value.date() == today
    assert summary["Day's recruitment target"].value == 4
    assert summary["New members today"].value == 4
    assert summary["Target reached"].value == "yes"
    assert summary["Member-attached sales ratio (会销比)"].value == pytest.approx(0.5)
    assert summary["Member-attached sales ratio (会销比)"].number_format == "0.0%"
    assert Decimal(str(summary["Sales amount"].value)) == Decimal("223.45")
    assert "¥" in summary["Sales amount"].number_format
    guides = list(wb["Guides"].iter_rows(values_only=True))
    assert guides[0][:5] == ("Staff no.", "Guide", "On shift", "Target", "New members")
    assert guides[1][1:7] == (till.guide.name, "yes", 4, 4, 1, "yes")
    assert not any(isinstance(v, str) and v.startswith("=")
                   for row in guides for v in row)  # values, not formulas


def test_names_in_the_day_report_are_never_formulas(till: Till, tmp_path: Path) -> None:
    """Formula injection (CWE-1236): openpyxl writes a text starting with "=" as a formula."""
    from pos_member.permissions import Role
    from pos_member.services.staff import create_staff

    create_staff(till.uow, clerk=till.manager, code="2999", role=Role.GUIDE,
                 name='=HYPERLINK("http://x.example","点")', secret="864213")
    path = tmp_path / "report.xlsx"
    export_day_report(till.uow, clerk=till.manager, path=path, store_name="+门店1",
                      hours=HOURS)
    cells = [c for sheet in load_workbook(path) for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'+门店1" in texts and "'=HYPERLINK(\"http://x.example\",\"点\")" in texts


def test_opening_hours_that_end_before_they_start_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="after opening"):
        parse_opening_hours("22:00-10:00")
    cfg = tmp_path / "config.toml"
    cfg.write_text('opening_hours = "21:00-09:00"\n', encoding="utf-8")
    with pytest.raises(ConfigInvalid, match="opening_hours"):
        load_config(cfg)
    cfg.write_text('opening_hours = "09:30-21:00"\n', encoding="utf-8")
    assert load_config(cfg).opening_hours == OpeningHours(time(9, 30), time(21, 0))


@pytest.mark.parametrize("text", ["10:00+08:00-22:00", "10:00-22:00+08:00"])
def test_opening_hours_with_a_utc_offset_are_refused_by_name(tmp_path: Path, text: str) -> None:
    """Opening hours are the store's local time (``time_zone`` says where): a time with an
    offset is refused with the key's name, not a traceback comparing the two."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'opening_hours = "{text}"\n', encoding="utf-8")
    with pytest.raises(ConfigInvalid, match="opening_hours"):
        load_config(cfg)


def test_a_report_held_open_is_saved_beside_it_under_a_numbered_name(till: Till,
                                                                      tmp_path: Path) -> None:
    """On Windows the previous export, open in Excel, cannot be replaced; here the name is held
    by a folder, which no file can replace either. Nothing ``.part`` is left behind."""
    recruit(till, till.guide, 2)
    reports = tmp_path / "reports"
    reports.mkdir()
    path = reports / "report.xlsx"
    path.mkdir()
    (path / "held").write_text("open in Excel", encoding="utf-8")
    (reports / "report (2).xlsx").write_bytes(b"an earlier copy")
    saved = export_day_report(till.uow, clerk=till.manager, path=path, store_name="门店1",
                              hours=HOURS)
    assert saved.path == reports / "report (3).xlsx" and saved.instead_of == path
    assert load_workbook(saved.path)["Summary"]["B4"].value == 2
    assert (reports / "report (2).xlsx").read_bytes() == b"an earlier copy"
    assert sorted(p.name for p in reports.iterdir()) == [
        "report (2).xlsx", "report (3).xlsx", "report.xlsx"]
    again = export_day_report(till.uow, clerk=till.manager, path=reports / "new.xlsx",
                              store_name="门店1", hours=HOURS)
    assert again.path == reports / "new.xlsx" and again.instead_of is None
