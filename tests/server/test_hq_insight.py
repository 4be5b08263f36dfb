"""HQ's programme-health report (issue 19): the event log read into the reporting copy, the
till's report run on it for a small chain worked out by hand (PostgreSQL: HQ's database; the
queries are the till's, tested on SQLite in tests/core/test_insight.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from pos_member.errors import PeriodReversed
from pos_member.rules_config import default_rules_path
from sync.server import insight, services
from sync.server.cli import main
from sync.server.db import upgrade
from tests.server.factories import Device, LiveServer
from tests.server.migrating import downgrade, upgrade_from


def _register(d: Device, phone: str) -> tuple[str, Any]:
    member_id = str(uuid.uuid4())
    at = d.server.clock.now() - timedelta(hours=1)
    return member_id, d.event(type="member.registered", payload=d.registered({
        "member_id": member_id, "member_no": uuid.uuid4().hex[:13], "phone_index": phone * 64,
        "registered_at": at.isoformat(), "store_id": d.store_id}))


def _sale(d: Device, member_id: str | None, fen: int, points: int = 0,
          redeemed: int = 0) -> tuple[str, Any]:
    sale_id, now = str(uuid.uuid4()), d.server.clock.now()
    entries = [{"id": str(uuid.uuid4()), "member_id": member_id, "kind": kind,
                "points": n, "at": now.isoformat()}
               for kind, n in (("earn", points), ("redeem", -redeemed)) if n]
    return sale_id, d.event(type="sale.recorded", payload={
        "sale": {"id": sale_id, "txn_id": sale_id, "store_id": d.store_id, "device_id": d.id,
                 "bill_no": sale_id[:8], "amount_fen": fen, "member_id": member_id,
                 "sold_at": now.isoformat(), "business_day": now.date().isoformat()},
        "member_id": member_id, "txn_id": sale_id, "entries": entries})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # HQ's: the suite's
def test_the_chain_report_from_the_log_against_figures_worked_out_by_hand(  # time is short
        server: LiveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    services.publish_rules(server.ctx, path=default_rules_path())
    a, b = server.enrol(), server.enrol()
    m1, r1 = _register(a, "1")
    m2, r2 = _register(a, "2")
    m3, r3 = _register(b, "3")
    s1, e1 = _sale(a, m1, 10_000, points=100)
    s2, e2 = _sale(a, m1, 5_000)
    refund = a.event(type="sale.refunded", payload={"sale_id": s2, "refund_fen": 5_000,
                                                    "clawed": 0, "restored": 0, "entries": []})
    _, walk_in = _sale(a, None, 3_000)
    topup = a.event(type="sv.topped_up", payload={
        "member_id": m2, "txn_id": "t-1", "principal_delta_fen": 10_000,
        "bonus_delta_fen": 1_000})
    a.push([r1, r2, e1, e2, refund, walk_in, topup])
    b.push([r3, _sale(b, m3, 20_000)[1]])
    m4, r4 = _register(a, "3")  # M3's phone again at store 1, later: merged into M3
    a.push([r4, _sale(a, m4, 2_000)[1]])

    downgrade(server.ctx.db, "0012")  # a server of the previous schema, its log full
    upgrade(server.ctx.db)  # migration 0013: the reporting copy, read from the log at once
    today = server.clock.now().date()
    report, _, _ = insight.chain_health(server.ctx, start=today.replace(day=1), end=today)
    chain = report.row(None).tally
    assert (chain.members, chain.new_members, chain.active_members) == (3, 3, 2)
    assert (chain.buyers, chain.repeat_buyers, chain.member_spend_fen) == (2, 1, 32_000)
    assert report.row(None).arpu_fen == 10_667
    assert (chain.points_issued, chain.points_outstanding) == (100, 100)
    assert (chain.sv_principal_fen, chain.sv_bonus_fen) == (10_000, 1_000)
    one = report.row(a.store_id)
    assert (one.tally.member_bills, one.tally.member_bills_fen) == (2, 12_000)
    assert (one.tally.walk_in_bills_fen, one.store_sales_fen) == (3_000, 15_000)
    assert str(one.member_sales_share) == "0.8000"

    with server.ctx.db.read() as conn:
        before = insight.counts(conn)
    assert insight.refresh(server.ctx) == 0  # nothing new: nothing read, nothing doubled
    report2, _, _ = insight.chain_health(server.ctx, start=today.replace(day=1), end=today)
    assert report2 == report
    with server.ctx.db.read() as conn:
        assert insight.counts(conn) == before
    number = next(n for n, sid in server.stores.items() if sid == a.store_id)
    one_store, _, _ = insight.chain_health(server.ctx, start=today.replace(day=1), end=today,
                                           store=number)  # read member by member
    assert [r for r in report.rows if r.store_id == a.store_id] == list(one_store.rows)
    # The chain's RFM cuts for the tills: M1 (1 purchase, ¥100) and M3 (2, ¥220 with M4's):
    # ranks ⌈2k/5⌉ = 1, 1, 2, 2.
    cuts = insight.publish_rfm_bounds(server.ctx)
    assert cuts is not None and (cuts.buyers, cuts.f, cuts.m) == (2, [1, 1, 2, 2],
                                                                  [10_000, 10_000, 22_000, 22_000])
    [published] = [c.event for c in a.pull().changes if c.event.type == "rfm.bounds_published"]
    assert published.payload["f"] == [1, 1, 2, 2]
    with pytest.raises(PeriodReversed):
        insight.chain_health(server.ctx, start=today, end=today - timedelta(days=1))

    assert main(["--database", server.url, "health-report", "--from",
                 today.replace(day=1).isoformat(), "--to", today.isoformat()]) == 0
    out = capsys.readouterr().out.splitlines()  # the .xlsx is the till's workbook (--xlsx)
    assert out[-1].split("\t")[:5] == ["Chain", "All tiers", "3", "3", "2"]

    # 40 days on: M1 moves up a tier and redeems, M3 buys and is refunded, M2 draws on stored
    # value, a new member's sale arrives before their registration. The report from the kept
    # sums and home stores (PostgreSQL's path) equals the till's queries over whole ledgers,
    # for a period with rows after its end and one up to today, the chain and each store.
    server.clock.advance(days=40)
    m5, r5 = _register(a, "5")
    s3, e3 = _sale(b, m3, 8_000, points=80)
    b.push([e3, b.event(type="sale.refunded", payload={
        "sale_id": s3, "refund_fen": 8_000, "clawed": 0, "restored": 0, "entries": []})])
    a.push([_sale(a, m1, 30_000, points=300, redeemed=50)[1], _sale(a, m5, 1_000, points=10)[1],
            a.event(type="member.tier_changed", payload={"member_id": m1, "from": "regular",
                                                         "to": "gold", "reason": "spend",
                                                         "at": server.clock.now().isoformat()}),
            a.event(type="sv.spent", payload={"member_id": m2, "txn_id": "t-2",
                                              "principal_delta_fen": -4_000,
                                              "bonus_delta_fen": -400}), r5,
            a.event(type="sale.refunded", payload={  # M1's first purchase, 40 days late
                "sale_id": s1, "refund_fen": 10_000, "clawed": 0, "restored": 0,
                "entries": []})])
    insight.refresh(server.ctx)
    with server.ctx.db.read() as conn:
        kept = {m: tuple(conn.execute(text(
            "SELECT points_balance, sv_principal_fen, sv_bonus_fen FROM members WHERE id = :m"),
            {"m": m}).one()) for m in (m1, m2, m3, m4, m5)}
    assert kept == {m1: (350, 0, 0), m2: (0, 6_000, 600), m3: (80, 0, 0), m4: (0, 0, 0),
                    m5: (10, 0, 0)}
    rules = tmp_path / "rules.toml"  # churn at 40 days: M3 (wholly refunded since) churned;
    # M1 bought nothing before the period once its first sale is refunded: not in the base
    rules.write_text(default_rules_path().read_text(encoding="utf-8").replace(
        "dormant_days = 90\nchurned_days = 365", "dormant_days = 20\nchurned_days = 40")
        .replace('version = "2026.1"', 'version = "2026.1-churn40"'), encoding="utf-8")
    services.publish_rules(server.ctx, path=rules)
    today = server.clock.now().date()
    periods = [(today.replace(day=1) - timedelta(days=60), today - timedelta(days=20)),
               (today - timedelta(days=3), today)]

    def reports() -> list[Any]:
        out = []
        for start, end in periods:
            for number in (None, *server.stores):
                out.append([insight.chain_health(server.ctx, start=start, end=end, store=number,
                                                 kept_sums=kept)[0] for kept in (True, False)])
        return out

    both = reports()
    assert all(summed == whole for summed, whole in both)
    late = both[0][0].row(None).tally  # the first period: before the 40 days
    assert (late.points_outstanding, late.sv_principal_fen, late.members) == (100, 10_000, 3)
    now = both[len(server.stores) + 1][0]
    assert now.row(a.store_id, "gold").tally.points_outstanding == 350
    assert (now.row(None).tally.sv_principal_fen, now.row(None).tally.members) == (6_000, 4)
    assert (now.row(None).tally.churn_base, now.row(None).tally.churned) == (1, 1)
    upgrade_from(server.url, "0016")  # migration 0017 fills the sums and home stores again
    assert reports() == both


def test_a_broken_tills_huge_numbers_are_left_out_and_stop_no_refresh(
        server: LiveServer) -> None:
    """Amounts no database integer holds (2**70), or whose sums overflow one (2**62 twice),
    were stored by push (payloads are the tills') and then stopped every refresh for good:
    OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL."""
    services.publish_rules(server.ctx, path=default_rules_path())
    a = server.enrol()
    m1, r1 = _register(a, "1")
    # 2**70 itself, and "lots" for a refund, are refused at push now (sync.server.payloads)
    huge = [a.event(type="sv.topped_up", payload={
        "member_id": m1, "txn_id": f"t-{n}", "principal_delta_fen": v, "bonus_delta_fen": v})
        for n, v in enumerate((2**62, 2**62))]
    _, bad_sale = _sale(a, m1, 2**62)
    _, bad_sale_2 = _sale(a, m1, 2**62)
    refund = a.event(type="sale.refunded", payload={"sale_id": str(uuid.uuid4()),
                                                    "refund_fen": 2**62})
    _, good_sale = _sale(a, m1, 10_000, points=100)
    a.push([r1, *huge, bad_sale, bad_sale_2, refund, good_sale])
    today = server.clock.now().date()
    report, _, _ = insight.chain_health(server.ctx, start=today.replace(day=1), end=today)
    chain = report.row(None).tally
    assert (chain.member_spend_fen, chain.points_issued) == (10_000, 100)
    assert (chain.sv_principal_fen, chain.sv_bonus_fen) == (0, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_report_escapes_a_store_name_that_would_be_a_formula(
        server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    """As the workbook does (``pos_member.spreadsheet``): the lines are pasted into sheets."""
    services.publish_rules(server.ctx, path=default_rules_path())
    server.stores[5] = services.create_store(server.ctx, number=5, name="=HYPERLINK(1)").id
    a = server.enrol(5)
    a.push([_register(a, "1")[1]])
    today = server.clock.now().date()
    capsys.readouterr()
    assert main(["--database", server.url, "health-report", "--from",
                 today.replace(day=1).isoformat(), "--to", today.isoformat()]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[2:]]
    assert "'=HYPERLINK(1)" in [r[0] for r in rows]
    assert not [r for r in rows if r[0].startswith(("=", "+", "-", "@"))]
