"""One checkout (issue 17): a sale and how it was paid, in one flow and one commit.

The bill (number and amount), the member or none, the points to redeem, then the tenders:
stored value behind the member's second factor, cash, bank card, third-party payment, or a mix,
adding up to what is left to pay after the points. The sale, its points, the stored-value
payment (its PIN or dynamic code checked there) and the tenders are written in one transaction
(:func:`pos_member.services.sales.record_sale` with the payment booked ``within`` it), so a
refused sale moves no stored value and a refused payment records no sale. A wrong PIN or code
rolls it all back and is then counted in a transaction of its own; an SMS code is checked by
head office before the transaction.

Points earned: on what was paid, less the part of a stored-value tender the rules say earns
nothing (``points.stored_value_earns``: "all", "principal" — its bonus part earns nothing —
or "none"; docs/rules.md). The tenders are kept beside the sale (``pos_bills``, source
"till"): the purchase history shows them and a refund returns stored value as it was taken.

One checkout, one till transaction id: a retry after a lost answer or a crash between the
factor and the commit repeats it and gets the first result (the payment's own id is derived
from it, :func:`sv_txn_id`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from pos_member.db.models import Coupon, CouponEntry, PosBill
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk
from pos_member.points_rules import points_value_fen
from pos_member.services import coupon_redeem, coupons_ledger
from pos_member.services import stored_value as sv
from pos_member.services.sales import SaleResult, check_amount, record_sale
from pos_member.services.stored_value_ledger import balance
from pos_member.stored_value_rules import needs_approval, split_payment

STORED_VALUE = "stored_value"
# Built once: compiling the insert on every checkout cost more than running it.
_INSERT_BILL = Prepared(insert(PosBill), column_keys=(
    "sale_id", "pos_txn_id", "request_hash", "source", "pos_time", "lines", "tenders",
    "received_at"))
TENDER_KINDS = (STORED_VALUE, "cash", "card", "third_party")


@dataclass(frozen=True, slots=True)
class Tender:
    kind: str  # one of TENDER_KINDS
    amount_fen: int


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    sale: SaleResult
    stored_value: sv.SvResult | None  # None: no stored-value tender (or a repeated checkout)
    tenders: tuple[Tender, ...]
    coupons: tuple[coupon_redeem.CouponUse, ...] = ()  # redeemed on this bill


def sv_txn_id(txn_id: str) -> str:
    """The stored-value payment's own till transaction id, derived from the checkout's."""
    return f"{txn_id}/sv"


def due_fen(uow: UnitOfWork, amount_fen: int, redeem_points: int) -> int:
    """What the tenders must add up to: the bill less the points' value."""
    return amount_fen - points_value_fen(uow.rules.points, redeem_points)


def check_tenders(tenders: Sequence[Tender], *, due: int, member_id: str | None) -> int:
    """Refuses tenders that do not pay the bill exactly; returns the stored-value part."""
    if not tenders and due > 0:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Say how the bill is paid."))
    for t in tenders:
        if t.kind not in TENDER_KINDS or isinstance(t.amount_fen, bool) \
                or not isinstance(t.amount_fen, int) or t.amount_fen <= 0:
            raise InvalidInput(QT_TRANSLATE_NOOP("errors", "A payment line is not valid."))
    kinds = [t.kind for t in tenders]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Each way of paying appears once."))
    paid = sum(t.amount_fen for t in tenders)
    if paid != due:
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "The payments add up to {paid}, the bill to {due}."),
            paid=format_yuan(paid), due=format_yuan(due))
    stored = sum(t.amount_fen for t in tenders if t.kind == STORED_VALUE)
    if stored and member_id is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Only a member pays by stored value."))
    return stored


def no_earn_fen(uow: UnitOfWork, member_id: str | None, stored_fen: int) -> int:
    """The part of a stored-value tender that earns no points, per the rules (its bonus part
    is split as the payment will split it, from the balance now)."""
    with uow.read() as s:
        return no_earn_in(s.connection(), uow, member_id, stored_fen)


def no_earn_in(conn: Connection, uow: UnitOfWork, member_id: str | None,
               stored_fen: int, reads: sv.Reads | None = None) -> int:
    """:func:`no_earn_fen` read in the caller's transaction (the checkout's own; ``reads``:
    its reads of the member, kept for the payment's checks)."""
    mode = uow.rules.points.stored_value_earns
    if not stored_fen or member_id is None or mode == "all":
        return 0
    if mode == "none":
        return stored_fen
    b = balance(conn, member_id) if reads is None else reads.balance(conn)
    if stored_fen > b.total_fen:
        return 0  # the payment will be refused: nothing is earned anyway
    return split_payment(stored_fen, b.principal_fen, b.bonus_fen)[1]


