"""Stored value (储值), the use cases: top-ups with bonus, payments behind a second factor,
and a manager's approval; the member's standing (what the pay dialog shows) and freezes are
:mod:`pos_member.services.stored_value_standing`; the refunds of payments and top-ups are
:mod:`pos_member.services.stored_value_refunds`, booked with the helpers here
(:func:`replayed`, :func:`record_money`, :func:`notify`).

The rules they apply (bonus, payment split, refund split, payment checks) are pure, in
:mod:`pos_member.stored_value_rules`; the ledger they book into and the balances it projects
are :mod:`pos_member.services.stored_value_ledger`; pulled ``sv.*`` events are applied by
:mod:`pos_member.services.stored_value_sync`.

- Every operation carries the till transaction's ``txn_id`` (unique in the ledger): repeating it
  returns the first result and moves nothing; reusing it for something else is refused.
- Paying needs a second factor (PIN, dynamic code, or an SMS code that head office verifies
  for this member, amount and ``txn_id`` through the :class:`SmsVerifier` given to
  :func:`pay`) besides what :func:`pos_member.stored_value_rules.check_payment` asks.

Event contract (the server reads it): types start ``sv.``; money events carry ``member_id``,
``txn_id``, ``principal_delta_fen`` and ``bonus_delta_fen`` (signed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pos_member import events
from pos_member import stored_value_rules as rules_
from pos_member.changes import Area, Changes
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.permissions import Action, Clerk, require
from pos_member.services import member_standing, remote_members
from pos_member.services.member_auth import (
    Refusal,
    check_totp_format,
    verify_pin,
    verify_totp,
)
from pos_member.services.notifications import enqueue
from pos_member.services.profile_seal import birthday_of
from pos_member.services.staff import approve as staff_approve
from pos_member.services.stored_value_ledger import (
    PAID,
    TOPPED_UP,
    Balance,
    active_member,
    balance,
    book,
    business_day,
    connection,
    member_row,
    offline_spent_today,
    require_active,
    row_balance,
    txn_row,
)
from pos_member.stored_value_errors import (
    SecondFactorRequired,
    SmsCodeInvalid,
    SmsUnavailable,
    TxnIdConflict,
)
from pos_member.stored_value_rules import TopupQuote

log = logging.getLogger(__name__)

# A checkout's one message to the member (docs/rules.md, "One checkout"): its stored-value
# payment and the points its sale moved, where ``sv.paid`` and ``points.changed`` were two.
PAID_WITH_POINTS = "sv.paid_with_points"


# -- second factors ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinFactor:
    pin: str


@dataclass(frozen=True, slots=True)
class TotpFactor:
    code: str


@dataclass(frozen=True, slots=True)
class SmsFactor:
    """The SMS code the member typed and the challenge it answers (the id head office gave
    when it sent the code). :func:`pay` has it verified by head office, bound to member,
    amount and ``txn_id``; ``challenge_id`` goes into the event so HQ can match it. An empty
    ``code`` is refused before anything is asked (a challenge id alone is no factor)."""

    challenge_id: str
    code: str


class SmsVerifier(Protocol):
    """Head office's check of an SMS code (``sync.client.SyncClient`` is one; tests use a
    fake). Blocks on the network: :func:`pay` calls it outside any database transaction."""

    def sms_verify(self, *, challenge_id: str, member_id: str, amount_fen: int, txn_id: str,
                   code: str) -> str:
        """The verified challenge's id. Raises ``SmsCodeInvalid`` for a wrong, expired,
        used-up or already used code, ``SmsUnavailable`` when head office cannot be asked."""
        ...


Factor = PinFactor | TotpFactor | SmsFactor


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SvResult:
    """One operation's outcome; ``replayed`` when the ``txn_id`` had been done already."""

    txn_id: str
    kind: str
    member_id: str
    principal_delta_fen: int
    bonus_delta_fen: int
    cash_fen: int
    balance: Balance
    replayed: bool = False

    @property
    def amount_fen(self) -> int:
        return abs(self.principal_delta_fen + self.bonus_delta_fen)

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.STORED_VALUE, members=(self.member_id,))


# -- booking an operation ------------------------------------------------------------------


