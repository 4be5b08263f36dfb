"""Sales and refunds the main POS reports, applied through the till's own services.

A reported sale is :func:`pos_member.services.sales.record_sale` — the same ``sale.recorded``
event, points, tier and 会销比 as a sale keyed at the till — with the POS's lines, tenders,
transaction id and time kept beside it (``pos_bills``) in the same transaction. A refund is
:func:`pos_member.services.sale_refunds.refund_sale`, of the whole bill, an amount or some
lines. Both are idempotent by the POS's transaction id: the same id with the same content
answers the first result and writes nothing; with other content it is refused
(:class:`TxnIdReused`). The HTTP API and the watched folder both come here.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select

from pos_member.db.models import Member, MemberStanding, PosBill, PosRefund, Staff
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction, UnitOfWork
from pos_member.errors import GuideNotFound, InvalidInput, SaleNotFound
from pos_member.events import PHONE_CTX
from pos_member.integration.errors import (
    LineNotOnBill,
    LinesDoNotAddUp,
    LinesNotKnown,
    RefundOverLine,
    TxnIdReused,
)
from pos_member.member_code import CodeKind, classify_code
from pos_member.permissions import Clerk, Role
from pos_member.points_rules import points_value_fen, share
from pos_member.services import bill_refunds, member_standing, sale_refunds, sales
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services.bill_refunds import BillRefund
from pos_member.services.member_cards import find_member
from pos_member.services.sale_refunds import RefundResult
from pos_member.services.sales import SaleResult, clean_bill_no
from pos_member.services.stored_value import SvResult

MAX_TXN_ID = 64
MAX_LINES = 200
MAX_TENDERS = 10
MAX_LABEL = 20  # a category, a tender's kind, a line's id
MAX_LATE = timedelta(days=31)  # a sale reported later than this is refused (docs/rules.md)
# The till's own transaction id for a POS request: a name-based UUID of the POS's id, so the
# till's services (36-character ids, idempotent by them) see one id per POS transaction.
_TXN_NAMESPACE = uuid.UUID("5f1b3c52-7d0e-4c55-9a43-2f6c3a8e9b10")

_BILLS = PosBill.__table__
_REFUNDS = PosRefund.__table__
_BILL_BY_TXN = select(_BILLS.c.sale_id, _BILLS.c.request_hash).where(
    _BILLS.c.pos_txn_id == bindparam("txn"))
_BILL_LINES = select(_BILLS.c.lines).where(_BILLS.c.sale_id == bindparam("sale_id"))
_REFUND_BY_TXN = select(_REFUNDS.c.request_hash, _REFUNDS.c.result).where(
    _REFUNDS.c.pos_txn_id == bindparam("txn"))
_REFUNDED_LINES = select(_REFUNDS.c.lines).where(_REFUNDS.c.sale_id == bindparam("sale_id"))
# The member of a sale in the same read as the checks above; a number that is not an active
# member's (merged away, unknown) goes the long way, find_member, which follows merges.
_MEMBER = (select(Member.id, Member.member_no, MemberStanding.card_generation)
           .outerjoin(MemberStanding, MemberStanding.member_id == Member.id)
           .where(Member.status == "active"))
_MEMBER_BY_NO = _MEMBER.where(Member.member_no == bindparam("key"))
_MEMBER_BY_PHONE = _MEMBER.where(Member.phone_index == bindparam("key"))
_GUIDE = select(Staff.id).where(Staff.store_id == bindparam("store_id"),
                                Staff.code == bindparam("code"), Staff.active.is_(True))
# A reported sale's reads, straight on the driver (pos_member/db/prepared.py): the hot path.
_FAST_BILL_BY_TXN = Prepared(_BILL_BY_TXN)
_FAST_GUIDE = Prepared(_GUIDE)
_FAST_MEMBER_BY_NO = Prepared(_MEMBER_BY_NO)
_FAST_MEMBER_BY_PHONE = Prepared(_MEMBER_BY_PHONE)
_FAST_INSERT_BILL = Prepared(insert(_BILLS), column_keys=(
    "sale_id", "pos_txn_id", "request_hash", "source", "pos_time", "lines", "tenders",
    "received_at"))


@dataclass(frozen=True, slots=True)
class Line:
    line: str  # the POS's id of the line on the bill (refunds name it)
    category: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Tender:
    kind: str  # cash, card, wechat, alipay, … as the POS names it; STORED_VALUE is the till's
    amount_fen: int
    payment_txn_id: str | None = None  # a stored-value tender: the POS's /v1/payments txn id


STORED_VALUE = "stored_value"  # the tender of a payment taken through /v1/payments


@dataclass(frozen=True, slots=True)
class RefundLine:
    line: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class SaleReport:
    """A sale as the POS reports it. ``amount_fen`` is the bill before points; the lines add
    up to it, the tenders to what was paid (the bill less ``redeem_points``' value)."""

    txn_id: str
    bill_no: str
    time: str  # ISO 8601 with its offset, as the POS rang it up
    amount_fen: int
    lines: tuple[Line, ...]
    tenders: tuple[Tender, ...]
    member: str | None = None  # member code, member number or phone; None: a walk-in
    guide: str | None = None  # the guide's staff number
    redeem_points: int = 0

    def digest(self) -> str:
        return _digest(_plain(self))


@dataclass(frozen=True, slots=True)
class RefundReport:
    """A refund of the whole bill (no lines, no amount), of an amount, or of some lines."""

    txn_id: str
    bill_no: str
    lines: tuple[RefundLine, ...] = field(default=())
    amount_fen: int | None = None

    def digest(self) -> str:
        return _digest(_plain(self))


def _digest(value: dict[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` for these reports' frozen dataclasses and tuples, as JSON sees
    it (a tuple as a list), without its deep copies: a tenth of a reported sale's CPU."""
    names = _FIELDS.get(type(value))
    if names is None and is_dataclass(value):
        names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {n: _plain(getattr(value, n)) for n in names}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}


def pos_clerk(*, store_id: str, device_id: str) -> Clerk:
    """Who acts for the POS: the till itself (no staff member; ``clerk_id`` empty in events
    and audit rows), with a manager's permissions because the POS approved its own refunds.
    What a token may ask is its scope's business (``tokens.Scope``), checked before this."""
    return Clerk(staff_id=None, name="POS", role=Role.MANAGER, store_id=store_id,
                 device_id=device_id)


def till_txn_id(pos_txn_id: str, kind: str) -> str:
    return str(uuid.uuid5(_TXN_NAMESPACE, f"{kind}:{pos_txn_id}"))


# -- checks ---------------------------------------------------------------------------------


def _label(value: object, what: str) -> str:
    text = unicodedata.normalize("NFKC", str(value) if isinstance(value, str) else "").strip()
    if not text or len(text) > MAX_LABEL or any(
            unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput(f"A {what} is 1 to {MAX_LABEL} characters.")
    return text


def check_txn_id(txn_id: object) -> str:
    if not isinstance(txn_id, str) or not 1 <= len(txn_id) <= MAX_TXN_ID or any(
            not c.isprintable() or c.isspace() for c in txn_id):
        raise InvalidInput(f"txn_id is 1 to {MAX_TXN_ID} printable characters, no spaces.")
    return txn_id


def check_time(value: object) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("time is an ISO 8601 date and time with its offset.") from None
    if at.tzinfo is None:
        raise InvalidInput("time needs its offset (+08:00), or Z.")
    return at.isoformat()


def check_fen(value: object, what: str, *, zero: bool = False) -> int:
    """A whole number of fen, more than 0 (or 0 with ``zero``) and at most ``MAX_AMOUNT_FEN``;
    the refusal names ``what`` and the maximum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} is a whole number of fen.")
    if (value == 0 and zero) or 0 < value <= sales.MAX_AMOUNT_FEN:
        return value
    raise InvalidInput(f"{what} is more than 0 and at most {sales.MAX_AMOUNT_FEN} fen.")


def check_sale(report: SaleReport, *, point_value: int) -> SaleReport:
    """The report with its labels normalised; refuses a bad one, changing nothing.
    ``point_value`` is the fen value of ``redeem_points`` under the rules in force."""
    check_txn_id(report.txn_id)
    amount = check_fen(report.amount_fen, "amount_fen")  # as sales.check_amount, naming the most
    if not 1 <= len(report.lines) <= MAX_LINES:
        raise InvalidInput(f"A sale has 1 to {MAX_LINES} lines.")
    if not 1 <= len(report.tenders) <= MAX_TENDERS:
        raise InvalidInput(f"A sale has 1 to {MAX_TENDERS} tenders.")
    lines = tuple(Line(_label(x.line, "line id"), _label(x.category, "category"),
                       check_fen(x.amount_fen, "A line's amount_fen", zero=True))
                  for x in report.lines)
    if len({x.line for x in lines}) != len(lines):
        raise InvalidInput("Each line of a bill has its own line id.")
    tenders = tuple(Tender(_label(t.kind, "tender kind"),
                           check_fen(t.amount_fen, "A tender's amount_fen"), t.payment_txn_id)
                    for t in report.tenders)
    for t in tenders:
        if (t.kind == STORED_VALUE) != (t.payment_txn_id is not None):
            raise InvalidInput("A stored_value tender, and only one, names its payment_txn_id "
                               "(the txn_id of its /v1/payments request).")
    if isinstance(report.redeem_points, bool) or not isinstance(report.redeem_points, int) \
            or report.redeem_points < 0:
        raise InvalidInput("redeem_points is a whole number, 0 or more.")
    if point_value > amount:
        raise InvalidInput("redeem_points are worth more than the bill (ask /v1/quotes for "
                           "the most a bill may redeem).")
    if sum(x.amount_fen for x in lines) != amount:
        raise LinesDoNotAddUp(what="lines", total=sum(x.amount_fen for x in lines),
                              amount_fen=amount)
    paid = amount - point_value
    if sum(t.amount_fen for t in tenders) != paid:
        raise LinesDoNotAddUp(what="tenders", total=sum(t.amount_fen for t in tenders),
                              amount_fen=paid)
    member = report.member.strip() if isinstance(report.member, str) else report.member
    if member is not None and (not isinstance(member, str) or not member):
        raise InvalidInput("member is a member code, a member number or a phone, or null.")
    guide = report.guide.strip() if isinstance(report.guide, str) else report.guide
    if guide is not None and (not isinstance(guide, str) or not guide):
        raise InvalidInput("guide is a staff number, or null.")
    return SaleReport(report.txn_id, clean_bill_no(report.bill_no), check_time(report.time),
                      amount, lines, tenders, member, guide, report.redeem_points)


def check_refund(report: RefundReport) -> RefundReport:
    check_txn_id(report.txn_id)
    if len(report.lines) > MAX_LINES:
        raise InvalidInput(f"A refund names at most {MAX_LINES} lines.")
    if report.lines and report.amount_fen is not None:
        raise InvalidInput("A refund names lines or an amount_fen, not both.")
    lines = tuple(RefundLine(_label(x.line, "line id"), check_fen(x.amount_fen,
                                                            "A line's amount_fen"))
                  for x in report.lines)
    if len({x.line for x in lines}) != len(lines):
        raise InvalidInput("A refund names each line once.")
    amount = None if report.amount_fen is None else check_fen(report.amount_fen, "amount_fen")
    return RefundReport(report.txn_id, clean_bill_no(report.bill_no), lines, amount)


# -- sale -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportedSale:
    sale: SaleResult
    member_no: str | None  # the member's number (the report may name them by phone or code)


def report_sale(uow: UnitOfWork, clerk: Clerk, report: SaleReport, *,
                source: str = "api") -> ReportedSale:
    """Records the POS's sale (see the module). Refuses, writing nothing: a bad report, an
    unknown member or guide, a bill number already used by another transaction, the POS's
    transaction id reused with other content, a redemption over the cap or the balance."""
    report = check_sale(report, point_value=points_value_fen(uow.rules.points,
                                                             report.redeem_points)
                        if isinstance(report.redeem_points, int) else 0)
    sold_at = datetime.fromisoformat(report.time)
    if uow.clock.now() - sold_at > MAX_LATE:
        raise InvalidInput(f"time {report.time} is more than {MAX_LATE.days} days before the "
                           "till's clock: the till does not book a sale that old.")
    digest = report.digest()
    scanned = classify_code(report.member) if report.member is not None else None
    member: Any = None
    with uow.read_conn() as conn:
        first = _FAST_BILL_BY_TXN.first(conn, {"txn": report.txn_id})
        if first is not None and first.request_hash != digest:
            raise TxnIdReused(txn_id=report.txn_id)
        guide_id = None
        if report.guide is not None:
            guide = _FAST_GUIDE.first(conn, {"store_id": clerk.store_id, "code": report.guide})
            if guide is None:
                raise GuideNotFound()
            guide_id = guide.id
        if scanned is not None:
            member = (_FAST_MEMBER_BY_NO.first(conn, {"key": scanned.value})
                      if scanned.kind is CodeKind.MEMBER else _FAST_MEMBER_BY_PHONE.first(
                          conn, {"key": uow.cipher.blind_index(scanned.value,
                                                               context=PHONE_CTX)}))
            if member is not None and first is None and scanned.kind is CodeKind.MEMBER:
                # a card reported lost names no one (its points are not spent by a finder)
                member_standing.refuse_old_card(member.card_generation, member.member_no,
                                                scanned.generation)
    if report.member is not None and member is None:
        member = find_member(uow, clerk=clerk, code=report.member)  # merges; or refuses
    member_id, member_no = (member.id, member.member_no) if member is not None else (None, None)
    no_earn = _no_earn_fen(uow, member_id, report.tenders)

    def keep(tx: Transaction, sale_id: str) -> None:
        _FAST_INSERT_BILL.run(tx.conn, {
            "sale_id": sale_id, "pos_txn_id": report.txn_id, "request_hash": digest,
            "source": source, "pos_time": report.time,
            "lines": [[x.line, x.category, x.amount_fen] for x in report.lines],
            # [kind, fen], as the till's checkout keeps them; a stored-value tender adds its
            # payment's till txn id, which a refund of the bill returns the money to
            # (services/bill_refunds.py).
            "tenders": [_kept_tender(t) for t in report.tenders],
            "received_at": tx.clock.now()})

    result = sales.record_sale(
        uow, clerk, txn_id=till_txn_id(report.txn_id, "sale"), bill_no=report.bill_no,
        amount_fen=report.amount_fen, member_id=member_id, guide_id=guide_id,
        categories=list(dict.fromkeys(x.category for x in report.lines)),
        redeem_points=report.redeem_points, within=keep, no_earn_fen=no_earn, sold_at=sold_at)
    return ReportedSale(result, member_no)


def _kept_tender(t: Tender) -> list[Any]:
    if t.kind == STORED_VALUE:
        return [t.kind, t.amount_fen, till_txn_id(t.payment_txn_id or "", "payment")]
    return [t.kind, t.amount_fen]


def _no_earn_fen(uow: UnitOfWork, member_id: str | None, tenders: Sequence[Tender]) -> int:
    """What earns no points of the stored-value tenders, by the rule the till's own checkout
    follows (``points.stored_value_earns``), from the payments as they were booked: the POS
    pays through /v1/payments first, then names that payment in the sale's tender."""
    stored = [t for t in tenders if t.kind == STORED_VALUE]
    if not stored:
        return 0
    if member_id is None:
        raise InvalidInput("A stored_value tender needs the sale's member.")
    mode = uow.rules.points.stored_value_earns
    no_earn = 0
    with uow.read() as s:
        for t in stored:
            row = sv_ledger.txn_row(s, till_txn_id(t.payment_txn_id or "", "payment"))
            if row is None or row.kind != "payment" or row.member_id != member_id \
                    or -(row.principal_delta_fen + row.bonus_delta_fen) != t.amount_fen:
                raise InvalidInput(f"No stored-value payment {t.payment_txn_id} of "
                                   f"{t.amount_fen} fen by this member.")
            no_earn += {"all": 0, "none": t.amount_fen}.get(mode, -row.bonus_delta_fen)
    return no_earn


# -- refund ---------------------------------------------------------------------------------


def _refunded_per_line(rows: Sequence[Any]) -> dict[str, int]:
    done: dict[str, int] = {}
    for (lines,) in rows:
        for line, amount in lines:
            done[line] = done.get(line, 0) + amount
    return done


def _check_lines(report: RefundReport, sold: dict[str, int], done: dict[str, int]) -> None:
    for x in report.lines:
        if x.line not in sold:
            raise LineNotOnBill(bill_no=report.bill_no, line=x.line)
        left = sold[x.line] - done.get(x.line, 0)
        if x.amount_fen > left:
            raise RefundOverLine(left=left, line=x.line, bill_no=report.bill_no)


def lines_left(conn: Any, sale_id: str) -> list[tuple[str, str, int, int]]:
    """A bill's lines as ``(line, category, sold, left)``: left is what no line refund has
    taken yet (empty: the bill has no lines)."""
    kept = conn.execute(_BILL_LINES, {"sale_id": sale_id}).scalar()
    if not kept:
        return []
    done = _refunded_per_line(conn.execute(_REFUNDED_LINES, {"sale_id": sale_id}).all())
    return [(str(x), str(c), int(f), int(f) - done.get(str(x), 0)) for x, c, f in kept]


def refund_known(conn: Any, txn_id: str) -> bool:
    """Whether a refund with this txn_id was booked already (its repeat asks nothing)."""
    return conn.execute(_REFUND_BY_TXN, {"txn": txn_id}).first() is not None


def lines_refund_fen(conn: Any, sale: Any, report: RefundReport) -> tuple[int, dict[str, int]]:
    """What a refund of ``report.lines`` pays back (their share of what was paid, cumulative
    over the bill's refunds) and what each line sold; refuses lines not on the bill, over what
    is left of a line, or coming to nothing."""
    bill_lines = conn.execute(_BILL_LINES, {"sale_id": sale.id}).scalar()
    if not bill_lines:
        raise LinesNotKnown(bill_no=report.bill_no)
    sold = {line: fen for line, _, fen in bill_lines}
    done = _refunded_per_line(conn.execute(_REFUNDED_LINES, {"sale_id": sale.id}).all())
    _check_lines(report, sold, done)
    bill_fen, paid = sum(sold.values()), sale.amount_fen
    before = sum(done.values())
    after = before + sum(x.amount_fen for x in report.lines)
    amount = share(paid, after, bill_fen) - share(paid, before, bill_fen)
    if amount <= 0:
        raise InvalidInput("These lines come to nothing to pay back.")
    return amount, sold


def report_refund(uow: UnitOfWork, clerk: Clerk, report: RefundReport, *,
                  source: str = "api", approver: Clerk | None = None) -> BillRefund:
    """Refunds the POS's bill (see the module): points taken back and given back by share, and
    the money as it was taken (services/bill_refunds.py: stored value back into the member's
    account first, the rest by the bill's other tender). A refund of lines gives back the
    lines' share of what was paid (the bill less points), cumulative over the bill's refunds so
    that refunding every line ends where refunding the whole bill would. Refuses, writing
    nothing: more than is left of the bill or of a line, a line not on the bill, an unknown
    bill. A repeat answers the first refund, money and all, and writes nothing. ``approver``:
    the manager who approved it at the till (Shift+F4); the POS approves its own."""
    report = check_refund(report)
    digest = report.digest()
    amount = report.amount_fen
    sold: dict[str, int] = {}
    with uow.read() as s:
        conn = s.connection()
        first = conn.execute(_REFUND_BY_TXN, {"txn": report.txn_id}).first()
        if first is not None:
            if first.request_hash != digest:
                raise TxnIdReused(txn_id=report.txn_id)
            return _first_refund(conn, first.result)
        sale = conn.execute(sales.SALE_BY_BILL, {"store_id": clerk.store_id,
                                                  "bill_no": report.bill_no}).first()
        if sale is None:
            raise SaleNotFound(bill_no=report.bill_no)
        if report.lines:
            amount, sold = lines_refund_fen(conn, sale, report)
    till_txn = till_txn_id(report.txn_id, "refund")
    money: list[Any] = []

    def keep(tx: Transaction, result: dict[str, Any]) -> None:
        if report.lines:  # again under the write lock: a refund of the same line meanwhile
            done = _refunded_per_line(tx.conn.execute(_REFUNDED_LINES,
                                                      {"sale_id": result["sale_id"]}).all())
            _check_lines(report, sold, done)
        money.extend(bill_refunds.give_back(tx, clerk, approver or clerk,
                                            sale_id=result["sale_id"],
                                            refund_fen=result["refund_fen"], txn_id=till_txn))
        back = [[t.kind, t.amount_fen] for t in money[0]]
        tx.conn.execute(insert(_REFUNDS), {
            "pos_txn_id": report.txn_id, "sale_id": result["sale_id"], "request_hash": digest,
            "source": source, "lines": [[x.line, x.amount_fen] for x in report.lines],
            "refund_fen": result["refund_fen"],
            "result": {**result, _BACK: back,
                       _SV_TXN: money[1].txn_id if money[1] is not None else None},
            "received_at": tx.clock.now()})

    refund = sale_refunds.refund_sale(
        uow, clerk, approver=approver or clerk, txn_id=till_txn, bill_no=report.bill_no,
        amount_fen=amount, within=keep)
    back, returned = money if money else ((), None)
    return BillRefund(refund, returned, back)


_BACK, _SV_TXN = "given_back", "stored_value_txn_id"  # kept beside the refund's result


def _first_refund(conn: Any, kept: dict[str, Any]) -> BillRefund:
    """A repeated refund's answer: the first one's figures, how its money went back, and the
    member's stored value as it is now."""
    result = {k: v for k, v in kept.items() if k not in (_BACK, _SV_TXN)}
    back = tuple(bill_refunds.Tender(str(k), int(f)) for k, f in kept.get(_BACK) or ())
    returned = None
    if kept.get(_SV_TXN):
        row = sv_ledger.txn_row(conn, kept[_SV_TXN])
        if row is not None:
            returned = SvResult(row.txn_id, row.kind, row.member_id, row.principal_delta_fen,
                                row.bonus_delta_fen, 0, sv_ledger.balance(conn, row.member_id))
    return BillRefund(RefundResult(**result, repeated=True), returned, back)
