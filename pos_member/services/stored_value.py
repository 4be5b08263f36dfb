"""Stored value (储值): top-ups with bonus, payments behind a second factor, refunds, freezes.

The ledger (``sv_ledger``, one row per money event) is the truth; ``sv_accounts`` holds each
member's principal (本金) and bonus (赠送) as the sums of the ledger's two delta columns
(:func:`rebuild_accounts` recomputes them; tests compare). Rules, all in ``[stored_value]``:

- Top-up bonus: the highest ``topup_bonus`` step whose ``min_fen`` the amount reaches, plus
  ``first_topup_bonus_fen`` on the member's first top-up and ``birthday_month_bonus_fen`` in the
  member's birthday month (the till's local month).
- A payment of ``A`` from principal ``P`` and bonus ``B`` spends bonus ``⌊A·B ÷ (P+B)⌋`` and
  principal the rest (``⌈A·P ÷ (P+B)⌉``): integer fen, the odd fen from principal, so neither
  part can exceed its balance and paying the whole balance empties both.
- Refunding a payment puts back exactly the principal and bonus it took. Refunding a top-up
  (manager) takes its principal back out and its bonus as far as the bonus balance covers it;
  bonus already spent is deducted from the cash handed back. A top-up whose principal is no
  longer all there cannot be refunded.
- Every operation carries the till transaction's ``txn_id`` (unique in the ledger): repeating it
  returns the first result and moves nothing; reusing it for something else is refused.
- Paying needs a second factor (PIN, dynamic code, or an SMS code that head office verifies
  for this member, amount and ``txn_id`` through the :class:`SmsVerifier` given to
  :func:`pay`), a manager's approval at or over ``manager_approval_fen``, an unfrozen
  account, no HQ block, and offline at most ``offline_daily_cap_fen`` a day per member on
  this till.

Event contract (the server reads it): types start ``sv.``; money events carry ``member_id``,
``txn_id``, ``principal_delta_fen`` and ``bonus_delta_fen`` (signed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, case, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.compiled import Prepared
from pos_member.db.models import (
    BalanceBlock,
    Member,
    MemberAlias,
    Staff,
    Store,
    SvAccount,
    SvCredential,
    SvLedgerEntry,
)
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import (
    AccountFrozen,
    AlreadyRefunded,
    ApprovalRefused,
    ApprovalRequired,
    BalanceBlocked,
    InsufficientBalance,
    InvalidAmount,
    InvalidInput,
    MemberNotFound,
    OfflineCapReached,
    ReasonRequired,
    SecondFactorRequired,
    SmsCodeInvalid,
    SmsUnavailable,
    SvOperationNotFound,
    TopupAlreadySpent,
    TxnIdConflict,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.permissions import Action, Clerk, require
from pos_member.services.balance_blocks import is_blocked
from pos_member.services.member_auth import (
    Refusal,
    check_totp_format,
    verify_pin,
    verify_totp,
)
from pos_member.services.notifications import enqueue
from pos_member.services.staff import approve as staff_approve

log = logging.getLogger(__name__)

TOPPED_UP = events.SV_TOPPED_UP.type
PAID = events.SV_PAID.type
PAYMENT_REFUNDED = events.SV_PAYMENT_REFUNDED.type
TOPUP_REFUNDED = events.SV_TOPUP_REFUNDED.type
FROZEN = events.SV_FROZEN.type
UNFROZEN = events.SV_UNFROZEN.type
MONEY_EVENTS = {TOPPED_UP: "topup", PAID: "payment", PAYMENT_REFUNDED: "payment_refund",
                TOPUP_REFUNDED: "topup_refund"}
METHODS = ("cash", "card", "third_party")
MAX_TXN_ID = 64
MAX_TOPUP_FEN = 10_000_000  # ¥100,000: a typo guard, not a business limit

_LEDGER = SvLedgerEntry.__table__
_ACCOUNTS = SvAccount.__table__
_CREDS = SvCredential.__table__
_ALIASES = MemberAlias.__table__


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
class Balance:
    member_id: str
    principal_fen: int
    bonus_fen: int
    frozen: bool
    blocked: bool = False

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


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


@dataclass(frozen=True, slots=True)
class LedgerLine:
    id: str
    txn_id: str
    kind: str
    principal_delta_fen: int
    bonus_delta_fen: int
    cash_fen: int
    method: str | None
    factor: str | None
    ref_txn_id: str | None
    at: datetime
    store_id: str
    device_id: str
    principal_after_fen: int
    bonus_after_fen: int
    store: str = "—"  # the store's name, as the member knows it
    clerk: str | None = None  # who served them


# -- rules ---------------------------------------------------------------------------------


def topup_bonus(rules: Any, amount_fen: int, *, first: bool, birthday_month: bool) -> int:
    """The bonus a top-up of ``amount_fen`` earns (``rules``: the ``stored_value`` section)."""
    bonus = 0
    for step in rules.topup_bonus:
        if amount_fen >= step.min_fen:
            bonus = step.bonus_fen
    if first:
        bonus += rules.first_topup_bonus_fen
    if birthday_month:
        bonus += rules.birthday_month_bonus_fen
    return bonus


@dataclass(frozen=True, slots=True)
class TopupQuote:
    """The bonus a top-up would book now (:func:`quote_topup`) and why."""

    amount_fen: int
    bonus_fen: int
    first: bool
    birthday_month: bool


def _quote(rules: Any, member: Any, amount_fen: int, now: datetime) -> TopupQuote:
    """The bonus for ``member`` (a ``_MEMBER_Q`` row) topping up ``amount_fen`` at ``now``:
    first top-up as known to this till; birthday month in the store's local time (``now`` is
    the store clock's ``local()``)."""
    first = int(member.topups) == 0
    birthday_month = member.birthday is not None \
        and member.birthday.month == now.month
    return TopupQuote(amount_fen, topup_bonus(rules, amount_fen, first=first,
                                              birthday_month=birthday_month),
                      first, birthday_month)


