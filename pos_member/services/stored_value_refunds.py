"""Stored-value refunds: a balance payment's money put back into the account
(:func:`refund_payment`) and a top-up's principal returned in cash with its bonus taken back
(:func:`refund_topup`). Each needs a manager's approval (``approver``), audited in a row of the
manager's own, and names them in the event and the ledger (issue 13).

Booked like every stored-value operation (:mod:`pos_member.services.stored_value`'s
:func:`~pos_member.services.stored_value.record_money`): one ``sv.*`` money event, one ledger
line, the member notified; the refund split is the pure rule
:func:`pos_member.stored_value_rules.topup_refund`. A refund carries its own ``txn_id`` and the
refunded operation's (``ref_txn_id``); an operation is refunded once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, String, cast, func, select

from pos_member import stored_value_rules as rules_
from pos_member.db.models import PosBill, Sale
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.permissions import Action, Clerk, require
from pos_member.services.stored_value import SvResult, notify, record_money, replayed
from pos_member.services.stored_value_ledger import (
    LEDGER,
    PAYMENT_REFUNDED,
    TOPUP_REFUNDED,
    balance,
    txn_row,
)
from pos_member.stored_value_errors import AlreadyRefunded, PaymentOfABill, SvOperationNotFound


def _refund_of(conn: Connection, *, txn_id: str, member_id: str, ref_txn_id: str,
               kind: str) -> SvResult | Any:
    """A refund's start: the first result when ``txn_id`` was done already; else the ledger
    row of the ``kind`` operation ``ref_txn_id`` it refunds (refused: not this member's, not
    found, refunded already)."""
    done = replayed(conn, txn_id, member_id=member_id, kind=f"{kind}_refund",
                    ref_txn_id=ref_txn_id)
    if done is not None:
        return done
    row = txn_row(conn, ref_txn_id)
    if row is None or row.member_id != member_id or row.kind != kind:
        raise SvOperationNotFound(txn_id=ref_txn_id)
    refunded = conn.scalar(select(LEDGER.c.id).where(LEDGER.c.ref_txn_id == ref_txn_id))
    if refunded is not None:
        raise AlreadyRefunded()
    return row


def _not_a_bills(conn: Connection, payment_txn_id: str) -> None:
    """A bill's payment (a checkout's, or one the main POS named in a reported sale) is
    refunded from its bill (Shift+F4: the sale, its points and the
    money together, services/bill_refunds.py), never alone here: the bill's refund would give
    the same money back a second time."""
    bill = conn.execute(select(Sale.bill_no).join(PosBill, PosBill.sale_id == Sale.id).where(
        PosBill.pos_txn_id.concat("/sv") == payment_txn_id)).scalar()
    if bill is None:  # a payment the main POS named in a reported sale's stored-value tender
        bill = conn.execute(select(Sale.bill_no).join(PosBill, PosBill.sale_id == Sale.id)
                            .where(PosBill.source != "till", cast(PosBill.tenders, String)
                                   .contains(f'"{payment_txn_id}"', autoescape=True))
                            ).scalar()
    if bill is not None:
        raise PaymentOfABill(bill_no=bill)


def _approved(tx: Transaction, approver: Clerk, ev_id: str, *, member_id: str, kind: str,
              txn_id: str, ref_txn_id: str, amount_fen: int) -> None:
    """The approving manager's own audit row of a refund (the clerk's names the event)."""
    tx.audit(approver, f"sv.{kind}_approved", "member", member_id,
             after={"txn_id": txn_id, "ref_txn_id": ref_txn_id, "amount_fen": amount_fen,
                    "event_id": ev_id})


def refund_payment(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, member_id: str,
                   ref_txn_id: str, txn_id: str) -> SvResult:
    """Puts back the principal and bonus the payment ``ref_txn_id`` took. Money back into an
    account: a manager approves (``approver``: the clerk themself if a manager, or the manager
    who entered number and PIN at the till, ``approve``); both are audited."""
    require(clerk, Action.SV_REFUND_PAYMENT)
    require(approver, Action.SV_APPROVE_REFUND)
    txn_id, ref_txn_id = rules_.check_txn_id(txn_id), rules_.check_txn_id(ref_txn_id)
    with uow.begin() as tx:
        conn = tx.conn
        orig = _refund_of(conn, txn_id=txn_id, member_id=member_id, ref_txn_id=ref_txn_id,
                          kind="payment")
        if isinstance(orig, SvResult):
            return orig
        _not_a_bills(conn, ref_txn_id)
        principal, bonus = -orig.principal_delta_fen, -orig.bonus_delta_fen
        ev_id, _ = record_money(
            tx, clerk, PAYMENT_REFUNDED,
            {"member_id": member_id, "txn_id": txn_id, "kind": "payment_refund",
             "principal": principal, "bonus": bonus, "ref_txn_id": ref_txn_id,
             "approved_by": approver.staff_id},
            {"ref_txn_id": ref_txn_id, "amount_fen": principal + bonus,
             "approved_by": approver.staff_id})
        _approved(tx, approver, ev_id, member_id=member_id, kind="payment_refund",
                  txn_id=txn_id, ref_txn_id=ref_txn_id, amount_fen=principal + bonus)
        after = balance(conn, member_id)
        notify(tx, ev_id, member_id, PAYMENT_REFUNDED,
               {"amount_fen": principal + bonus, "balance_fen": after.total_fen})
        tx.commit()
    return SvResult(txn_id, "payment_refund", member_id, principal, bonus, 0, after)


def refund_topup(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, member_id: str,
                 ref_txn_id: str, txn_id: str) -> SvResult:
    """Returns a top-up's principal in cash and takes back its bonus (see the module rules).
    Cash out of the drawer: a manager approves (``approver``, as for ``refund_payment``)."""
    require(clerk, Action.SV_TOPUP)
    require(approver, Action.SV_REFUND_TOPUP)
    txn_id, ref_txn_id = rules_.check_txn_id(txn_id), rules_.check_txn_id(ref_txn_id)
    with uow.begin() as tx:
        conn = tx.conn
        orig = _refund_of(conn, txn_id=txn_id, member_id=member_id, ref_txn_id=ref_txn_id,
                          kind="topup")
        if isinstance(orig, SvResult):
            return orig
        bal = balance(conn, member_id)
        principal, bonus = orig.principal_delta_fen, orig.bonus_delta_fen
        bonus_back, cash = rules_.topup_refund(principal, bonus,
                                               principal_balance_fen=bal.principal_fen,
                                               bonus_balance_fen=bal.bonus_fen)
        ev_id, _ = record_money(
            tx, clerk, TOPUP_REFUNDED,
            {"member_id": member_id, "txn_id": txn_id, "kind": "topup_refund",
             "principal": -principal, "bonus": -bonus_back, "cash": cash,
             "ref_txn_id": ref_txn_id, "method": orig.method, "approved_by": approver.staff_id},
            {"ref_txn_id": ref_txn_id, "cash_fen": cash, "approved_by": approver.staff_id})
        _approved(tx, approver, ev_id, member_id=member_id, kind="topup_refund",
                  txn_id=txn_id, ref_txn_id=ref_txn_id, amount_fen=cash)
        after = balance(conn, member_id)
        notify(tx, ev_id, member_id, TOPUP_REFUNDED,
               {"cash_fen": cash, "balance_fen": after.total_fen})
        tx.commit()
    return SvResult(txn_id, "topup_refund", member_id, -principal, -bonus_back, cash, after)


def return_part_of_payment(tx: Transaction, clerk: Clerk, approver: Clerk, *, member_id: str,
                           payment_txn_id: str, amount_fen: int, txn_id: str) -> SvResult:
    """Puts ``amount_fen`` of the payment ``payment_txn_id`` back into the account, in the
    caller's transaction (a refund of the checkout that took it; issue 17). Principal and
    bonus go back in the payment's proportion, cumulatively over the parts returned so far, so
    the parts of a payment returned in pieces add up to exactly what it took. Refused: not this
    member's payment, or more than is left of it."""
    conn = tx.conn
    done = replayed(conn, txn_id, member_id=member_id, kind="payment_refund",
                    ref_txn_id=payment_txn_id)
    if done is not None:
        return done
    orig = txn_row(conn, payment_txn_id)
    if orig is None or orig.member_id != member_id or orig.kind != "payment":
        raise SvOperationNotFound(txn_id=payment_txn_id)
    took_p, took_b = -orig.principal_delta_fen, -orig.bonus_delta_fen
    back_p, back_b = conn.execute(
        select(func.coalesce(func.sum(LEDGER.c.principal_delta_fen), 0),
               func.coalesce(func.sum(LEDGER.c.bonus_delta_fen), 0))
        .where(LEDGER.c.ref_txn_id == payment_txn_id)).one()
    if amount_fen <= 0 or back_p + back_b + amount_fen > took_p + took_b:
        raise AlreadyRefunded()
    total_back = back_p + back_b + amount_fen
    bonus = took_b * total_back // (took_p + took_b) - back_b
    principal = amount_fen - bonus
    ev_id, _ = record_money(
        tx, clerk, PAYMENT_REFUNDED,
        {"member_id": member_id, "txn_id": txn_id, "kind": "payment_refund",
         "principal": principal, "bonus": bonus, "ref_txn_id": payment_txn_id,
         "approved_by": approver.staff_id},
        {"ref_txn_id": payment_txn_id, "amount_fen": amount_fen,
         "approved_by": approver.staff_id})
    _approved(tx, approver, ev_id, member_id=member_id, kind="payment_refund", txn_id=txn_id,
              ref_txn_id=payment_txn_id, amount_fen=amount_fen)
    after = balance(conn, member_id)
    notify(tx, ev_id, member_id, PAYMENT_REFUNDED,
           {"amount_fen": amount_fen, "balance_fen": after.total_fen})
    return SvResult(txn_id, "payment_refund", member_id, principal, bonus, 0, after)
