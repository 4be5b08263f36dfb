"""Stateful: random earn, redeem, refund, gift exchanges, expire, adjust and tier evaluations
across clock jumps (forward by days, back by minutes: a till's clock corrected), with or without
pending points; a refused operation and a repeated one (same till transaction id) change
nothing. After every step the balance equals the ledger sum and the open lots equal the
balance."""

from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pos_member.errors import DomainError
from pos_member.services import points, points_expiry, sales, tiers
from pos_member.services.sale_refunds import refund_sale
from tests.factories import Till, make_till


class PointsMachine(RuleBasedStateMachine):
    @initialize(pending_days=st.sampled_from([0, 0, 3]))
    def start(self, pending_days: int) -> None:
        self._dir = tempfile.TemporaryDirectory()
        self.till: Till = make_till(Path(self._dir.name))
        rules = self.till.uow.rules
        self.till.uow.rules = dataclasses.replace(
            rules, points=dataclasses.replace(rules.points, pending_days=pending_days))
        self.members = [self.till.register().id for _ in range(2)]
        self.bills: list[str] = []
        self.n = 0
        self.last: Callable[[], Any] | None = None  # the last operation that went through

    def _run(self, op: Callable[[], Any]) -> None:
        """Runs ``op``: kept for a repeat when it goes through; a refusal changes nothing."""
        before = self.till.dump()
        try:
            op()
        except DomainError:
            assert self.till.dump() == before
            return
        self.last = op

    def teardown(self) -> None:
        self.till.app.close()
        self._dir.cleanup()

    @rule(who=st.integers(0, 1), fen=st.integers(1, 600_000), redeem=st.integers(0, 3000))
    def sell(self, who: int, fen: int, redeem: int) -> None:
        self.n += 1
        bill, txn = f"B{self.n}", str(uuid.uuid4())

        def op() -> None:
            sales.record_sale(self.till.uow, self.till.cashier, txn_id=txn, bill_no=bill,
                              amount_fen=fen, member_id=self.members[who],
                              redeem_points=redeem)
            if bill not in self.bills:
                self.bills.append(bill)
        self._run(op)

    @rule(i=st.integers(0, 50), part=st.integers(0, 100))
    def refund(self, i: int, part: int) -> None:
        if not self.bills:
            return
        bill = self.bills[i % len(self.bills)]
        con = sqlite3.connect(self.till.path)
        amount, refunded = con.execute("SELECT amount_fen, refunded_fen FROM sales "
                                       "WHERE bill_no=?", (bill,)).fetchone()
        con.close()
        left = amount - refunded
        if left <= 0:
            return
        txn = str(uuid.uuid4())
        t = self.till
        self._run(lambda: refund_sale(t.uow, t.cashier, approver=t.manager, txn_id=txn,
                                            bill_no=bill, amount_fen=max(1, left * part // 100)))

    @rule(who=st.integers(0, 1), item=st.sampled_from(["GIFT-BAG", "CPN-10"]))
    def exchange(self, who: int, item: str) -> None:
        txn = str(uuid.uuid4())
        self._run(lambda: points.redeem_for_item(self.till.uow, clerk=self.till.cashier,
                                                 txn_id=txn, member_id=self.members[who],
                                                 item_code=item))

    @rule()
    def repeat(self) -> None:
        """The last operation again, same till transaction id: a double click, a retry."""
        if self.last is None:
            return
        before = self.till.dump()
        self.last()
        assert self.till.dump() == before

    @rule(days=st.integers(1, 400))
    def jump(self, days: int) -> None:
        self.till.clock.advance(days=days)

    @rule(minutes=st.integers(1, 90))
    def jump_back(self, minutes: int) -> None:
        self.till.clock.advance(minutes=-minutes)

    @rule()
    def expire(self) -> None:
        points_expiry.expire_due(self.till.uow, clerk=self.till.cashier)

    @rule(who=st.integers(0, 1), pts=st.integers(-500, 500))
    def adjust(self, who: int, pts: int) -> None:
        txn = str(uuid.uuid4())
        self._run(lambda: points.adjust_points(
            self.till.uow, clerk=self.till.cashier, approver=self.till.manager, txn_id=txn,
            member_id=self.members[who], points=pts, reason="test"))

    @rule()
    def evaluate(self) -> None:
        tiers.evaluate_tiers(self.till.uow, clerk=self.till.cashier, force=True)

    @invariant()
    def ledger_and_lots_agree(self) -> None:
        if not hasattr(self, "till"):
            return
        con = sqlite3.connect(self.till.path)
        try:
            for member_id in self.members:
                bal = con.execute("SELECT balance FROM points_accounts WHERE member_id=?",
                                  (member_id,)).fetchone()[0]
                total = con.execute("SELECT coalesce(sum(points),0) FROM points_entries "
                                    "WHERE member_id=?", (member_id,)).fetchone()[0]
                lots = con.execute("SELECT coalesce(sum(remaining),0) FROM points_lots "
                                   "WHERE member_id=?", (member_id,)).fetchone()[0]
                negative = con.execute("SELECT count(*) FROM points_lots WHERE remaining<0"
                                       ).fetchone()[0]
                assert bal == total, (bal, total)
                assert lots == max(0, bal), (lots, bal)
                assert negative == 0
        finally:
            con.close()


PointsMachine.TestCase.settings = settings(
    max_examples=28, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestPointsMachine = PointsMachine.TestCase
