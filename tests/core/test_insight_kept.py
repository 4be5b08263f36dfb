"""Programme health at a chain's scale (till migration 0026): the running ledger sums, the
ledgers' home store and the purchase days follow every change of the rows (sales, a partial
and a whole refund, points redeemed, stored value, a merge, rows that came before their
member), the report read from them equals the report over whole ledgers, and 0026 fills them
on a till of 0024."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.db.models import PointsEntry, Sale
from pos_member.services import sales
from pos_member.services.insight import health_report, programme_health
from pos_member.services.sale_refunds import refund_sale
from pos_member.services.stored_value import top_up
from tests.core.test_apply import merge_event
from tests.core.test_till_migrations import downgrade
from tests.factories import Till, apply_pulled

pytestmark = pytest.mark.usefixtures("cheap_hash")


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 4, tzinfo=UTC)  # 12:00 in the store's zone


def sell(t: Till, member_id: str | None, fen: int, bill: str, **kw: object) -> None:
    sales.record_sale(t.uow, t.cashier, txn_id=str(uuid.uuid4()), bill_no=bill,
                      amount_fen=fen, member_id=member_id, **kw)  # type: ignore[arg-type]


def kept_and_truth(path: Path) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Each member's kept sums, and the same worked out from the whole ledgers (members with
    nothing left out of both)."""
    con = sqlite3.connect(path)
    try:
        kept = {r[0]: tuple(r[1:]) for r in con.execute(
            "SELECT member_id, points, sv_principal_fen, sv_bonus_fen FROM member_ledger_sums")}
        truth = {r[0]: tuple(r[1:]) for r in con.execute(
            "SELECT member_id, sum(p), sum(a), sum(b) FROM ("
            "SELECT member_id, points AS p, 0 AS a, 0 AS b FROM points_entries UNION ALL "
            "SELECT member_id, 0, principal_delta_fen, bonus_delta_fen FROM sv_ledger) "
            "GROUP BY member_id")}
    finally:
        con.close()

    def some(d: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        return {k: v for k, v in d.items() if any(v)}

    return some(kept), some(truth)


def stray_homes(path: Path) -> list[tuple[str, str | None]]:
    """Ledger rows whose home store is not their member's (None where the member is unknown)."""
    con = sqlite3.connect(path)
    try:
        return [r for table in ("sales", "points_entries") for r in con.execute(
            f"SELECT l.id, l.home_store_id FROM {table} l LEFT JOIN members m "
            "ON m.id = l.member_id WHERE l.home_store_id IS NOT m.store_id")]
    finally:
        con.close()


def assert_same_reports(t: Till, periods: list[tuple[date, date]]) -> None:
    """The report from the kept figures (``programme_health``) equals the one over whole
    ledgers (``health_report`` without them), for the chain and the store."""
    for start, end in periods:
        for store in (None, t.manager.store_id):
            kept = programme_health(t.uow, clerk=t.manager, start=start, end=end,
                                    store_id=store)
            with t.uow.read() as s:
                ledgers = health_report(s, start=start, end=end, store_id=store,
                                        today=t.clock.today(), zone=t.clock.zone,
                                        churned_days=t.uow.rules.lifecycle.churned_days)
            assert kept == ledgers, (start, end, store)


def late_member(t: Till, like: str) -> str:
    """A sale and points of a member this till has not seen registered yet (pulled ahead of
    the registration), then the registration: a copy of ``like``'s row under a new id."""
    member_id = str(uuid.uuid4())
    with t.uow.begin() as tx:
        tx.session.add(Sale(
            id=str(uuid.uuid4()), txn_id=str(uuid.uuid4()), store_id=t.manager.store_id,
            device_id=t.manager.device_id, bill_no="LATE-1", amount_fen=4_000,
            member_id=member_id, categories=[], sold_at=at(3, 2), business_day=date(2026, 3, 2),
            refunded_fen=0))
        tx.session.add(PointsEntry(id=str(uuid.uuid4()), member_id=member_id, kind="earn",
                                   points=40, store_id=t.manager.store_id,
                                   device_id=t.manager.device_id, at=at(3, 2)))
        tx.commit()
    with t.uow.read() as s:  # not known yet: no home store
        assert s.scalar(text("SELECT home_store_id FROM sales WHERE bill_no = 'LATE-1'")) is None
    with t.uow.begin() as tx:
        cols = [r[1] for r in tx.conn.execute(text("PRAGMA table_info(members)"))]
        new = {"id": ":id", "member_no": "'9' || substr(member_no, 2)",
               "phone_index": "'late' || phone_index"}
        tx.conn.execute(text(
            f"INSERT INTO members ({', '.join(cols)}) SELECT "
            f"{', '.join(new.get(c, c) for c in cols)} FROM members WHERE id = :like"),
            {"id": member_id, "like": like})
        tx.commit()
    return member_id


def test_the_kept_figures_follow_every_change_and_the_report_equals_the_ledgers(
        a: Till) -> None:
    a.clock.set(at(1, 5))
    w, lo, x = a.register(), a.register(), a.register()
    sell(a, w.id, 30_000, "B1")
    sell(a, None, 5_000, "B2")
    a.clock.set(at(2, 10))
    sell(a, lo.id, 20_000, "B3")
    sell(a, x.id, 12_000, "B4")
    top_up(a.uow, clerk=a.cashier, member_id=lo.id, amount_fen=50_000, method="cash",
           txn_id="sv-1")
    a.clock.set(at(3, 3))
    sell(a, w.id, 9_000, "B5", redeem_points=100)
    sell(a, x.id, 6_000, "B6")
    refund_sale(a.uow, a.manager, approver=a.manager, txn_id="r-1", bill_no="B4",
                amount_fen=2_000)
    refund_sale(a.uow, a.manager, approver=a.manager, txn_id="r-2", bill_no="B6")
    late_member(a, like=x.id)
    kept, truth = kept_and_truth(a.path)
    assert kept == truth and lo.id in kept and not stray_homes(a.path)
    apply_pulled(a, [merge_event(w, lo)])
    kept, truth = kept_and_truth(a.path)
    assert kept == truth and lo.id not in kept and not stray_homes(a.path)
    assert_same_reports(a, [(date(2026, 2, 1), date(2026, 2, 28)),
                            (date(2026, 3, 1), date(2026, 3, 31)),
                            (date(2026, 1, 1), date(2026, 3, 31))])


def test_migration_0026_fills_the_kept_figures_on_a_till_of_0025(a: Till) -> None:
    a.clock.set(at(2, 10))
    m, n = a.register(), a.register()
    sell(a, m.id, 20_000, "B1")
    sell(a, n.id, 8_000, "B2")
    top_up(a.uow, clerk=a.cashier, member_id=n.id, amount_fen=30_000, method="cash",
           txn_id="sv-1")
    a.clock.set(at(3, 3))
    sell(a, m.id, 6_000, "B3", redeem_points=50)
    refund_sale(a.uow, a.manager, approver=a.manager, txn_id="r-1", bill_no="B2")
    a.app.close()
    downgrade(a.path, "0025")
    con = sqlite3.connect(a.path)
    try:
        assert not con.execute("SELECT name FROM sqlite_master WHERE name LIKE '%_home_%' "
                               "OR name = 'member_ledger_sums'").fetchall()
    finally:
        con.close()

    a.app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    assert schema_version(a.path) == engine.SCHEMA_HEAD
    kept, truth = kept_and_truth(a.path)
    assert kept == truth and set(kept) == {m.id, n.id} and not stray_homes(a.path)
    assert_same_reports(a, [(date(2026, 3, 1), date(2026, 3, 31)),
                            (date(2026, 2, 1), date(2026, 3, 31))])
