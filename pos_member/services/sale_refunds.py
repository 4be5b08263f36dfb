"""Refunds of sales (退货): the money back, the points earned on it taken back and the points
redeemed on it given back, approved by a manager (SPEC §2.3).

A refund's share of the points is cumulative over partial refunds (``points_rules.share``),
so a sale refunded in parts ends exactly where a full refund would. :func:`apply_refund` is
the refund's effect on the sale, for local refunds and pulled ones
(:mod:`pos_member.services.sales_sync`) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import RefundTooLarge, SaleNotFound
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk, require
from pos_member.points_rules import share
from pos_member.services import points_ledger, rfm
from pos_member.services.points import raise_negative_flag
from pos_member.services.points_notices import tell_points
from pos_member.services.sales import (
    SALE_BY_BILL,
    SALE_POINTS,
    SALE_REFUNDED,
    SALES,
    check_amount,
    clean_bill_no,
)
from pos_member.services.staff import approve as staff_approve


@dataclass(frozen=True, slots=True)
class RefundResult:
    txn_id: str
    sale_id: str
    bill_no: str
    refund_fen: int
    refunded_total_fen: int
    clawed_points: int
    restored_points: int
    balance: int | None  # None for a walk-in sale
    flagged: bool  # the member's balance went below zero
    repeated: bool = False
    member_id: str | None = None  # the sale's member (None: a walk-in, or a repeated call)

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.SALES, Area.POINTS, members=(self.member_id,))



@dataclass(frozen=True, slots=True)
class RefundQuote:
    """What a refund would do, read before it is confirmed (nothing written)."""

    bill_no: str
    bill_fen: int
    refunded_fen: int  # refunded before this one
    refund_fen: int
    clawed_points: int
    restored_points: int
    balance: int | None  # the member's points now (None: a walk-in sale)


def quote_refund(uow: UnitOfWork, clerk: Clerk, *, bill_no: str,
                 amount_fen: int | None = None) -> RefundQuote:
    """The figures :func:`refund_sale` would book for the same inputs, refused the same way
    (no such bill, more than is left), so the till shows them before a manager confirms."""
    require(clerk, Action.VIEW_MEMBER)
    bill_no = clean_bill_no(bill_no)
    if amount_fen is not None:
        amount_fen = check_amount(amount_fen)
    with uow.read() as s:
        conn = s.connection()
        sale = conn.execute(SALE_BY_BILL, {"store_id": clerk.store_id,
                                            "bill_no": bill_no}).first()
        if sale is None:
            raise SaleNotFound(bill_no=bill_no)
        left = sale.amount_fen - sale.refunded_fen
        amount = left if amount_fen is None else amount_fen
        if amount <= 0 or amount > left:
            raise RefundTooLarge(left=format_yuan(left), bill_no=bill_no)
        total = sale.refunded_fen + amount
        sp = conn.execute(select(SALE_POINTS).where(SALE_POINTS.c.sale_id == sale.id)).first()
        claw = restore = 0
        balance = None
        if sp is not None:
            claw = share(sp.earned, total, sale.amount_fen) - sp.clawed
            restore = share(sp.redeem_points, total, sale.amount_fen) - sp.restored
            balance = points_ledger.balance_of(conn, sp.member_id)
    return RefundQuote(bill_no, sale.amount_fen, sale.refunded_fen, amount, claw, restore,
                       balance)


# -- refund ---------------------------------------------------------------------------------


def refund_sale_with_pin(uow: UnitOfWork, clerk: Clerk, *, manager_code: str,
                         manager_pin: str, txn_id: str, bill_no: str,
                         amount_fen: int | None = None) -> RefundResult:
    """The till's refund (Shift+F4): the cashier's inputs and a manager's staff number and PIN
    (a logged-in manager may leave them empty). A repeat of a done ``txn_id`` returns its first
    result without asking again; otherwise the PIN is checked (a wrong one counts towards the
    manager's lock, a right one is audited as ``staff.login``), then :func:`refund_sale`."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        done = points_ledger.txn_result(s.connection(), txn_id, "refund")
    if done is not None:
        return RefundResult(**done, repeated=True)
    if clerk.may(Action.REFUND_SALE) and not manager_code.strip():
        approver = clerk
    else:
        approver = staff_approve(uow, code=manager_code.strip(), pin=manager_pin,
                                 device_id=clerk.device_id, action=Action.REFUND_SALE)
    return refund_sale(uow, clerk, approver=approver, txn_id=txn_id, bill_no=bill_no,
                       amount_fen=amount_fen)


def refund_sale(uow: UnitOfWork, clerk: Clerk, *, approver: Clerk, txn_id: str, bill_no: str,
                amount_fen: int | None = None,
                within: Callable[[Transaction, dict[str, Any]], None] | None = None
                ) -> RefundResult:
    """Refunds ``amount_fen`` of a sale of this store (None: all that is left), approved by a
    manager (``approver``: the clerk themself if a manager, or the manager who entered their
    number and PIN at the till; named in the event and the audit). For a member sale, the
    points earned on the refunded part are taken back, even if already spent (the balance may
    go below zero: the member is flagged for the manager), and the points redeemed on it are
    given back as lots with their original expiry. Shares are cumulative over partial refunds,
    so a sale refunded in parts ends exactly where a full refund would.

    ``within(tx, result)`` writes what a caller keeps beside the refund in the same
    transaction (the POS's refunded lines: pos_member.integration); not called for a repeat."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.REFUND_SALE)
    bill_no = clean_bill_no(bill_no)
    if amount_fen is not None:
        amount_fen = check_amount(amount_fen)
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done = points_ledger.txn_result(conn, txn_id, "refund")
        if done is not None:
            return RefundResult(**done, repeated=True)
        sale = conn.execute(SALE_BY_BILL, {"store_id": clerk.store_id,
                                            "bill_no": bill_no}).first()
        if sale is None:
            raise SaleNotFound(bill_no=bill_no)
        left = sale.amount_fen - sale.refunded_fen
        amount = left if amount_fen is None else amount_fen
        if amount <= 0 or amount > left:
            raise RefundTooLarge(left=format_yuan(left), bill_no=bill_no)
        total = sale.refunded_fen + amount
        sp = conn.execute(select(SALE_POINTS).where(
            SALE_POINTS.c.sale_id == sale.id)).first()
        entries: list[dict[str, Any]] = []
        claw = restore = 0
        if sp is not None:
            claw = share(sp.earned, total, sale.amount_fen) - sp.clawed
            restore = share(sp.redeem_points, total, sale.amount_fen) - sp.restored
            if claw > 0:
                entries.append(points_ledger.new_entry(
                    tx, clerk, member_id=sp.member_id, kind=points_ledger.CLAWBACK,
                    points=-claw, at=now, txn_id=txn_id, sale_id=sale.id, bill_no=bill_no,
                    consume=[(sale.id, claw)]))
            entries.extend(_restore_entries(tx, clerk, sp, restore, now, txn_id, sale.id,
                                            bill_no))
        payload = events.SaleRefunded(sale_id=sale.id, txn_id=txn_id, member_id=sale.member_id,
                                      refund_fen=amount, clawed=claw, restored=restore,
                                      entries=entries,
                                      approved_by=approver.staff_id)
        ev = tx.record(clerk, events.SALE_REFUNDED, payload, entity_id=sale.id)
        apply_refund(conn, sale.id, amount, claw, restore)
        if total == sale.amount_fen:  # the whole bill back: its coupons too (not expired)
            from pos_member.services.coupon_redeem import return_for_refund

            return_for_refund(tx, clerk, sale_id=sale.id)
        for e in entries:
            points_ledger.post_entry(conn, e, event_id=ev.id, fresh=True)
        balance = points_ledger.balance_of(conn, sp.member_id) if sp is not None else None
        if sp is not None and balance is not None:
            tell_points(tx, member_id=sp.member_id, change=restore - claw, balance=balance,
                        reason="refunded", key=ev.id)
        flagged = balance is not None and balance < 0
        if flagged and sp is not None:
            raise_negative_flag(tx, clerk, member_id=sp.member_id, balance=balance or 0,
                                    bill_no=bill_no)
        result = {"txn_id": txn_id, "sale_id": sale.id, "bill_no": bill_no,
                  "refund_fen": amount, "refunded_total_fen": total, "clawed_points": claw,
                  "restored_points": restore, "balance": balance, "flagged": flagged}
        points_ledger.keep_txn(conn, txn_id, "refund", sale.member_id, result, now)
        tx.audit(clerk, SALE_REFUNDED, "sale", sale.id,
                 before={"refunded_fen": sale.refunded_fen},
                 after={**result, "approved_by": approver.staff_id}, event=ev)
        if within is not None:
            within(tx, result)
        tx.commit()
    return RefundResult(**result, member_id=sale.member_id)


def _restore_entries(tx: Transaction, clerk: Clerk, sp: Any, restore: int, now: datetime,
                     txn_id: str, sale_id: str, bill_no: str) -> list[dict[str, Any]]:
    """Redeemed points given back, one entry per lot they came from, each with that lot's
    expiry (an already past expiry makes the expiry job take them at its next run)."""
    out: list[dict[str, Any]] = []
    skip = sp.restored
    for lot_id, n, expires in sp.redeem_lots:
        take = min(n, max(0, skip))
        skip -= take
        avail = n - take
        k = min(avail, restore)
        if k > 0:
            out.append(points_ledger.new_entry(
                tx, clerk, member_id=sp.member_id, kind=points_ledger.RESTORE, points=k, at=now,
                txn_id=txn_id, sale_id=sale_id, bill_no=bill_no,
                lot_expires_at=points_ledger.to_datetime(expires), note=str(lot_id)[:36]))
            restore -= k
        if restore <= 0:
            break
    return out


# Run on the driver (pos_member/db/prepared.py), for local and pulled refunds alike.
_ADD_REFUNDED = Prepared(update(SALES).where(SALES.c.id == bindparam("id")).values(
    refunded_fen=SALES.c.refunded_fen + bindparam("amount")))
_ADD_CLAWED = Prepared(update(SALE_POINTS).where(SALE_POINTS.c.sale_id == bindparam("id")).values(
    clawed=SALE_POINTS.c.clawed + bindparam("claw"),
    restored=SALE_POINTS.c.restored + bindparam("restore")))


def apply_refund(conn: Connection, sale_id: str, amount: int, claw: int, restore: int) -> None:
    """A refund's effect on the sale and its points (local refunds and pulled ones alike)."""
    _ADD_REFUNDED.run(conn, {"id": sale_id, "amount": amount})
    rfm.refresh_for_sale(conn, sale_id)  # the member's RFM figures (issue 19)
    _ADD_CLAWED.run(conn, {"id": sale_id, "claw": claw, "restore": restore})