def checkout(uow: UnitOfWork, clerk: Clerk, *, txn_id: str, bill_no: str, amount_fen: int,
             tenders: Sequence[Tender], member_id: str | None = None,
             guide_id: str | None = None, categories: Sequence[str] = (),
             redeem_points: int = 0, factor: sv.Factor | None = None, online: bool = False,
             approver: Clerk | None = None, manager_code: str = "", manager_pin: str = "",
             sms_verifier: sv.SmsVerifier | None = None,
             coupons: Sequence[str] = (),
             coupon_hq: coupon_redeem.HqCoupons | None = None) -> CheckoutResult:
    """Rings up the sale and takes its tenders (see the module). Refuses, changing nothing
    but a wrong factor's count: tenders that do not pay the bill exactly, a stored-value tender
    without a member or without a good factor, a coupon that cannot be used on this bill
    (``coupon_redeem.plan``), and whatever the sale or the payment refuses.

    ``coupons``: the codes scanned or typed for this bill. Their discount comes off the bill
    first; the sale is recorded at what is left, and points are redeemed and earned on that.
    ``coupon_hq``: HQ's coupon check, asked (when ``online``) about a coupon this till did
    not issue before the transaction."""
    amount_fen = check_amount(amount_fen)
    tenders = tuple(tenders)
    uses = coupon_redeem.plan(uow, clerk, codes=tuple(coupons), member_id=member_id,
                              bill_fen=amount_fen, redeem_points=redeem_points, txn_id=txn_id,
                              hq=coupon_hq if online else None)
    bill_fen, amount_fen = amount_fen, amount_fen - sum(u.discount_fen for u in uses)
    stored = check_tenders(tenders, due=due_fen(uow, amount_fen, redeem_points),
                           member_id=member_id)
    if approver is None and stored and needs_approval(uow.rules.stored_value, stored):
        # A large stored-value tender: a manager approves (a logged-in one may leave the
        # number empty), checked before the transaction as the pay dialog's is.
        approver = clerk if clerk.may(Action.SV_APPROVE) and not manager_code.strip() \
            else sv.approve(uow, code=manager_code.strip(), pin=manager_pin,
                            device_id=clerk.device_id)
    # The factor is checked inside the sale's transaction (one commit); an SMS code is checked
    # by head office before it (a network call is never made holding the write lock).
    factor_name: str | None = None
    if stored and isinstance(factor, sv.SmsFactor):
        assert member_id is not None
        sv.verify_payment(uow, clerk=clerk, member_id=member_id, amount_fen=stored,
                          txn_id=sv_txn_id(txn_id), factor=factor, online=online,
                          approver=approver, sms_verifier=sms_verifier)
        factor_name = "sms"
    paid: list[sv.SvResult] = []
    # The member's standing and stored value, read once in the sale's transaction for its
    # points and its payment's checks (nothing between writes either).
    reads = sv.Reads(member_id) if member_id is not None else None
    # A stored-value tender tells the member once: the payment and the sale's points in one
    # message (docs/rules.md), kept here by the sale for the payment to send.
    told: list[tuple[int, int, str]] = []

    def within(tx: Transaction, sale_id: str) -> None:
        if uses:
            assert member_id is not None
            assert reads is not None
            coupon_redeem.redeem_in(tx, clerk, uses, member_id=member_id, sale_id=sale_id,
                                    bill_no=bill_no, bill_fen=bill_fen,
                                    standing=reads.standing(tx.conn))
        if stored:
            assert member_id is not None
            paid.append(sv.book_payment(
                tx, clerk, member_id=member_id, amount_fen=stored, txn_id=sv_txn_id(txn_id),
                factor=factor, factor_name=factor_name, online=online, approver=approver,
                bill_no=bill_no, uow=uow, reads=reads,
                points=told[0][:2] if told else None, fresh=True))
        wire = [[t.kind, t.amount_fen] for t in tenders]
        digest = hashlib.sha256(json.dumps(
            [bill_no, amount_fen, member_id, redeem_points, wire] + ([[u.key for u in uses]]
                                                                     if uses else []),
            sort_keys=True).encode()).hexdigest()
        now = tx.clock.now()
        _INSERT_BILL.run(tx.conn, {
            "sale_id": sale_id, "pos_txn_id": txn_id, "request_hash": digest, "source": "till",
            "pos_time": now.isoformat(), "lines": [], "tenders": wire, "received_at": now})

    try:
        sale = record_sale(uow, clerk, txn_id=txn_id, bill_no=bill_no, amount_fen=amount_fen,
                           member_id=member_id, guide_id=guide_id, categories=tuple(categories),
                           redeem_points=redeem_points, within=within,
                           no_earn_fen=lambda conn: no_earn_in(conn, uow, member_id, stored,
                                                               reads),
                           standing_of=reads.standing if reads is not None else None,
                           points_notice=(lambda change, after, key: told.append(
                               (change, after, key))) if stored else None)
    except sv.FactorRefused as refused:
        # Rolled back: nothing was recorded. The wrong try counts, in its own transaction.
        assert member_id is not None
        sv.verify_payment(uow, clerk=clerk, member_id=member_id, amount_fen=stored,
                          txn_id=sv_txn_id(txn_id), factor=factor, online=online,
                          approver=approver)
        raise refused.refusal.error from None
    if sale.repeated:  # the first checkout's answer: its tenders and coupons, not this call's
        return _first_answer(uow, sale)
    return CheckoutResult(sale, paid[0] if paid else None, tenders, tuple(uses))


def _first_answer(uow: UnitOfWork, sale: SaleResult) -> CheckoutResult:
    """A repeated checkout (its till transaction done already) as the first one went: the
    tenders kept beside the sale and the coupons redeemed on it — a retry that named other
    coupons or tenders redeemed none of them and took none of its money."""
    e, c = CouponEntry.__table__.c, Coupon.__table__.c
    with uow.db.read.connect() as conn:
        wire = conn.scalar(select(PosBill.tenders).where(PosBill.sale_id == sale.sale_id))
        used = conn.execute(select(e.key, c.name, e.discount_fen, c.terms)
                            .join(Coupon.__table__, c.key == e.key)
                            .where(e.sale_id == sale.sale_id, e.kind == coupons_ledger.REDEEMED)
                            .order_by(e.id)).all()
    return CheckoutResult(
        sale, None, tuple(Tender(str(k), int(f)) for k, f in wire or ()),
        tuple(coupon_redeem.CouponUse(r.key, r.name, int(r.discount_fen),
                                      (r.terms or {}).get("gift_item", "")) for r in used))