def replayed(conn: Session | Connection, txn_id: str, *, member_id: str, kind: str,
             amount_fen: int | None = None, ref_txn_id: str | None = None) -> SvResult | None:
    """The earlier result of ``txn_id``, or None; a different operation under it is refused."""
    row = txn_row(conn, txn_id)
    if row is None:
        return None
    amount = abs(row.principal_delta_fen + row.bonus_delta_fen)
    if (row.member_id != member_id or row.kind != kind
            or (amount_fen is not None and kind in ("topup", "payment")
                and amount - (row.bonus_delta_fen if kind == "topup" else 0) != amount_fen)
            or (ref_txn_id is not None and row.ref_txn_id != ref_txn_id)):
        raise TxnIdConflict(txn_id=txn_id)
    return SvResult(txn_id, kind, member_id, row.principal_delta_fen, row.bonus_delta_fen,
                    row.cash_fen, balance(conn, member_id), replayed=True)


def notify(tx: Transaction, ev_id: str, member_id: str, kind: str,
           params: dict[str, str | int]) -> None:
    """Queues the member's message about an operation, once per event."""
    enqueue(tx, member_id=member_id, kind=kind, params=params, dedupe_key=f"sv:{ev_id}")


def _entry(tx: Transaction, clerk: Clerk, ev_id: str, *, member_id: str, txn_id: str, kind: str,
           principal: int, bonus: int, cash: int = 0, method: str | None = None,
           method_ref: str | None = None, factor: str | None = None,
           approved_by: str | None = None, ref_txn_id: str | None = None,
           offline: bool = False) -> dict[str, Any]:
    now = tx.clock.now()
    return {"id": ev_id, "member_id": member_id, "txn_id": txn_id, "kind": kind,
            "principal_delta_fen": principal, "bonus_delta_fen": bonus, "cash_fen": cash,
            "method": method, "method_ref": method_ref, "factor": factor,
            "approved_by": approved_by, "ref_txn_id": ref_txn_id, "offline": offline,
            "store_id": clerk.store_id, "device_id": clerk.device_id,
            "clerk_id": clerk.staff_id, "at": now,
            "business_day": business_day(now, tx.clock.zone),
            "clerk_name": clerk.ledger_name}


def record_money(tx: Transaction, clerk: Clerk, type_: str, entry_kw: dict[str, Any],
                 extra: dict[str, Any]) -> tuple[str, Balance]:
    """Books one money operation, the one way every ``sv.*`` money event is written here:
    the event (``extra``: its type's own payload fields), the ledger line (``entry_kw``) and
    the audit row; returns the event id and the balance after."""
    declared = events.declaration(type_)
    if clerk.ledger_name:  # other tills' ledgers name who served the member
        extra = {**extra, "clerk_name": clerk.ledger_name}
    payload = declared.payload(member_id=entry_kw["member_id"], txn_id=entry_kw["txn_id"],
                               principal_delta_fen=entry_kw["principal"],
                               bonus_delta_fen=entry_kw["bonus"], **extra)
    ev = tx.record(clerk, declared, payload, entity_id=entry_kw["member_id"])
    entry = _entry(tx, clerk, ev.id, **entry_kw)
    after = book(tx.conn, entry)
    if after is None:  # cannot happen: the txn_id was checked free in this transaction
        raise TxnIdConflict(txn_id=entry["txn_id"])
    tx.audit(clerk, type_, "member", entry_kw["member_id"],
             after={k: v for k, v in ev.payload.items() if k != "member_id"}, event=ev)
    return ev.id, after


# -- top-up --------------------------------------------------------------------------------


def _quote(rules: Any, member: Any, amount_fen: int, now: datetime,
           cipher: Any) -> TopupQuote:
    """The bonus for ``member`` (an ``active_member`` row) topping up ``amount_fen`` at
    ``now``, the store clock's ``local()``."""
    return rules_.quote(rules, amount_fen, topups=int(member.topups),
                        birthday=birthday_of(cipher, member.birthday_enc), today=now.date())


def top_up(uow: UnitOfWork, *, clerk: Clerk, member_id: str, amount_fen: int, method: str,
           txn_id: str, method_ref: str | None = None) -> SvResult:
    """Adds ``amount_fen`` of principal and the rules' bonus. ``method``: cash, card or
    third_party (then ``method_ref``, the payment's reference, is required)."""
    require(clerk, Action.SV_TOPUP)
    amount = rules_.check_amount(amount_fen)
    txn_id = rules_.check_txn_id(txn_id)
    amount = rules_.check_topup_amount(amount)
    method_ref = rules_.check_topup_method(method, method_ref)
    with uow.begin() as tx:
        conn = tx.conn
        done = replayed(conn, txn_id, member_id=member_id, kind="topup", amount_fen=amount)
        if done is not None:
            return done
        m = active_member(conn, member_id)
        member_standing.check(conn, member_id, member_standing.SERVE, clerk=clerk)
        quote = _quote(tx.rules.stored_value, m, amount, tx.clock.local(), tx.cipher)
        bonus = quote.bonus_fen
        ev_id, bal = record_money(
            tx, clerk, TOPPED_UP,
            {"member_id": member_id, "txn_id": txn_id, "kind": "topup", "principal": amount,
             "bonus": bonus, "cash": amount, "method": method, "method_ref": method_ref},
            {"amount_fen": amount, "method": method, "method_ref": method_ref,
             "first_topup": quote.first, "birthday_month": quote.birthday_month})
        notify(tx, ev_id, member_id, TOPPED_UP,
               {"amount_fen": amount, "bonus_fen": bonus, "balance_fen": bal.total_fen})
        tx.commit()
    return SvResult(txn_id, "topup", member_id, amount, bonus, amount, bal)


