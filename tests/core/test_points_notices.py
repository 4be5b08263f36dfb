"""Every change of a member's points tells the member (issue 18): one ``points.changed``
message per operation — a sale, an exchange, an adjustment, a refund, an expiry (by the till
that made the lot only) — and none for an operation repeated."""

from __future__ import annotations

from sqlalchemy import select

from pos_member.db.models import NotificationOutbox
from pos_member.services import points, sales
from pos_member.services.points_expiry import expire_due
from pos_member.services.sale_refunds import refund_sale
from tests.factories import Till, apply_pulled, wire_events


def told(till: Till, member_id: str) -> list[dict[str, object]]:
    with till.uow.read() as s:
        return [r.params for r in s.execute(select(NotificationOutbox.params).where(
            NotificationOutbox.member_id == member_id,
            NotificationOutbox.kind == "points.changed").order_by(
            NotificationOutbox.created_at, NotificationOutbox.id))]


def test_each_points_change_is_told_once(till: Till) -> None:
    m = till.register()
    sales.record_sale(till.uow, till.cashier, txn_id="s-1", bill_no="P-1", amount_fen=60_000,
                      member_id=m.id)
    sales.record_sale(till.uow, till.cashier, txn_id="s-1", bill_no="P-1", amount_fen=60_000,
                      member_id=m.id)  # repeated: nothing more
    points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id="a-1",
                         member_id=m.id, points=-50, reason="test")
    points.redeem_for_item(till.uow, clerk=till.cashier, txn_id="g-1", member_id=m.id,
                           item_code="GIFT-BAG")
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id="r-1", bill_no="P-1")
    changes = [(p["change"], p["balance"]) for p in told(till, m.id)]
    earned = 600  # ¥600 at 1 point per yuan (no member day in the fake clock's January)
    assert changes[0] == (f"+{earned}", 100 + earned)
    assert [c for c, _ in changes] == [f"+{earned}", "-50", "-500", f"-{earned}"]
    assert changes[-1][1] == 100 + earned - 50 - 500 - earned


def test_an_expiry_is_told_by_the_till_that_made_the_lot_only(a: Till, b: Till) -> None:
    m = a.register()
    apply_pulled(b, wire_events(a))
    for t in (a, b):
        t.clock.advance(days=800)
        expire_due(t.uow, clerk=t.cashier, remind=False)
    assert [p["change"] for p in told(a, m.id)] == ["-100"]
    assert told(b, m.id) == []
