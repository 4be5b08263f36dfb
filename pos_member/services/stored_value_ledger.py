"""The stored-value ledger and its projection: the one place money is booked.

The ledger (``sv_ledger``, one row per money event) is the truth; ``sv_accounts`` holds each
member's principal (本金) and bonus (赠送) as the sums of the ledger's two delta columns
(:func:`rebuild_accounts` recomputes them; tests compare). Local operations
(:mod:`pos_member.services.stored_value`) and pulled events
(:mod:`pos_member.services.stored_value_sync`) both book through :func:`book`, idempotent per
ledger row id. Reads of balances, ledgers and a day's movements are here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.db.models import (
    BalanceBlock,
    Member,
    MemberAlias,
    PosBill,
    Sale,
    Staff,
    Store,
    SvAccount,
    SvCredential,
    SvLedgerEntry,
)
from pos_member.db.prepared import Prepared
from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound
from pos_member.services.balance_blocks import is_blocked

TOPPED_UP = events.SV_TOPPED_UP.type
PAID = events.SV_PAID.type
PAYMENT_REFUNDED = events.SV_PAYMENT_REFUNDED.type
TOPUP_REFUNDED = events.SV_TOPUP_REFUNDED.type
FROZEN = events.SV_FROZEN.type
UNFROZEN = events.SV_UNFROZEN.type
# The money events and the ledger kind each books.
MONEY_EVENTS = {TOPPED_UP: "topup", PAID: "payment", PAYMENT_REFUNDED: "payment_refund",
                TOPUP_REFUNDED: "topup_refund"}

LEDGER = SvLedgerEntry.__table__
ACCOUNTS = SvAccount.__table__
CREDENTIALS = SvCredential.__table__
ALIASES = MemberAlias.__table__


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
    bill_no: str | None = None  # the bill of a checkout's payment (or of the one refunded)


def business_day(at: datetime, zone: tzinfo) -> date:
    """The store's date at ``at``: the day a ledger line counts on (``zone``: the store's)."""
    return at.astimezone(zone).date()


# -- statements ----------------------------------------------------------------------------


# Hot-path statements built once (building a select costs more than running it on SQLite).
_BALANCE_Q = (select(ACCOUNTS.c.principal_fen, ACCOUNTS.c.bonus_fen, ACCOUNTS.c.frozen)
              .where(ACCOUNTS.c.member_id == bindparam("member_id")))
_TXN_Q = select(LEDGER).where(LEDGER.c.txn_id == bindparam("txn_id"))
_MEMBERS = Member.__table__
_BLOCKS = BalanceBlock.__table__
# The member, their account and HQ's block in one read (three lookups by primary key).
_MEMBER_Q = (
    select(_MEMBERS.c.id, _MEMBERS.c.birthday_enc, _MEMBERS.c.status,
           func.coalesce(ACCOUNTS.c.principal_fen, 0).label("principal_fen"),
           func.coalesce(ACCOUNTS.c.bonus_fen, 0).label("bonus_fen"),
           func.coalesce(ACCOUNTS.c.frozen, False).label("frozen"),
           func.coalesce(ACCOUNTS.c.topups, 0).label("topups"),
           _BLOCKS.c.member_id.label("blocked_id"))
    .select_from(_MEMBERS)
    .outerjoin(ACCOUNTS, ACCOUNTS.c.member_id == _MEMBERS.c.id)
    .outerjoin(_BLOCKS, _BLOCKS.c.member_id == _MEMBERS.c.id)
    .where(_MEMBERS.c.id == bindparam("member_id")))
_LEDGER_INSERT = sqlite_insert(LEDGER).on_conflict_do_nothing()
_ACCOUNT_UPSERT = sqlite_insert(ACCOUNTS)
_ACCOUNT_MOVE = (
    _ACCOUNT_UPSERT.on_conflict_do_update(index_elements=["member_id"], set_={
        "principal_fen": ACCOUNTS.c.principal_fen + _ACCOUNT_UPSERT.excluded.principal_fen,
        "bonus_fen": ACCOUNTS.c.bonus_fen + _ACCOUNT_UPSERT.excluded.bonus_fen,
        "topups": ACCOUNTS.c.topups + _ACCOUNT_UPSERT.excluded.topups,
        "updated_at": _ACCOUNT_UPSERT.excluded.updated_at})
    .returning(ACCOUNTS.c.principal_fen, ACCOUNTS.c.bonus_fen, ACCOUNTS.c.frozen))


# The statements of every top-up and payment run straight on the driver (db/prepared.py).
_ENTRY_KEYS = ("id", "member_id", "txn_id", "kind", "principal_delta_fen", "bonus_delta_fen",
               "cash_fen", "method", "method_ref", "factor", "approved_by", "ref_txn_id",
               "offline", "store_id", "device_id", "clerk_id", "at", "business_day",
               "clerk_name")


_FAST_TXN_Q = Prepared(_TXN_Q)
_FAST_BALANCE_Q = Prepared(_BALANCE_Q)
_FAST_MEMBER_Q = Prepared(_MEMBER_Q)
_FAST_LEDGER_INSERT = Prepared(_LEDGER_INSERT, column_keys=_ENTRY_KEYS)
_FAST_ACCOUNT_MOVE = Prepared(_ACCOUNT_MOVE, column_keys=(
    "member_id", "principal_fen", "bonus_fen", "topups", "frozen", "frozen_hlc", "updated_at"))


# -- reads -------------------------------------------------------------------------------


def balance(session: Session | Connection, member_id: str) -> Balance:
    row = (_FAST_BALANCE_Q.first(session, {"member_id": member_id})
           if isinstance(session, Connection)  # a checkout's read: straight on the driver
           else session.execute(_BALANCE_Q, {"member_id": member_id}).first())
    if row is None:
        return Balance(member_id, 0, 0, False)
    return Balance(member_id, row.principal_fen, row.bonus_fen, bool(row.frozen))


def get_balance(uow: UnitOfWork, member_id: str) -> Balance:
    with uow.read() as s:
        b = balance(s, member_id)
        return Balance(b.member_id, b.principal_fen, b.bonus_fen, b.frozen,
                       is_blocked(s, member_id))


def ledger(uow: UnitOfWork, member_id: str, *, limit: int = 200) -> list[LedgerLine]:
    """The member's stored-value ledger (储值流水), newest first, with running balances."""
    paid_txn = func.coalesce(LEDGER.c.ref_txn_id, LEDGER.c.txn_id)
    with uow.read() as s:
        rows = s.execute(
            select(LEDGER, Store.name.label("store_name"),
                   func.coalesce(Staff.name, LEDGER.c.clerk_name).label("shown_clerk"),
                   Sale.bill_no.label("bill_no"))
            .outerjoin(Store, Store.id == LEDGER.c.store_id)
            .outerjoin(Staff, Staff.id == LEDGER.c.clerk_id)
            # a checkout's payment is "<checkout id>/sv" (services/checkout.py)
            .outerjoin(PosBill, PosBill.pos_txn_id.concat("/sv") == paid_txn)
            .outerjoin(Sale, Sale.id == PosBill.sale_id)
            .where(LEDGER.c.member_id == member_id)
            .order_by(LEDGER.c.at, LEDGER.c.id)).all()
    lines: list[LedgerLine] = []
    p = b = 0
    for r in rows:
        p += r.principal_delta_fen
        b += r.bonus_delta_fen
        lines.append(LedgerLine(r.id, r.txn_id, r.kind, r.principal_delta_fen,
                                r.bonus_delta_fen, r.cash_fen, r.method, r.factor, r.ref_txn_id,
                                r.at, r.store_id, r.device_id, p, b, r.store_name or "—",
                                r.shown_clerk, r.bill_no))
    lines.reverse()
    return lines[:limit]


