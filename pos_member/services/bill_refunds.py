"""A refund starts from the bill (issue 17): the sale's refund (its points taken back and
returned, :func:`pos_member.services.sale_refunds.refund_sale`) and, for a bill the till's
checkout took, its money back the way it was taken, in the same transaction.

Rule (docs/rules.md, "One checkout"): a refund gives back stored value first, up to what the
bill took from the member's account less what earlier refunds of it gave back (principal and
bonus in the payment's proportion); the rest of the refund goes back by the bill's other
tender (cash, card or third-party), which the receipt and the confirmation name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pos_member.db.models import PosBill, Sale
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.permissions import Action, Clerk, require
from pos_member.services import points_ledger
from pos_member.services.checkout import STORED_VALUE, Tender, sv_txn_id
from pos_member.services.sale_refunds import RefundResult, refund_sale
from pos_member.services.staff import approve as staff_approve
from pos_member.services.stored_value import SvResult
from pos_member.services.stored_value_ledger import LEDGER
from pos_member.services.stored_value_refunds import return_part_of_payment


@dataclass(frozen=True, slots=True)
class BillRefund:
    refund: RefundResult
    stored_value: SvResult | None  # what went back into the member's account
    back: tuple[Tender, ...]  # how the money goes back (empty: the bill's tenders are unknown)


def split_back(tenders: list[Any], refund_fen: int, sv_left_fen: int) -> tuple[Tender, ...]:
    """How ``refund_fen`` goes back: stored value first (at most ``sv_left_fen``), the rest by
    the bill's other tender."""
    back: list[Tender] = []
    stored = min(refund_fen, max(0, sv_left_fen))
    if stored:
        back.append(Tender(STORED_VALUE, stored))
    rest = refund_fen - stored
    other = next((str(t[0]) for t in tenders if t[0] != STORED_VALUE), "cash")
    if rest > 0:
        back.append(Tender(other, rest))
    return tuple(back)


def bill_payments(bill: Any) -> list[tuple[str, int]]:
    """The stored-value payments a bill took, ``(till txn id, fen)``: a checkout's is derived
    from its own id (``<id>/sv``); a POS-reported bill keeps each payment's till txn id as the
    third element of its stored-value tender. A reported bill kept before that has none: its
    money goes back by its amount, as it did then."""
    stored = [t for t in bill.tenders if t[0] == STORED_VALUE]
    if bill.source == "till":
        fen = sum(int(t[1]) for t in stored)
        return [(sv_txn_id(bill.pos_txn_id), fen)] if fen else []
    return [(str(t[2]), int(t[1])) for t in stored if len(t) > 2 and t[2]]


def sv_left(conn: Any, payments: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """What of each of the bill's stored-value payments no refund has given back yet."""
    out = []
    for payment, took in payments:
        back = conn.execute(select(LEDGER.c.principal_delta_fen + LEDGER.c.bonus_delta_fen)
                            .where(LEDGER.c.ref_txn_id == payment)).scalars().all()
        out.append((payment, took - sum(back)))
    return out


_BILL = select(PosBill.tenders, PosBill.pos_txn_id, PosBill.source)


def give_back(tx: Transaction, clerk: Clerk, approver: Clerk, *, sale_id: str, refund_fen: int,
              txn_id: str) -> tuple[tuple[Tender, ...], SvResult | None]:
    """A refund's money, in the refund's transaction, for any bill kept in ``pos_bills`` (the
    till's checkout, the main POS's API or folder): stored value first, into the account it
    came from, up to what is left of the bill's payments (in their order; principal and bonus
    as :func:`return_part_of_payment` splits them), the rest by the bill's other tender. The
    stored-value returns take ``<txn_id>/sv`` (``/sv2``, … for a bill's further payments), so
    a retried refund returns them once. Nothing for a bill the till does not know the
    tenders of."""
    bill = tx.conn.execute(_BILL.where(PosBill.sale_id == sale_id)).first()
    if bill is None:
        return (), None
    left = sv_left(tx.conn, bill_payments(bill))
    back = split_back(bill.tenders, refund_fen, sum(f for _, f in left))
    stored = sum(t.amount_fen for t in back if t.kind == STORED_VALUE)
    returned: SvResult | None = None
    for i, (payment, fen) in enumerate(left):
        part = min(stored, fen)
        if part <= 0:
            continue
        member_id = tx.conn.execute(select(LEDGER.c.member_id).where(
            LEDGER.c.txn_id == payment)).scalar_one()
        returned = return_part_of_payment(
            tx, clerk, approver, member_id=member_id, payment_txn_id=payment,
            amount_fen=part, txn_id=f"{txn_id}/sv" if i == 0 else f"{txn_id}/sv{i + 1}")
        stored -= part
    return back, returned


def refund_bill_with_pin(uow: UnitOfWork, clerk: Clerk, *, manager_code: str, manager_pin: str,
                         txn_id: str, bill_no: str, amount_fen: int | None = None
                         ) -> BillRefund:
    """Shift+F4: :func:`refund_sale` approved by a manager's number and PIN (a logged-in
    manager may leave them empty), with the money of a checkout's bill going back as it was
    taken (see the module). A repeat of a done ``txn_id`` returns its first refund."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        done = points_ledger.txn_result(s.connection(), txn_id, "refund")
    if done is not None:
        return BillRefund(RefundResult(**done, repeated=True), None, ())
    if clerk.may(Action.REFUND_SALE) and not manager_code.strip():
        approver = clerk
    else:
        approver = staff_approve(uow, code=manager_code.strip(), pin=manager_pin,
                                 device_id=clerk.device_id, action=Action.REFUND_SALE)
    out: list[Any] = []

    def within(tx: Transaction, result: dict[str, Any]) -> None:
        out.extend(give_back(tx, clerk, approver, sale_id=result["sale_id"],
                             refund_fen=result["refund_fen"], txn_id=txn_id))

    refund = refund_sale(uow, clerk, approver=approver, txn_id=txn_id, bill_no=bill_no,
                         amount_fen=amount_fen, within=within)
    back, returned = out if out else ((), None)
    return BillRefund(refund, returned, back)


def refund_preview(uow: UnitOfWork, clerk: Clerk, *, bill_no: str,
                   refund_fen: int) -> tuple[Tender, ...]:
    """How ``refund_fen`` of ``bill_no`` would go back (empty: not a checkout's bill)."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        conn = s.connection()
        bill = conn.execute(_BILL.join(Sale, Sale.id == PosBill.sale_id)
                            .where(Sale.store_id == clerk.store_id,
                                   Sale.bill_no == bill_no.strip())).first()
        if bill is None:
            return ()
        left = sv_left(conn, bill_payments(bill))
        return split_back(bill.tenders, refund_fen, sum(f for _, f in left))
