"""A member's purchases (issue 17): their bills, newest first, with the points each used and
earned, what has been refunded, and how it was paid where the till knows (a checkout's or the
main POS's tenders, kept in ``pos_bills``). Read from the card (the purchase history) and by
Shift+F4 (a refund starts from the bill: what can still be refunded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pos_member.db.models import PosBill, Sale, SalePoints
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Action, Clerk, require
from pos_member.services.points_ledger import aware


@dataclass(frozen=True, slots=True)
class Purchase:
    bill_no: str
    sold_at: datetime
    bill_fen: int  # the bill before points
    paid_fen: int  # what the customer paid: the bill less the points
    refunded_fen: int
    redeem_points: int
    earned: int  # points earned, before any refund took some back
    clawed: int  # points a refund took back
    tenders: tuple[tuple[str, int], ...]  # (kind, fen); empty: not known (a plain F4 sale)

    @property
    def refundable_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


def purchases(uow: UnitOfWork, *, clerk: Clerk, member_id: str, limit: int = 50,
              bill_no: str | None = None) -> list[Purchase]:
    """The member's last ``limit`` bills of any store this till knows, newest first (or the
    one ``bill_no`` of this store, for any member or none: ``member_id`` "" then)."""
    require(clerk, Action.VIEW_MEMBER)
    stmt = (select(Sale.bill_no, Sale.sold_at, Sale.amount_fen, Sale.refunded_fen,
                   SalePoints.bill_fen, SalePoints.redeem_points, SalePoints.earned,
                   SalePoints.clawed, PosBill.tenders)
            .outerjoin(SalePoints, SalePoints.sale_id == Sale.id)
            .outerjoin(PosBill, PosBill.sale_id == Sale.id))
    if bill_no is not None:
        stmt = stmt.where(Sale.store_id == clerk.store_id, Sale.bill_no == bill_no)
    else:
        stmt = stmt.where(Sale.member_id == member_id)
    stmt = stmt.order_by(Sale.sold_at.desc(), Sale.id.desc()).limit(limit)
    with uow.read() as s:
        rows = s.execute(stmt).all()
    return [Purchase(bill, aware(at), bill_fen if bill_fen is not None else paid, paid,
                     refunded, redeem or 0, earned or 0, clawed or 0,
                     tuple((str(t[0]), int(t[1])) for t in (tenders or ())))
            for bill, at, paid, refunded, bill_fen, redeem, earned, clawed, tenders in rows]