def ledger_totals(session: Session | Connection, member_id: str) -> tuple[int, int]:
    """(principal, bonus) as the ledger sums them."""
    row = session.execute(select(func.coalesce(func.sum(LEDGER.c.principal_delta_fen), 0),
                                 func.coalesce(func.sum(LEDGER.c.bonus_delta_fen), 0))
                          .where(LEDGER.c.member_id == member_id)).one()
    return int(row[0]), int(row[1])


def rebuild_accounts(conn: Connection) -> None:
    """Recomputes every account's principal, bonus and top-up count from the ledger. An
    account the ledger needs but lacks is dated by its last entry: a rebuild reads no clock."""
    sums = conn.execute(select(LEDGER.c.member_id,
                               func.sum(LEDGER.c.principal_delta_fen),
                               func.sum(LEDGER.c.bonus_delta_fen),
                               func.sum(case((LEDGER.c.kind == "topup", 1), else_=0)),
                               func.max(LEDGER.c.at))
                        .group_by(LEDGER.c.member_id)).all()
    seen = set()
    for member_id, p, b, n, last_at in sums:
        seen.add(member_id)
        ensure_account(conn, member_id, last_at)
        conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id)
                     .values(principal_fen=int(p), bonus_fen=int(b), topups=int(n or 0)))
    for (member_id,) in conn.execute(select(ACCOUNTS.c.member_id)).all():
        if member_id not in seen:
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id)
                         .values(principal_fen=0, bonus_fen=0, topups=0))