def split_payment(amount_fen: int, principal_fen: int, bonus_fen: int) -> tuple[int, int]:
    """(principal, bonus) spent by a payment: bonus ⌊A·B ÷ (P+B)⌋, principal the rest."""
    total = principal_fen + bonus_fen
    if amount_fen <= 0 or amount_fen > total:
        raise ValueError("amount out of range")
    from_bonus = amount_fen * bonus_fen // total
    return amount_fen - from_bonus, from_bonus


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("amounts are integer fen")
    if value <= 0:
        raise InvalidAmount()
    return value


def _txn(txn_id: str) -> str:
    txn_id = txn_id.strip()
    if not txn_id or len(txn_id) > MAX_TXN_ID:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors",
                                             "The transaction id is missing or too long."))
    return txn_id


def _business_day(at: datetime, zone: tzinfo) -> date:
    """The store's date at ``at``: the day a ledger line counts on (``zone``: the store's)."""
    return at.astimezone(zone).date()


# -- reads ---------------------------------------------------------------------------------


# Hot-path statements built once (building a select costs more than running it on SQLite).
_BALANCE_Q = (select(_ACCOUNTS.c.principal_fen, _ACCOUNTS.c.bonus_fen, _ACCOUNTS.c.frozen)
              .where(_ACCOUNTS.c.member_id == bindparam("member_id")))
_TXN_Q = select(_LEDGER).where(_LEDGER.c.txn_id == bindparam("txn_id"))
_MEMBERS = Member.__table__
_BLOCKS = BalanceBlock.__table__
# The member, their account and HQ's block in one read (three lookups by primary key).
_MEMBER_Q = (
    select(_MEMBERS.c.id, _MEMBERS.c.birthday, _MEMBERS.c.status,
           func.coalesce(_ACCOUNTS.c.principal_fen, 0).label("principal_fen"),
           func.coalesce(_ACCOUNTS.c.bonus_fen, 0).label("bonus_fen"),
           func.coalesce(_ACCOUNTS.c.frozen, False).label("frozen"),
           func.coalesce(_ACCOUNTS.c.topups, 0).label("topups"),
           _BLOCKS.c.member_id.label("blocked_id"))
    .select_from(_MEMBERS)
    .outerjoin(_ACCOUNTS, _ACCOUNTS.c.member_id == _MEMBERS.c.id)
    .outerjoin(_BLOCKS, _BLOCKS.c.member_id == _MEMBERS.c.id)
    .where(_MEMBERS.c.id == bindparam("member_id")))