def quote_topup(uow: UnitOfWork, *, member_id: str, amount_fen: int) -> TopupQuote:
    """The bonus :func:`top_up` would book for ``amount_fen`` now (step, first top-up and
    birthday month, by the rules in force): a read, for the till's preview. Refuses what
    ``top_up`` refuses about the amount and the member."""
    amount = rules_.check_topup_amount(amount_fen)
    with uow.read() as s:
        m = active_member(s, member_id)
        return _quote(uow.rules.stored_value, m, amount, uow.clock.local(), uow.cipher)


# -- manager approval, SMS ------------------------------------------------------------------


def approve(uow: UnitOfWork, *, code: str, pin: str, device_id: str) -> Clerk:
    """A manager at the till approves with their staff number and PIN (the login check, its
    lockout and audit included). Returns the approving manager."""
    return staff_approve(uow, code=code, pin=pin, device_id=device_id, action=Action.SV_APPROVE)


# -- payment -------------------------------------------------------------------------------


def pay(uow: UnitOfWork, *, clerk: Clerk, member_id: str, amount_fen: int, txn_id: str,
        factor: Factor | None, online: bool, approver: Clerk | None = None,
        bill_no: str | None = None, sms_verifier: SmsVerifier | None = None) -> SvResult:
    """Pays ``amount_fen`` from the member's balance, bonus in proportion.

    Refusals change nothing, except that a wrong PIN counts towards the lock (committed before
    the error is raised) and an accepted-then-refused dynamic code is not at stake (checks that
    can refuse run before the factor).

    An :class:`SmsFactor` needs ``online`` and ``sms_verifier``. Its checks that can refuse
    (member, block, freeze, balance, approval) run first in a read; then head office verifies
    the code over the network, outside any transaction (a write transaction held across an
    HTTP call would stall every other writer on this till); then the payment is booked in one
    transaction that checks all of it again. A code head office refuses moves no money. A
    code head office accepted is spent even if that last check then refuses (the balance
    changed meanwhile): the member asks for a new one. A repeated ``txn_id`` returns the first
    result before any code is checked."""
    require(clerk, Action.SV_PAY)
    amount = rules_.check_amount(amount_fen)
    txn_id = rules_.check_txn_id(txn_id)
    if factor is None:
        raise SecondFactorRequired()
    if isinstance(factor, TotpFactor):
        check_totp_format(factor.code)
    if isinstance(factor, SmsFactor):
        done = _verify_sms(uow, clerk, factor, member_id=member_id, amount=amount,
                           txn_id=txn_id, online=online, approver=approver,
                           sms_verifier=sms_verifier)
        if done is not None:
            return done
    with uow.begin() as tx:
        try:
            result = book_payment(
                tx, clerk, member_id=member_id, amount_fen=amount, txn_id=txn_id, factor=factor,
                factor_name="sms" if isinstance(factor, SmsFactor) else None, online=online,
                approver=approver, bill_no=bill_no, uow=uow)
        except FactorRefused as refused:
            tx.commit()  # the failure count and a lock stick; no money moved
            raise refused.refusal.error from None
        tx.commit()
    return result


def _check_factor(tx: Transaction, clerk: Clerk, uow: UnitOfWork, member_id: str,
                  factor: Factor) -> tuple[Refusal | None, str]:
    """The member's PIN or dynamic code checked (a wrong one counts; an SMS code was checked
    by head office before): the refusal, if any, and the factor's name."""
    if isinstance(factor, PinFactor):
        return verify_pin(tx, clerk, member_id=member_id, pin=factor.pin), "pin"
    if isinstance(factor, TotpFactor):
        return verify_totp(tx, clerk, uow.cipher, member_id=member_id, code=factor.code), "totp"
    return None, "sms"