# -- booking ------------------------------------------------------------------------------


def ensure_account(conn: Connection, member_id: str, now: datetime) -> None:
    conn.execute(sqlite_insert(ACCOUNTS).on_conflict_do_nothing(index_elements=["member_id"]),
                 {"member_id": member_id, "principal_fen": 0, "bonus_fen": 0, "topups": 0,
                  "frozen": False, "frozen_hlc": None, "updated_at": now})


def book(conn: Connection, entry: dict[str, Any]) -> Balance | None:
    """Inserts a ledger row and moves the account by its deltas (one upsert, which creates
    the account if need be); the balance after it, or None if the row was already booked."""
    if _FAST_LEDGER_INSERT.run(conn, entry) != 1:
        return None
    row = _FAST_ACCOUNT_MOVE.first(conn, {
        "member_id": entry["member_id"], "principal_fen": entry["principal_delta_fen"],
        "bonus_fen": entry["bonus_delta_fen"], "topups": 1 if entry["kind"] == "topup" else 0,
        "frozen": False, "frozen_hlc": None, "updated_at": entry["at"]})
    return Balance(entry["member_id"], row.principal_fen, row.bonus_fen, bool(row.frozen))


def connection(conn: Session | Connection) -> Connection:
    return conn.connection() if isinstance(conn, Session) else conn


def txn_row(conn: Session | Connection, txn_id: str) -> Any:
    """The ledger row booked under the till transaction ``txn_id``, or None."""
    return _FAST_TXN_Q.first(connection(conn), {"txn_id": txn_id})


def member_row(conn: Session | Connection, member_id: str) -> Any:
    """The member, their account and HQ's block in one row, or None (nothing checked)."""
    return _FAST_MEMBER_Q.first(connection(conn), {"member_id": member_id})


def require_active(m: Any, member_id: str) -> Any:
    """``m`` (a :func:`member_row`), refused unless the member is active."""
    if m is None or m.status != "active":
        raise MemberNotFound(query=member_id)
    return m


def active_member(conn: Session | Connection, member_id: str) -> Any:
    """The member, their account and HQ's block in one row; refused unless active."""
    return require_active(member_row(conn, member_id), member_id)


def row_balance(m: Any, member_id: str) -> Balance:
    """The balance a :func:`member_row` holds (none: nothing)."""
    if m is None:
        return Balance(member_id, 0, 0, False)
    return Balance(member_id, int(m.principal_fen), int(m.bonus_fen), bool(m.frozen))


def offline_spent_today(conn: Session | Connection, member_id: str, device_id: str,
                        now: datetime) -> int:
    """What the member paid offline on this till on the store's day of ``now`` (local). The
    member's rows of the last two days, through ``ix_sv_ledger_member_at`` (a row of the
    day's business day is never older), then the day's."""
    spent = conn.scalar(
        select(func.coalesce(func.sum(-(LEDGER.c.principal_delta_fen
                                        + LEDGER.c.bonus_delta_fen)), 0))
        .where(LEDGER.c.member_id == member_id, LEDGER.c.at >= now - timedelta(days=2),
               LEDGER.c.business_day == now.date(),
               LEDGER.c.device_id == device_id, LEDGER.c.kind == "payment",
               LEDGER.c.offline.is_(True)))
    return int(spent or 0)


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
        select(LEDGER.c.kind, func.count(), func.sum(LEDGER.c.principal_delta_fen),
               func.sum(LEDGER.c.bonus_delta_fen), func.sum(LEDGER.c.cash_fen))
        .where(LEDGER.c.device_id == device_id, LEDGER.c.business_day == day)
        .group_by(LEDGER.c.kind)).all()
    by_kind = {r[0]: Movement(int(r[1]), abs(int(r[2] or 0)), abs(int(r[3] or 0)),
                              int(r[4] or 0)) for r in rows}
    return DayMovements(topups=by_kind.get("topup", Movement()),
                        payments=by_kind.get("payment", Movement()),
                        payment_refunds=by_kind.get("payment_refund", Movement()),
                        topup_refunds=by_kind.get("topup_refund", Movement()))