_LEDGER_INSERT = sqlite_insert(_LEDGER).on_conflict_do_nothing()
_ACCOUNT_UPSERT = sqlite_insert(_ACCOUNTS)
_ACCOUNT_MOVE = (
    _ACCOUNT_UPSERT.on_conflict_do_update(index_elements=["member_id"], set_={
        "principal_fen": _ACCOUNTS.c.principal_fen + _ACCOUNT_UPSERT.excluded.principal_fen,
        "bonus_fen": _ACCOUNTS.c.bonus_fen + _ACCOUNT_UPSERT.excluded.bonus_fen,
        "topups": _ACCOUNTS.c.topups + _ACCOUNT_UPSERT.excluded.topups,
        "updated_at": _ACCOUNT_UPSERT.excluded.updated_at})
    .returning(_ACCOUNTS.c.principal_fen, _ACCOUNTS.c.bonus_fen, _ACCOUNTS.c.frozen))


# The statements of every top-up and payment run straight on the driver (db/compiled.py).
_ENTRY_KEYS = ("id", "member_id", "txn_id", "kind", "principal_delta_fen", "bonus_delta_fen",
               "cash_fen", "method", "method_ref", "factor", "approved_by", "ref_txn_id",
               "offline", "store_id", "device_id", "clerk_id", "at", "business_day",
               "clerk_name")
_FAST_TXN_Q = Prepared(_TXN_Q)
_FAST_MEMBER_Q = Prepared(_MEMBER_Q)
_FAST_LEDGER_INSERT = Prepared(_LEDGER_INSERT, column_keys=_ENTRY_KEYS)
_FAST_ACCOUNT_MOVE = Prepared(_ACCOUNT_MOVE, column_keys=(
    "member_id", "principal_fen", "bonus_fen", "topups", "frozen", "frozen_hlc", "updated_at"))


def _balance(session: Session | Connection, member_id: str) -> Balance:
    row = session.execute(_BALANCE_Q, {"member_id": member_id}).first()
    if row is None:
        return Balance(member_id, 0, 0, False)
    return Balance(member_id, row.principal_fen, row.bonus_fen, bool(row.frozen))


def get_balance(uow: UnitOfWork, member_id: str) -> Balance:
    with uow.read() as s:
        b = _balance(s, member_id)
        return Balance(b.member_id, b.principal_fen, b.bonus_fen, b.frozen,
                       is_blocked(s, member_id))


def ledger(uow: UnitOfWork, member_id: str, *, limit: int = 200) -> list[LedgerLine]:
    """The member's stored-value ledger (储值流水), newest first, with running balances."""
    with uow.read() as s:
        rows = s.execute(
            select(_LEDGER, Store.name.label("store_name"),
                   func.coalesce(Staff.name, _LEDGER.c.clerk_name).label("shown_clerk"))
            .outerjoin(Store, Store.id == _LEDGER.c.store_id)
            .outerjoin(Staff, Staff.id == _LEDGER.c.clerk_id)
            .where(_LEDGER.c.member_id == member_id)
            .order_by(_LEDGER.c.at, _LEDGER.c.id)).all()
    lines: list[LedgerLine] = []
    p = b = 0
    for r in rows:
        p += r.principal_delta_fen
        b += r.bonus_delta_fen
        lines.append(LedgerLine(r.id, r.txn_id, r.kind, r.principal_delta_fen,
                                r.bonus_delta_fen, r.cash_fen, r.method, r.factor, r.ref_txn_id,
                                r.at, r.store_id, r.device_id, p, b, r.store_name or "—",
                                r.shown_clerk))
    lines.reverse()
    return lines[:limit]


