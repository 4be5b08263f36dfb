"""Line refunds at the till (Shift+F4, issue 17): a bill the main POS reported with lines is
refunded line by line, as the POS's own line refund is
(:func:`pos_member.integration.reports.report_refund`): the lines' share of what was paid,
points and money back as they were taken, never more than is left of a line or of the bill,
once per the dialog's transaction id. A manager approves, as for any refund at the till."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pos_member.db.uow import UnitOfWork
from pos_member.errors import SaleNotFound
from pos_member.integration import reports
from pos_member.integration.reports import RefundLine, RefundReport
from pos_member.permissions import Action, Clerk, require
from pos_member.services import sales
from pos_member.services.bill_refunds import BillRefund, refund_preview
from pos_member.services.checkout import Tender
from pos_member.services.sale_refunds import RefundQuote, quote_refund
from pos_member.services.sales import clean_bill_no
from pos_member.services.staff import approve as staff_approve


@dataclass(frozen=True, slots=True)
class BillLine:
    line: str
    category: str
    sold_fen: int
    left_fen: int  # what no line refund has taken yet


def _sale(conn: Any, clerk: Clerk, bill_no: str) -> Any:
    sale = conn.execute(sales.SALE_BY_BILL, {"store_id": clerk.store_id,
                                             "bill_no": bill_no}).first()
    if sale is None:
        raise SaleNotFound(bill_no=bill_no)
    return sale


def bill_lines(uow: UnitOfWork, clerk: Clerk, *, bill_no: str) -> list[BillLine]:
    """The lines of a bill with what is left of each (empty: a bill without lines)."""
    require(clerk, Action.VIEW_MEMBER)
    bill_no = clean_bill_no(bill_no)
    with uow.read() as s:
        conn = s.connection()
        sale = _sale(conn, clerk, bill_no)
        return [BillLine(*x) for x in reports.lines_left(conn, sale.id)]


def quote_lines(uow: UnitOfWork, clerk: Clerk, *, bill_no: str,
                lines: Sequence[tuple[str, int]]) -> tuple[RefundQuote, tuple[Tender, ...]]:
    """What refunding ``lines`` (line id, fen) would do, refused as the refund would be."""
    require(clerk, Action.VIEW_MEMBER)
    report = reports.check_refund(RefundReport(
        "quote", bill_no, tuple(RefundLine(line, fen) for line, fen in lines)))
    with uow.read() as s:
        conn = s.connection()
        amount, _ = reports.lines_refund_fen(conn, _sale(conn, clerk, report.bill_no), report)
    q = quote_refund(uow, clerk, bill_no=report.bill_no, amount_fen=amount)
    return q, refund_preview(uow, clerk, bill_no=q.bill_no, refund_fen=q.refund_fen)


def refund_lines_with_pin(uow: UnitOfWork, clerk: Clerk, *, manager_code: str,
                          manager_pin: str, txn_id: str, bill_no: str,
                          lines: Sequence[tuple[str, int]]) -> BillRefund:
    """Refunds ``lines`` of ``bill_no``, approved by a manager's number and PIN (a logged-in
    manager may leave them empty). A repeat of a done ``txn_id`` returns the first refund
    without asking for the PIN again."""
    require(clerk, Action.VIEW_MEMBER)
    report = RefundReport(txn_id, bill_no, tuple(RefundLine(line, fen) for line, fen in lines))
    if clerk.may(Action.REFUND_SALE) and not manager_code.strip():
        approver = clerk
    else:
        with uow.read() as s:
            done = reports.refund_known(s.connection(), txn_id)
        if done:
            return reports.report_refund(uow, clerk, report, source="till")
        approver = staff_approve(uow, code=manager_code.strip(), pin=manager_pin,
                                 device_id=clerk.device_id, action=Action.REFUND_SALE)
    return reports.report_refund(uow, clerk, report, source="till", approver=approver)