def verify_payment(uow: UnitOfWork, *, clerk: Clerk, member_id: str, amount_fen: int,
                   txn_id: str, factor: Factor | None, online: bool,
                   approver: Clerk | None = None,
                   sms_verifier: SmsVerifier | None = None) -> SvResult | str:
    """The checks of :func:`pay` and the member's factor, in a transaction of their own (a
    wrong PIN's count sticks), without moving money: the factor's name, for
    :func:`book_payment` in the caller's transaction (a checkout books the payment with its
    sale), or the first result when ``txn_id`` was paid already. Raises the refusal."""
    require(clerk, Action.SV_PAY)
    amount = rules_.check_amount(amount_fen)
    txn_id = rules_.check_txn_id(txn_id)
    if factor is None:
        raise SecondFactorRequired()
    if isinstance(factor, TotpFactor):
        check_totp_format(factor.code)
    if isinstance(factor, SmsFactor):
        done = _verify_sms(uow, clerk, factor, member_id=member_id, amount=amount,
                           txn_id=txn_id, online=online, approver=approver,
                           sms_verifier=sms_verifier)
        return done if done is not None else "sms"
    with uow.begin() as tx:
        checked = _payment_checks(tx.conn, tx.rules.stored_value, clerk, member_id=member_id,
                                  amount=amount, txn_id=txn_id, online=online,
                                  approver=approver, now=tx.clock.local())
        if isinstance(checked, SvResult):
            return checked
        refusal, name = _check_factor(tx, clerk, uow, member_id, factor)
        tx.commit()  # a wrong try's count sticks
    if refusal is not None:
        raise refusal.error
    return name


class Reads:
    """The member's standing and stored-value row, each read once in one transaction and kept:
    a checkout needs them for its points (the part earning nothing, the standing) and again
    for its payment's checks, and nothing it writes between changes either (issue 17: each was
    read twice). Made for one transaction; never kept past it."""

    __slots__ = ("_row", "_row_read", "_standing", "member_id")

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self._standing: member_standing.Standing | None = None
        self._row: Any = None
        self._row_read = False

    def standing(self, conn: Connection) -> member_standing.Standing:
        if self._standing is None:
            self._standing = member_standing.of(conn, self.member_id)
        return self._standing

    def row(self, conn: Session | Connection) -> Any:
        """:func:`member_row` (None: no such member here)."""
        if not self._row_read:
            self._row, self._row_read = member_row(conn, self.member_id), True
        return self._row

    def balance(self, conn: Session | Connection) -> Balance:
        return row_balance(self.row(conn), self.member_id)