def phone_for_sms(uow: UnitOfWork, *, member_id: str) -> str:
    """The member's phone, decrypted only to hand to HQ's SMS code service (never shown)."""
    from pos_member.services.member_cards import PHONE_CTX

    with uow.read() as s:
        blob = s.scalar(select(Member.phone_enc).where(Member.id == member_id))
    if blob is None:
        raise MemberNotFound(query=member_id)
    return uow.cipher.decrypt(blob, context=PHONE_CTX)


def ledger_totals(session: Session | Connection, member_id: str) -> tuple[int, int]:
    """(principal, bonus) as the ledger sums them."""
    row = session.execute(select(func.coalesce(func.sum(_LEDGER.c.principal_delta_fen), 0),
                                 func.coalesce(func.sum(_LEDGER.c.bonus_delta_fen), 0))
                          .where(_LEDGER.c.member_id == member_id)).one()
    return int(row[0]), int(row[1])


def rebuild_accounts(conn: Connection) -> None:
    """Recomputes every account's principal, bonus and top-up count from the ledger."""
    sums = conn.execute(select(_LEDGER.c.member_id,
                               func.sum(_LEDGER.c.principal_delta_fen),
                               func.sum(_LEDGER.c.bonus_delta_fen),
                               func.sum(case((_LEDGER.c.kind == "topup", 1), else_=0)))
                        .group_by(_LEDGER.c.member_id)).all()
    seen = set()
    for member_id, p, b, n in sums:
        seen.add(member_id)
        _ensure_account(conn, member_id, datetime.now(UTC))
        conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.member_id == member_id)
                     .values(principal_fen=int(p), bonus_fen=int(b), topups=int(n or 0)))
    for (member_id,) in conn.execute(select(_ACCOUNTS.c.member_id)).all():
        if member_id not in seen:
            conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.member_id == member_id)
                         .values(principal_fen=0, bonus_fen=0, topups=0))


def _ensure_account(conn: Connection, member_id: str, now: datetime) -> None:
    conn.execute(sqlite_insert(_ACCOUNTS).on_conflict_do_nothing(index_elements=["member_id"]),
                 {"member_id": member_id, "principal_fen": 0, "bonus_fen": 0, "topups": 0,
                  "frozen": False, "frozen_hlc": None, "updated_at": now})


def _book(conn: Connection, entry: dict[str, Any]) -> Balance | None:
    """Inserts a ledger row and moves the account by its deltas (one upsert, which creates
    the account if need be); the balance after it, or None if the row was already booked."""
    if _FAST_LEDGER_INSERT.run(conn, entry) != 1:
        return None
    row = _FAST_ACCOUNT_MOVE.first(conn, {
        "member_id": entry["member_id"], "principal_fen": entry["principal_delta_fen"],
        "bonus_fen": entry["bonus_delta_fen"], "topups": 1 if entry["kind"] == "topup" else 0,
        "frozen": False, "frozen_hlc": None, "updated_at": entry["at"]})
    return Balance(entry["member_id"], row.principal_fen, row.bonus_fen, bool(row.frozen))


def _connection(conn: Session | Connection) -> Connection:
    return conn.connection() if isinstance(conn, Session) else conn


def _existing(conn: Session | Connection, txn_id: str, *, member_id: str, kind: str,
              amount_fen: int | None = None, ref_txn_id: str | None = None) -> SvResult | None:
    """The earlier result of ``txn_id``, or None; a different operation under it is refused."""
    row = _FAST_TXN_Q.first(_connection(conn), {"txn_id": txn_id})
    if row is None:
        return None
    amount = abs(row.principal_delta_fen + row.bonus_delta_fen)
    if (row.member_id != member_id or row.kind != kind
            or (amount_fen is not None and kind in ("topup", "payment")
                and amount - (row.bonus_delta_fen if kind == "topup" else 0) != amount_fen)
            or (ref_txn_id is not None and row.ref_txn_id != ref_txn_id)):
        raise TxnIdConflict(txn_id=txn_id)
    return SvResult(txn_id, kind, member_id, row.principal_delta_fen, row.bonus_delta_fen,
                    row.cash_fen, _balance(conn, member_id), replayed=True)


