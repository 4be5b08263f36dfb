"""Store time: day boundaries follow the store's time zone (config ``time_zone``, default
Asia/Shanghai), never the host's. Each test runs with the host set to New York, so one that
used the host's zone (or UTC) would count the wrong day."""

from __future__ import annotations

import ast
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pos_member.clock import FakeClock, SystemClock, store_zone
from pos_member.config import load_config
from pos_member.errors import ConfigInvalid
from pos_member.services import kpi, sales
from pos_member.services.day_report import day_summary
from tests.factories import Till, make_till

ROOT = Path(__file__).resolve().parents[2]
# 2026-01-05 23:30 UTC is 2026-01-06 07:30 in Shanghai and 2026-01-05 18:30 in New York.
LATE_UTC = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
SHANGHAI_DAY = date(2026, 1, 6)


@pytest.fixture(autouse=True)
def host_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The host's own zone is New York for the test (then put back)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert time.localtime(LATE_UTC.timestamp()).tm_mday == 5  # the host really is elsewhere
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def late(tmp_path: Path) -> Till:
    return make_till(tmp_path, clock=FakeClock(LATE_UTC, zone="Asia/Shanghai"))


def sell(t: Till, member_id: str | None, fen: int, bill: str) -> sales.SaleResult:
    return sales.record_sale(t.uow, t.cashier, txn_id=str(uuid.uuid4()), bill_no=bill,
                             amount_fen=fen, member_id=member_id)


def test_the_clock_gives_the_stores_local_date_and_time() -> None:
    clock = FakeClock(LATE_UTC, zone="Asia/Shanghai")
    assert clock.now() == LATE_UTC and clock.now().tzinfo is UTC
    assert (clock.local().date(), clock.local().hour, clock.local().minute) == (SHANGHAI_DAY, 7, 30)
    assert clock.local() == LATE_UTC  # the same instant
    assert clock.today() == SHANGHAI_DAY
    naive = datetime(2026, 1, 5, 15, 59)  # noqa: DTZ001 - a naive time is read as UTC
    assert clock.local(naive).date() == date(2026, 1, 5)
    assert FakeClock().zone == store_zone("Asia/Shanghai") == SystemClock().zone


def test_the_daily_earn_cap_resets_at_the_stores_midnight(tmp_path: Path) -> None:
    # 23:30 on the 5th in Shanghai (15:30 UTC, 10:30 in New York): the cap is reached.
    t = make_till(tmp_path, clock=FakeClock(datetime(2026, 1, 5, 15, 30, tzinfo=UTC)))
    m = t.register()
    first = sell(t, m.id, 600_000, "A1")
    assert first.earn is not None and first.earn.earned == 5000
    capped = sell(t, m.id, 10_000, "A2")
    assert capped.earn is not None and capped.earn.earned == 0
    # One hour later it is the 6th in Shanghai (still the 5th in UTC and in New York).
    t.clock.advance(hours=1)
    quote = sales.quote_sale(t.uow, member_id=m.id, amount_fen=10_000).earn
    assert quote is not None and quote.earned > 0 and quote.not_earned == 0
    fresh = sell(t, m.id, 10_000, "A3")
    assert fresh.earn is not None and fresh.earn.earned == quote.earned > 0
    assert fresh.earn.not_earned == 0


def test_a_sale_counts_on_the_stores_business_day(late: Till) -> None:
    sell(late, None, 9_900, "B1")
    summary = day_summary(late.uow, store_id=late.cashier.store_id,
                          device_id=late.cashier.device_id)
    assert summary.day == SHANGHAI_DAY
    assert (summary.sales_count, summary.sales_fen) == (1, 9_900)


def test_the_day_report_and_the_kpi_day_are_the_stores(late: Till) -> None:
    late.clock.set(datetime(2026, 1, 5, 15, 30, tzinfo=UTC))  # the 5th, 23:30 in Shanghai
    late.register(channel="guide", guide_id=late.guide.staff_id)
    late.clock.set(datetime(2026, 1, 5, 16, 30, tzinfo=UTC))  # the 6th, 00:30 in Shanghai
    late.register(channel="guide", guide_id=late.guide.staff_id)
    late.clock.set(LATE_UTC)
    summary = day_summary(late.uow, store_id=late.cashier.store_id,
                          device_id=late.cashier.device_id)
    assert summary.day == SHANGHAI_DAY and summary.total_registrations == 1
    board = kpi.dashboard(late.uow, clerk=late.manager)
    assert board.day == SHANGHAI_DAY and board.registrations == 1
    assert (board.now.date(), board.now.hour) == (SHANGHAI_DAY, 7)
    yesterday = kpi.dashboard(late.uow, clerk=late.manager, day=date(2026, 1, 5))
    assert yesterday.registrations == 1


# --- the setting ---------------------------------------------------------------------------


def test_the_time_zone_defaults_to_shanghai_and_is_read_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    assert load_config(path).time_zone == "Asia/Shanghai"
    path.write_text('time_zone = "Asia/Urumqi"\n', encoding="utf-8")
    assert load_config(path).time_zone == "Asia/Urumqi"


@pytest.mark.parametrize(("value", "says"), [
    ('"Mars/Olympus"', "unknown time zone 'Mars/Olympus'"),
    ('"+08:00"', "unknown time zone '+08:00'"),
    ('""', "must be an IANA time zone name"),
    ("8", "must be an IANA time zone name in quotes"),
    # the host's own zone under another name (a Linux till's /usr/share/zoneinfo): refused
    ('"localtime"', "unknown time zone 'localtime'"),
    ('"posixrules"', "unknown time zone 'posixrules'"),
])
def test_a_bad_time_zone_is_refused_naming_the_key(tmp_path: Path, value: str, says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"time_zone = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigInvalid) as refused:
        load_config(path)
    text = refused.value.text()
    assert "time_zone" in text and says in text


# --- the guard: the host's zone stays out of the code ----------------------------------------

# Where the host's zone is meant: HQ's operator types a time without an offset in HQ's zone.
_HOST_ZONE_ALLOWED = {"sync/server/cli.py"}


def test_no_code_converts_to_the_hosts_time_zone() -> None:
    """``x.astimezone()`` (or ``astimezone(None)``) means the host's zone; ruff's DTZ rules do
    not see it, so this does. Use the clock: ``clock.local(x)``, ``x.astimezone(clock.zone)``."""
    found = []
    for package in ("pos_member", "ui", "sync", "tests", "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "astimezone" and not node.keywords and (
                            not node.args or (isinstance(node.args[0], ast.Constant)
                                              and node.args[0].value is None)):
                    found.append(f"{rel}:{node.lineno}")
    assert [f for f in found if f.split(":")[0] not in _HOST_ZONE_ALLOWED] == []
    assert len(found) == len(_HOST_ZONE_ALLOWED)  # the allowed one is still there and seen