class FactorRefused(Exception):
    """Raised out of a caller's transaction by :func:`book_payment` when the member's factor
    is wrong: the caller rolls back (nothing is booked) and counts the wrong try in a
    transaction of its own (:func:`verify_payment`). Control flow, never shown."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(type(refusal.error).__name__)
        self.refusal = refusal


def book_payment(tx: Transaction, clerk: Clerk, *, member_id: str, amount_fen: int,
                 txn_id: str, factor: Factor | None, factor_name: str | None, online: bool,
                 approver: Clerk | None, bill_no: str | None,
                 uow: UnitOfWork | None = None, reads: Reads | None = None,
                 points: tuple[int, int] | None = None, fresh: bool = False) -> SvResult:
    """Books a payment in ``tx``: its checks (again: the balance may have moved), the member's
    factor unless ``factor_name`` says it was checked already (a wrong one raises
    :class:`FactorRefused`), then the ``sv.paid`` event, the ledger line, the manager's approval
    row and the member's message (``uow``: its cipher reads a dynamic code's secret; ``reads``:
    the member as read already in ``tx``; ``points``: the change and balance of the points of
    the sale it pays, told in the same message when they changed; ``fresh``: ``txn_id`` is
    known new — a checkout's, derived from its sale's, which this transaction found new)."""
    rules = tx.rules.stored_value
    checked = _payment_checks(tx.conn, rules, clerk, member_id=member_id, amount=amount_fen,
                              txn_id=txn_id, online=online, approver=approver,
                              now=tx.clock.local(), reads=reads, fresh=fresh)
    if isinstance(checked, SvResult):
        return checked
    if factor_name is None:
        if factor is None:
            raise SecondFactorRequired()
        if isinstance(factor, TotpFactor):
            check_totp_format(factor.code)
        assert uow is not None, "checking a factor needs the unit of work (its cipher)"
        refusal, factor_name = _check_factor(tx, clerk, uow, member_id, factor)
        if refusal is not None:
            raise FactorRefused(refusal)
    principal, bonus = rules_.split_payment(amount_fen, checked.principal_fen, checked.bonus_fen)
    approved_by = approver.staff_id if rules_.needs_approval(rules, amount_fen) \
        and approver else None
    extra: dict[str, Any] = {"amount_fen": amount_fen, "factor": factor_name,
                             "approved_by": approved_by, "offline": not online,
                             "bill_no": bill_no}
    if isinstance(factor, SmsFactor):
        extra["sms_challenge_id"] = factor.challenge_id
    ev_id, after = record_money(
        tx, clerk, PAID,
        {"member_id": member_id, "txn_id": txn_id, "kind": "payment",
         "principal": -principal, "bonus": -bonus, "factor": factor_name,
         "approved_by": approved_by, "offline": not online}, extra)
    if approved_by is not None:
        tx.audit(approver, "sv.payment_approved", "member", member_id,  # type: ignore[arg-type]
                 after={"txn_id": txn_id, "amount_fen": amount_fen})
    if points is not None and points[0]:
        notify(tx, ev_id, member_id, PAID_WITH_POINTS,
               {"amount_fen": amount_fen, "balance_fen": after.total_fen,
                "change": f"{points[0]:+d}", "points": points[1]})
    else:
        notify(tx, ev_id, member_id, PAID,
               {"amount_fen": amount_fen, "balance_fen": after.total_fen})
    return SvResult(txn_id, "payment", member_id, -principal, -bonus, 0, after)


def _verify_sms(uow: UnitOfWork, clerk: Clerk, factor: SmsFactor, *, member_id: str,
                amount: int, txn_id: str, online: bool, approver: Clerk | None,
                sms_verifier: SmsVerifier | None) -> SvResult | None:
    """An SMS code's checks before the payment's transaction: the payment's checks in a read,
    then head office's verdict over the network. The first result when ``txn_id`` was done
    already, else None (the code is good)."""
    if not online or sms_verifier is None:
        raise SmsUnavailable()
    if not factor.code.strip():
        raise SecondFactorRequired()
    if not factor.challenge_id:
        raise SmsCodeInvalid()  # no code was sent for this payment
    with uow.read() as s:
        checked = _payment_checks(s, uow.rules.stored_value, clerk, member_id=member_id,
                                  amount=amount, txn_id=txn_id, online=online,
                                  approver=approver, now=uow.clock.local())
    if isinstance(checked, SvResult):
        return checked
    verified = sms_verifier.sms_verify(challenge_id=factor.challenge_id,
                                       member_id=member_id, amount_fen=amount,
                                       txn_id=txn_id, code=factor.code.strip())
    if verified != factor.challenge_id:
        raise SmsCodeInvalid()
    return None


def _payment_checks(conn: Session | Connection, rules: Any, clerk: Clerk, *, member_id: str,
                    amount: int, txn_id: str, online: bool, approver: Clerk | None,
                    now: datetime, reads: Reads | None = None,
                    fresh: bool = False) -> SvResult | Balance:
    """The payment's checks that can refuse, before its factor: the first result if
    ``txn_id`` was done already, else the balance to pay from (raises the refusal). ``now``
    is the store clock's ``local()``: the offline cap counts the store's day. ``reads``: the
    member's standing and row as read already in this transaction (else read here);
    ``fresh``: ``txn_id`` is known new (not looked up: the ledger's unique ``txn_id`` refuses
    a reuse at the booking, ``TxnIdConflict``)."""
    if not fresh:
        done = replayed(conn, txn_id, member_id=member_id, kind="payment", amount_fen=amount)
        if done is not None:
            return done
    m = active_member(conn, member_id) if reads is None \
        else require_active(reads.row(conn), member_id)
    member_standing.check(connection(conn), member_id, member_standing.SPEND, clerk=clerk,
                          standing=None if reads is None else reads.standing(connection(conn)))
    bal = row_balance(m, member_id)
    spent = None if online else offline_spent_today(conn, member_id, clerk.device_id, now)
    rules_.check_payment(rules, amount_fen=amount, balance_fen=bal.total_fen,
                         frozen=bal.frozen, blocked=m.blocked_id is not None,
                         offline_spent_fen=spent, approver=approver)
    if not online:  # another store's member: at most what HQ last reported (issue 14)
        remote_members.check_cap(conn, member_id=member_id, device_id=clerk.device_id,
                                 amount_fen=amount, zone=now.tzinfo, store_id=clerk.store_id)
    return bal