def _active_member(conn: Session | Connection, member_id: str) -> Any:
    m = _FAST_MEMBER_Q.first(_connection(conn), {"member_id": member_id})
    if m is None or m.status != "active":
        raise MemberNotFound(query=member_id)
    return m


def _notify(tx: Transaction, ev_id: str, member_id: str, kind: str,
            params: dict[str, str | int]) -> None:
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
            "business_day": _business_day(now, tx.clock.zone),
            "clerk_name": clerk.ledger_name}


def _record_money(tx: Transaction, clerk: Clerk, type_: str, entry_kw: dict[str, Any],
                  extra: dict[str, Any]) -> tuple[str, Balance]:
    declared = events.declaration(type_)
    if clerk.ledger_name:  # other tills' ledgers name who served the member
        extra = {**extra, "clerk_name": clerk.ledger_name}
    payload = declared.payload(member_id=entry_kw["member_id"], txn_id=entry_kw["txn_id"],
                               principal_delta_fen=entry_kw["principal"],
                               bonus_delta_fen=entry_kw["bonus"], **extra)
    ev = tx.record(clerk, declared, payload, entity_id=entry_kw["member_id"])
    entry = _entry(tx, clerk, ev.id, **entry_kw)
    after = _book(tx.conn, entry)
    if after is None:  # cannot happen: the txn_id was checked free in this transaction
        raise TxnIdConflict(txn_id=entry["txn_id"])
    tx.audit(clerk, type_, "member", entry_kw["member_id"],
             after={k: v for k, v in ev.payload.items() if k != "member_id"}, event=ev)
    return ev.id, after


# -- top-up --------------------------------------------------------------------------------


def top_up(uow: UnitOfWork, *, clerk: Clerk, member_id: str, amount_fen: int, method: str,
           txn_id: str, method_ref: str | None = None) -> SvResult:
    """Adds ``amount_fen`` of principal and the rules' bonus. ``method``: cash, card or
    third_party (then ``method_ref``, the payment's reference, is required)."""
    require(clerk, Action.SV_TOPUP)
    amount = _amount(amount_fen)
    txn_id = _txn(txn_id)
    if amount > MAX_TOPUP_FEN:
        raise InvalidAmount()
    if method not in METHODS:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Choose how the top-up is paid."))
    method_ref = (method_ref or "").strip() or None
    if method == "third_party" and method_ref is None:
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "Enter the third-party payment's reference number."))
    if method_ref is not None and len(method_ref) > 64:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The payment reference is too long."))
    with uow.begin() as tx:
        conn = tx.conn
        done = _existing(conn, txn_id, member_id=member_id, kind="topup", amount_fen=amount)
        if done is not None:
            return done
        m = _active_member(conn, member_id)
        quote = _quote(tx.rules.stored_value, m, amount, tx.clock.local())
        bonus = quote.bonus_fen
        ev_id, bal = _record_money(
            tx, clerk, TOPPED_UP,
            {"member_id": member_id, "txn_id": txn_id, "kind": "topup", "principal": amount,
             "bonus": bonus, "cash": amount, "method": method, "method_ref": method_ref},
            {"amount_fen": amount, "method": method, "method_ref": method_ref,
             "first_topup": quote.first, "birthday_month": quote.birthday_month})
        _notify(tx, ev_id, member_id, TOPPED_UP,
                {"amount_fen": amount, "bonus_fen": bonus, "balance_fen": bal.total_fen})
        tx.commit()
    return SvResult(txn_id, "topup", member_id, amount, bonus, amount, bal)


def quote_topup(uow: UnitOfWork, *, member_id: str, amount_fen: int) -> TopupQuote:
    """The bonus :func:`top_up` would book for ``amount_fen`` now (step, first top-up and
    birthday month, by the rules in force): a read, for the till's preview. Refuses what
    ``top_up`` refuses about the amount and the member."""
    amount = _amount(amount_fen)
    if amount > MAX_TOPUP_FEN:
        raise InvalidAmount()
    with uow.read() as s:
        m = _active_member(s, member_id)
        return _quote(uow.rules.stored_value, m, amount, uow.clock.local())


# -- manager approval ----------------------------------------------------------------------


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
    amount = _amount(amount_fen)
    txn_id = _txn(txn_id)
    if factor is None:
        raise SecondFactorRequired()
    if isinstance(factor, TotpFactor):
        check_totp_format(factor.code)
    if isinstance(factor, SmsFactor):
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
    refusal: Refusal | None = None
    with uow.begin() as tx:
        rules = tx.rules.stored_value
        checked = _payment_checks(tx.conn, rules, clerk, member_id=member_id, amount=amount,
                                  txn_id=txn_id, online=online, approver=approver,
                                  now=tx.clock.local())
        if isinstance(checked, SvResult):
            return checked
        bal = checked
        if isinstance(factor, PinFactor):
            refusal = verify_pin(tx, clerk, member_id=member_id, pin=factor.pin)
            factor_name = "pin"
        elif isinstance(factor, TotpFactor):
            refusal = verify_totp(tx, clerk, uow.cipher, member_id=member_id,
                                  code=factor.code)
            factor_name = "totp"
        else:
            factor_name = "sms"  # verified by head office above
        if refusal is not None:
            tx.commit()  # the failure count and a lock stick; no money moved
        else:
            principal, bonus = split_payment(amount, bal.principal_fen, bal.bonus_fen)
            approved_by = approver.staff_id if amount >= rules.manager_approval_fen \
                and approver else None
            extra: dict[str, Any] = {"amount_fen": amount, "factor": factor_name,
                                     "approved_by": approved_by, "offline": not online,
                                     "bill_no": bill_no}
            if isinstance(factor, SmsFactor):
                extra["sms_challenge_id"] = factor.challenge_id
            ev_id, after = _record_money(
                tx, clerk, PAID,
                {"member_id": member_id, "txn_id": txn_id, "kind": "payment",
                 "principal": -principal, "bonus": -bonus, "factor": factor_name,
                 "approved_by": approved_by, "offline": not online}, extra)
            if approved_by is not None:
                tx.audit(approver, "sv.payment_approved", "member", member_id,  # type: ignore[arg-type]
                         after={"txn_id": txn_id, "amount_fen": amount})
            _notify(tx, ev_id, member_id, PAID,
                    {"amount_fen": amount, "balance_fen": after.total_fen})
            tx.commit()
            return SvResult(txn_id, "payment", member_id, -principal, -bonus, 0, after)
    raise refusal.error


def _payment_checks(conn: Session | Connection, rules: Any, clerk: Clerk, *, member_id: str,
                    amount: int, txn_id: str, online: bool, approver: Clerk | None,
                    now: datetime) -> SvResult | Balance:
    """The payment's checks that can refuse, before its factor: the first result if
    ``txn_id`` was done already, else the balance to pay from (raises the refusal). ``now``
    is the store clock's ``local()``: the offline cap counts the store's day."""
    done = _existing(conn, txn_id, member_id=member_id, kind="payment", amount_fen=amount)
    if done is not None:
        return done
    m = _active_member(conn, member_id)
    if m.blocked_id is not None:  # HQ's block
        raise BalanceBlocked()
    bal = Balance(member_id, int(m.principal_fen), int(m.bonus_fen), bool(m.frozen))
    if bal.frozen:
        raise AccountFrozen()
    if amount > bal.total_fen:
        raise InsufficientBalance(balance=format_yuan(bal.total_fen),
                                  amount=format_yuan(amount))
    if not online:
        spent = _offline_spent_today(conn, member_id, clerk.device_id, now)
        if spent + amount > rules.offline_daily_cap_fen:
            raise OfflineCapReached(cap=format_yuan(rules.offline_daily_cap_fen),
                                    left=format_yuan(max(0, rules.offline_daily_cap_fen
                                                         - spent)))
    if amount >= rules.manager_approval_fen:
        if approver is None:
            raise ApprovalRequired(limit=format_yuan(rules.manager_approval_fen))
        if not approver.may(Action.SV_APPROVE):
            raise ApprovalRefused()
    return bal


def _offline_spent_today(conn: Session | Connection, member_id: str, device_id: str,
                         now: datetime) -> int:
    spent = conn.scalar(
        select(func.coalesce(func.sum(-(_LEDGER.c.principal_delta_fen
                                        + _LEDGER.c.bonus_delta_fen)), 0))
        .where(_LEDGER.c.member_id == member_id, _LEDGER.c.business_day == now.date(),
               _LEDGER.c.device_id == device_id, _LEDGER.c.kind == "payment",
               _LEDGER.c.offline.is_(True)))
    return int(spent or 0)


# -- refunds -------------------------------------------------------------------------------


def _refund_of(conn: Connection, *, txn_id: str, member_id: str, ref_txn_id: str,
               kind: str) -> SvResult | Any:
    """A refund's start: the first result when ``txn_id`` was done already; else the ledger
    row of the ``kind`` operation ``ref_txn_id`` it refunds (refused: not this member's, not
    found, refunded already)."""
    done = _existing(conn, txn_id, member_id=member_id, kind=f"{kind}_refund",
                     ref_txn_id=ref_txn_id)
    if done is not None:
        return done
    row = conn.execute(select(_LEDGER).where(_LEDGER.c.txn_id == ref_txn_id)).first()
    if row is None or row.member_id != member_id or row.kind != kind:
        raise SvOperationNotFound(txn_id=ref_txn_id)
    refunded = conn.scalar(select(_LEDGER.c.id).where(_LEDGER.c.ref_txn_id == ref_txn_id))
    if refunded is not None:
        raise AlreadyRefunded()
    return row


def refund_payment(uow: UnitOfWork, *, clerk: Clerk, member_id: str, ref_txn_id: str,
                   txn_id: str) -> SvResult:
    """Puts back the principal and bonus the payment ``ref_txn_id`` took."""
    require(clerk, Action.SV_REFUND_PAYMENT)
    txn_id, ref_txn_id = _txn(txn_id), _txn(ref_txn_id)
    with uow.begin() as tx:
        conn = tx.conn
        orig = _refund_of(conn, txn_id=txn_id, member_id=member_id, ref_txn_id=ref_txn_id,
                          kind="payment")
        if isinstance(orig, SvResult):
            return orig
        principal, bonus = -orig.principal_delta_fen, -orig.bonus_delta_fen
        ev_id, _ = _record_money(
            tx, clerk, PAYMENT_REFUNDED,
            {"member_id": member_id, "txn_id": txn_id, "kind": "payment_refund",
             "principal": principal, "bonus": bonus, "ref_txn_id": ref_txn_id},
            {"ref_txn_id": ref_txn_id, "amount_fen": principal + bonus})
        after = _balance(conn, member_id)
        _notify(tx, ev_id, member_id, PAYMENT_REFUNDED,
                {"amount_fen": principal + bonus, "balance_fen": after.total_fen})
        tx.commit()
    return SvResult(txn_id, "payment_refund", member_id, principal, bonus, 0, after)


def refund_topup(uow: UnitOfWork, *, clerk: Clerk, member_id: str, ref_txn_id: str,
                 txn_id: str) -> SvResult:
    """Returns a top-up's principal in cash and takes back its bonus (see the module rules)."""
    require(clerk, Action.SV_REFUND_TOPUP)
    txn_id, ref_txn_id = _txn(txn_id), _txn(ref_txn_id)
    with uow.begin() as tx:
        conn = tx.conn
        orig = _refund_of(conn, txn_id=txn_id, member_id=member_id, ref_txn_id=ref_txn_id,
                          kind="topup")
        if isinstance(orig, SvResult):
            return orig
        bal = _balance(conn, member_id)
        principal, bonus = orig.principal_delta_fen, orig.bonus_delta_fen
        if bal.principal_fen < principal:
            raise TopupAlreadySpent()
        bonus_back = min(bonus, bal.bonus_fen)
        cash = max(0, principal - (bonus - bonus_back))
        ev_id, _ = _record_money(
            tx, clerk, TOPUP_REFUNDED,
            {"member_id": member_id, "txn_id": txn_id, "kind": "topup_refund",
             "principal": -principal, "bonus": -bonus_back, "cash": cash,
             "ref_txn_id": ref_txn_id, "method": orig.method},
            {"ref_txn_id": ref_txn_id, "cash_fen": cash})
        after = _balance(conn, member_id)
        _notify(tx, ev_id, member_id, TOPUP_REFUNDED,
                {"cash_fen": cash, "balance_fen": after.total_fen})
        tx.commit()
    return SvResult(txn_id, "topup_refund", member_id, -principal, -bonus_back, cash, after)


# -- freeze --------------------------------------------------------------------------------


def set_frozen(uow: UnitOfWork, *, clerk: Clerk, member_id: str, frozen: bool,
               reason: str) -> Balance:
    """Freezes or unfreezes the member's stored value (manager; reason required; audited)."""
    require(clerk, Action.SV_FREEZE)
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    if len(reason) > 200:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The reason is too long (200 at most)."))
    with uow.begin() as tx:
        conn = tx.conn
        _active_member(conn, member_id)
        before = _balance(conn, member_id)
        if before.frozen == frozen:
            return before
        type_ = FROZEN if frozen else UNFROZEN
        ev = tx.record(clerk, events.SV_FROZEN if frozen else events.SV_UNFROZEN,
                       events.FreezeChanged(member_id=member_id, reason=reason),
                       entity_id=member_id)
        _ensure_account(conn, member_id, tx.clock.now())
        conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.member_id == member_id)
                     .values(frozen=frozen, frozen_hlc=ev.hlc))
        tx.audit(clerk, type_, "member", member_id, before={"frozen": before.frozen},
                 after={"frozen": frozen, "reason": reason}, event=ev)
        _notify(tx, ev.id, member_id, type_, {})
        after = _balance(conn, member_id)
        tx.commit()
    return after


# -- day report ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Movement:
    """One kind of stored-value movement over a day: how many, and the principal and bonus
    they moved (as magnitudes: a payment of ¥10 is principal + bonus = 1000)."""

    count: int = 0
    principal_fen: int = 0
    bonus_fen: int = 0
    cash_fen: int = 0  # money over the counter: paid in for top-ups, handed back for refunds

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True, slots=True)
class DayMovements:
    topups: Movement = Movement()
    payments: Movement = Movement()
    payment_refunds: Movement = Movement()
    topup_refunds: Movement = Movement()

    @property
    def count(self) -> int:
        return (self.topups.count + self.payments.count + self.payment_refunds.count
                + self.topup_refunds.count)


def day_movements(session: Session | Connection, *, device_id: str, day: date) -> DayMovements:
    """This till's stored-value movements on its local business ``day`` (``sv_ledger`` rows
    this device booked; pulled rows of other tills keep their own device)."""
    rows = session.execute(
        select(_LEDGER.c.kind, func.count(), func.sum(_LEDGER.c.principal_delta_fen),
               func.sum(_LEDGER.c.bonus_delta_fen), func.sum(_LEDGER.c.cash_fen))
        .where(_LEDGER.c.device_id == device_id, _LEDGER.c.business_day == day)
        .group_by(_LEDGER.c.kind)).all()
    by_kind = {r[0]: Movement(int(r[1]), abs(int(r[2] or 0)), abs(int(r[3] or 0)),
                              int(r[4] or 0)) for r in rows}
    return DayMovements(topups=by_kind.get("topup", Movement()),
                        payments=by_kind.get("payment", Movement()),
                        payment_refunds=by_kind.get("payment_refund", Movement()),
                        topup_refunds=by_kind.get("topup_refund", Movement()))
