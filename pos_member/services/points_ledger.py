"""The points ledger and its projections: the one place points are posted (SPEC §2.3).

Every change of a member's points is a ledger entry (``points_entries``); the balance in
``points_accounts`` is the entries' sum, kept up to date as each entry is posted. Positive
entries open a lot (``points_lots``) that expires after ``lot_expiry_months``; negative entries
consume open lots, oldest expiry first (FIFO), or the lots they name. Invariant, after every
posting: the open lots add up to the balance when it is not negative, and to 0 when it is (a
claw-back of points already spent leaves a debt that later earnings pay off first).

Entries travel in events as plain dicts (:func:`new_entry`) and are posted by the same function
locally (:mod:`pos_member.services.points`, :mod:`pos_member.services.sales`) and when pulled
from another till (:mod:`pos_member.services.points_sync`): :func:`post_entry`, so every till
ends with the same ledger. Posting an entry whose id is already here does nothing. A
duplicate-phone merge moves the loser's ledger here too (:func:`merge_points`).

One operation, one effect: a redeem, refund or adjustment carries its till transaction id; its
result is kept in ``points_txns`` (:func:`keep_txn`) and a repeated request finds it
(:func:`txn_result`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)

from pos_member.db.models import (
    MemberAlias,
    PointsAccount,
    PointsEntry,
    PointsLot,
    PointsTxn,
    Sale,
)
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction
from pos_member.errors import InsufficientPoints, InvalidInput, TxnReused
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Clerk
from pos_member.points_lots import (  # the kinds, shared with HQ (re-exported)
    ADJUST as ADJUST,
)
from pos_member.points_lots import CLAWBACK as CLAWBACK
from pos_member.points_lots import EARN as EARN
from pos_member.points_lots import EXPIRE as EXPIRE
from pos_member.points_lots import GIFT as GIFT
from pos_member.points_lots import REDEEM as REDEEM
from pos_member.points_lots import REFERRAL as REFERRAL
from pos_member.points_lots import RESTORE as RESTORE
from pos_member.points_lots import WELCOME as WELCOME
from pos_member.services import rfm

ENTRIES = PointsEntry.__table__
LOTS = PointsLot.__table__
ACCOUNTS = PointsAccount.__table__
TXNS = PointsTxn.__table__
ENTRY_COLUMNS = ("id", "member_id", "kind", "points", "txn_id", "sale_id", "bill_no",
                  "store_id", "device_id", "clerk_id", "note", "event_id", "clerk_name")

# A literal 0, not a bound parameter: SQLite uses the partial indexes (``remaining > 0``) only
# when the query repeats their condition word for word.
OPEN = LOTS.c.remaining > literal_column("0")
ENTRY_EXISTS = select(ENTRIES.c.id).where(ENTRIES.c.id == bindparam("id"))
_WINNER = (select(MemberAlias.__table__.c.member_id)
           .where(MemberAlias.__table__.c.loser_member_id == bindparam("loser")).limit(1))
_BALANCE = select(ACCOUNTS.c.balance).where(ACCOUNTS.c.member_id == bindparam("member_id"))
ADD_BALANCE = (update(ACCOUNTS).where(ACCOUNTS.c.member_id == bindparam("m"))
                .values(balance=ACCOUNTS.c.balance + bindparam("p")))
_OPEN_LOTS = (
    select(LOTS.c.id, LOTS.c.remaining, LOTS.c.available_at, LOTS.c.expires_at)
    .where(LOTS.c.member_id == bindparam("member_id"), OPEN)
    .order_by(LOTS.c.expires_at, LOTS.c.id)
)
# The open lots not yet past their expiry at ``now``, for spending and for the card: a lot
# whose time has come is not spendable even before the expiry job has posted its entry (the
# job runs hourly; a till just switched on may not have run it yet). The index's range on
# (member_id, expires_at) skips the expired lots instead of reading them.
LIVE_LOTS = (
    select(LOTS.c.id, LOTS.c.remaining, LOTS.c.available_at, LOTS.c.expires_at)
    .where(LOTS.c.member_id == bindparam("member_id"), OPEN,
           LOTS.c.expires_at > bindparam("now"))
    .order_by(LOTS.c.expires_at, LOTS.c.id)
)
_MEMBER_LOT = select(LOTS.c.remaining, LOTS.c.expires_at).where(
    LOTS.c.id == bindparam("id"), LOTS.c.member_id == bindparam("member_id"))
_INSERT_ENTRY = insert(ENTRIES)
_INSERT_LOT = insert(LOTS)
_INSERT_ACCOUNT = insert(ACCOUNTS)
_ADD_BALANCE_RETURNING = ADD_BALANCE.returning(ACCOUNTS.c.balance)
_LOT_BY_ID = select(LOTS.c.remaining).where(LOTS.c.id == bindparam("id"))
SET_REMAINING = update(LOTS).where(LOTS.c.id == bindparam("lot")).values(
    remaining=bindparam("left"))
# A till transaction id is used once, whatever for: the refund, gift or adjustment kept in
# points_txns under it, else a sale recorded under it (sales.txn_id; kind "sale", no result).
# One statement, on the non-sale paths only (a sale finds its own repeat in its first query).
_TXN = select(TXNS.c.kind, TXNS.c.result).where(
    TXNS.c.txn_id == bindparam("txn_id")).union_all(
    select(literal_column("'sale'"), null()).where(
        Sale.__table__.c.txn_id == bindparam("txn_id")))
# The same statements for the hot path of a sale at the till, run straight on the driver
# (pos_member/db/prepared.py).
_LOT_COLUMNS = ("id", "member_id", "points", "remaining", "earned_at", "available_at",
                "expires_at")
_FAST_LIVE_LOTS = Prepared(LIVE_LOTS)
_FAST_INSERT_ENTRY = Prepared(_INSERT_ENTRY, column_keys=(*ENTRY_COLUMNS, "at"))
_FAST_INSERT_LOT = Prepared(_INSERT_LOT, column_keys=_LOT_COLUMNS)
_FAST_ADD_BALANCE = Prepared(ADD_BALANCE)
_FAST_INSERT_ACCOUNT = Prepared(_INSERT_ACCOUNT, column_keys=(
    "member_id", "balance", "tier_since", "tier_hlc"))
_FAST_SET_REMAINING = Prepared(SET_REMAINING)
# ... and for posting any entry (:func:`post_entry`: a pulled sale's, a refund's, a welcome's):
# a new till catching up with its store's history posts one or two for most events it pulls.
_FAST_ENTRY_EXISTS = Prepared(ENTRY_EXISTS)
_FAST_WINNER = Prepared(_WINNER)
_FAST_ADD_BALANCE_RETURNING = Prepared(_ADD_BALANCE_RETURNING)
_FAST_MEMBER_LOT = Prepared(_MEMBER_LOT)
_FAST_OPEN_LOTS = Prepared(_OPEN_LOTS)


# -- posting entries (local and pulled) ----------------------------------------------------


def new_entry(
    tx: Transaction, clerk: Clerk, *, member_id: str, kind: str, points: int,
    at: datetime, txn_id: str | None = None, sale_id: str | None = None,
    bill_no: str | None = None, note: str | None = None, entry_id: str | None = None,
    lot_expires_at: datetime | None = None, lot_available_at: datetime | None = None,
    consume: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """An entry in wire form. A positive entry opens a lot: it expires ``lot_expires_at``
    (default: ``lot_expiry_months`` after ``at``) and is spendable from ``lot_available_at``."""
    e: dict[str, Any] = {
        "id": entry_id or tx.new_id(), "member_id": member_id, "kind": kind, "points": points,
        "txn_id": txn_id, "sale_id": sale_id, "bill_no": bill_no, "store_id": clerk.store_id,
        "device_id": clerk.device_id, "clerk_id": clerk.staff_id, "at": at.isoformat(),
        "note": note, "clerk_name": clerk.ledger_name,
    }
    if points > 0:
        e["expires_at"] = (lot_expires_at or add_months(at, tx.rules.points.lot_expiry_months)
                           ).isoformat()
        e["available_at"] = (lot_available_at or at).isoformat()
    if consume:
        e["consume"] = [[lot, n] for lot, n in consume]
    return e


def post_entry(conn: Connection, entry: Mapping[str, Any], *, event_id: str | None = None,
               fresh: bool = False, holders: Mapping[str, str] | None = None
               ) -> list[tuple[str, int, str]]:
    """Posts one entry: ledger row, balance, lots. Returns the lots it consumed as
    ``(lot id, points, expires_at iso)`` (a refund gives redeemed points back with their own
    expiry). Already posted → nothing, returns []. ``fresh``: the entry was just made here
    with a new id (skips the look-up; an expiry's derived id is never fresh). An entry that
    was not made here, for a member merged away here already, is posted to the winner
    (``holders``: members the caller has just found the holder of with :func:`current_member`
    in this transaction, not looked up again)."""
    e = decode_entry(entry)
    if not fresh and _FAST_ENTRY_EXISTS.first(conn, {"id": e["id"]}) is not None:
        return []
    if not fresh:
        holder = holders.get(e["member_id"]) if holders else None
        if holder is None:
            holder = current_member(conn, e["member_id"])
        if holder != e["member_id"] and e["kind"] == WELCOME:  # a merged-away record's welcome
            from pos_member.services.welcome_reversal import reverse_welcome

            e["member_id"] = holder
            taken = _post(conn, e, event_id)
            reverse_welcome(conn, e, holder)  # one welcome bonus per person
            return taken
        e["member_id"] = holder
    return _post(conn, e, event_id)


def _post(conn: Connection, e: dict[str, Any], event_id: str | None
          ) -> list[tuple[str, int, str]]:
    row = {c: e.get(c) for c in ENTRY_COLUMNS}
    row["at"] = e["at"]
    row["event_id"] = event_id
    _FAST_INSERT_ENTRY.run(conn, row)
    member_id, points = e["member_id"], e["points"]
    returned = _FAST_ADD_BALANCE_RETURNING.first(conn, {"m": member_id, "p": points})
    if returned is None:
        _FAST_INSERT_ACCOUNT.run(conn, {"member_id": member_id, "balance": points,
                                        "tier_since": None, "tier_hlc": None})
        balance = 0
    else:
        balance = returned.balance - points  # before this entry
    if points > 0:
        debt = max(0, -balance)
        _FAST_INSERT_LOT.run(conn, {
            "id": e["id"], "member_id": member_id, "points": points,
            "remaining": max(0, points - debt), "earned_at": e["at"],
            "available_at": e["available_at"], "expires_at": e["expires_at"]})
        return []
    if points < 0:
        return consume_lots(conn, member_id, -points, prefer=e.get("consume", ()))
    return []


def current_member(conn: Connection, member_id: str) -> str:
    """The member that holds ``member_id``'s points: a merged loser's winner (following merges
    that compose, A→B then B→C), else ``member_id`` itself. A merge pulled before the loser's
    entries moved what was here; this sends the later ones after it."""
    seen = {member_id}
    while True:
        row = _FAST_WINNER.first(conn, {"loser": member_id})
        if row is None or row.member_id in seen:
            return member_id
        seen.add(row.member_id)
        member_id = row.member_id


def consume_lots(conn: Connection, member_id: str, n: int,
                 prefer: Iterable[Sequence[Any]] = ()) -> list[tuple[str, int, str]]:
    """Takes ``n`` points from the member's open lots: the ones named in ``prefer`` first (up
    to what each is named for and holds), then oldest expiry first over every open lot, the
    named ones included. What the lots cannot cover is debt (the balance already went below
    zero).

    A pulled entry names the lots its own till spent; here one of them may hold less (another
    till's spend of it arrived first) and another more, so the named amounts fall short of
    ``n``. The rest then comes from whatever is still open, a named lot's remainder too: a lot
    left holding points after the balance has paid them out would make the lots hold more
    than the balance (docs/rules.md, "Points lots")."""
    taken: dict[str, list[Any]] = {}  # lot id → [points taken, expires_at iso], in order
    for lot_id, want in prefer:
        if n <= 0:
            break
        row = _FAST_MEMBER_LOT.first(conn, {"id": lot_id, "member_id": member_id})
        if row is None or row.remaining <= 0:
            continue
        k = min(int(want), row.remaining, n)
        if k > 0:
            _FAST_SET_REMAINING.run(conn, {"lot": lot_id, "left": row.remaining - k})
            taken.setdefault(lot_id, [0, iso(row.expires_at)])[0] += k
            n -= k
    if n > 0:  # the lots' remaining as just written: a named lot counts once for what is left
        for lot in _FAST_OPEN_LOTS.all(conn, {"member_id": member_id}):
            k = min(lot.remaining, n)
            _FAST_SET_REMAINING.run(conn, {"lot": lot.id, "left": lot.remaining - k})
            taken.setdefault(lot.id, [0, iso(lot.expires_at)])[0] += k
            n -= k
            if n == 0:
                break
    return [(lot_id, k, expires) for lot_id, (k, expires) in taken.items()]


def spendable_lots(conn: Connection, member_id: str, now: datetime, n: int
                   ) -> list[tuple[str, int]]:
    """The lots a spend of ``n`` takes, FIFO over lots available now and not past their
    expiry; raises
    :class:`InsufficientPoints` (changing nothing) when they hold less."""
    return [(lot, k) for lot, k, _, _ in plan_spend(conn, member_id, now, n, None)]


def plan_spend(conn: Connection, member_id: str, now: datetime, n: int, balance: int | None
               ) -> list[tuple[str, int, int, str]]:
    """:func:`spendable_lots` with what the caller may post fast (:func:`post_fresh`): each
    lot as ``(lot id, points taken, remaining before, expires_at iso)``. ``balance``: the
    member's balance when the caller has just read it in this transaction (None: read it)."""
    plan: list[tuple[str, int, int, str]] = []
    left = n
    available = 0
    for lot in _FAST_LIVE_LOTS.iter(conn, {"member_id": member_id, "now": now}):
        if aware(lot.available_at) > now:
            continue
        available += lot.remaining
        k = min(lot.remaining, left)
        plan.append((lot.id, k, lot.remaining, iso(lot.expires_at)))
        left -= k
        if left == 0:
            break
    if balance is None:
        balance = conn.execute(_BALANCE, {"member_id": member_id}).scalar() or 0
    if left > 0 or balance < n:
        raise InsufficientPoints(available=max(0, min(available, balance)), wanted=n)
    return plan


def post_fresh(conn: Connection, entries: Sequence[Mapping[str, Any]], *, event_id: str,
               balances: Mapping[str, int], lots: Mapping[str, tuple[int, str]] | None = None,
               no_account: Collection[str] = (),
               ) -> tuple[dict[str, list[tuple[str, int, str]]], dict[str, int]]:
    """Posts entries just made here (new ids) in a few ``executemany`` statements: the same
    effect as :func:`post_entry` of each in turn, for the hot path of a sale at the till.

    ``balances``: the balance of each member concerned, read in this transaction; ``lots``:
    ``lot id → (remaining, expires_at iso)`` of the lots the negative entries name (read in this
    transaction, e.g. by :func:`plan_spend`); ``no_account``: members found in this
    transaction to have no points account yet (balance 0 in ``balances``; a member's first
    sale), whose account is made here. When an entry needs more than that (a member whose
    balance was not read, a spend its named lots do not cover), every entry goes the general
    way, one :func:`post_entry` each. Returns the lots each entry consumed (by entry id, as
    :func:`post_entry` returns them) and the members' balances afterwards."""
    bal = dict(balances)
    lots = lots or {}
    left = {lot: rem for lot, (rem, _) in lots.items()}
    rows: list[dict[str, Any]] = []
    new_lots: list[dict[str, Any]] = []
    consumed: dict[str, list[tuple[str, int, str]]] = {}
    delta: dict[str, int] = {}
    fast = True
    for entry in entries:
        e = decode_entry(entry)
        member_id, points = e["member_id"], e["points"]
        if member_id not in bal:
            fast = False
            break
        row = {c: e.get(c) for c in ENTRY_COLUMNS}
        row["at"], row["event_id"] = e["at"], event_id
        rows.append(row)
        taken: list[tuple[str, int, str]] = []
        if points > 0:
            debt = max(0, -bal[member_id])
            new_lots.append({
                "id": e["id"], "member_id": member_id, "points": points,
                "remaining": max(0, points - debt), "earned_at": e["at"],
                "available_at": e["available_at"], "expires_at": e["expires_at"]})
        elif points < 0:
            need = -points
            for lot_id, want in e["consume"]:
                if need <= 0:
                    break
                if lot_id not in left:
                    fast = False
                    break
                k = min(want, left[lot_id], need)
                if k > 0:
                    left[lot_id] -= k
                    taken.append((lot_id, k, lots[lot_id][1]))
                    need -= k
            if need > 0:
                fast = False  # FIFO over lots not read here: the general way
            if not fast:
                break
        consumed[e["id"]] = taken
        bal[member_id] += points
        delta[member_id] = delta.get(member_id, 0) + points
    if not fast:
        consumed = {}
        for entry in entries:
            consumed[str(entry["id"])] = post_entry(conn, entry, event_id=event_id, fresh=True)
        members = {str(entry["member_id"]) for entry in entries}
        return consumed, {m: balance_of(conn, m) for m in members}
    if not rows:
        return consumed, bal
    _FAST_INSERT_ENTRY.run(conn, rows)
    added = [{"m": m, "p": p} for m, p in delta.items() if m not in no_account]
    if added:
        _FAST_ADD_BALANCE.run(conn, added)
    made = [{"member_id": m, "balance": p, "tier_since": None, "tier_hlc": None}
            for m, p in delta.items() if m in no_account]
    if made:
        _FAST_INSERT_ACCOUNT.run(conn, made)
    changed = [{"lot": lot, "left": n} for lot, n in left.items() if n != lots[lot][0]]
    if changed:
        _FAST_SET_REMAINING.run(conn, changed)
    if new_lots:
        _FAST_INSERT_LOT.run(conn, new_lots)
    return consumed, bal


def post_welcome(conn: Connection, entry: Mapping[str, Any], *, event_id: str) -> None:
    """:func:`post_entry`'s effect for the welcome entry of a member registered in this
    transaction, who has no account yet: three inserts, nothing to look up."""
    e = decode_entry(entry)
    row = {c: e.get(c) for c in ENTRY_COLUMNS}
    row["at"], row["event_id"] = e["at"], event_id
    _FAST_INSERT_ENTRY.run(conn, row)
    _FAST_INSERT_ACCOUNT.run(conn, {"member_id": e["member_id"], "balance": e["points"],
                                    "tier_since": None, "tier_hlc": None})
    _FAST_INSERT_LOT.run(conn, {
        "id": e["id"], "member_id": e["member_id"], "points": e["points"],
        "remaining": e["points"], "earned_at": e["at"], "available_at": e["available_at"],
        "expires_at": e["expires_at"]})


def balance_of(conn: Connection, member_id: str) -> int:
    return int(conn.execute(_BALANCE, {"member_id": member_id}).scalar() or 0)


def decode_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry in wire form checked and with its times parsed (raises ``ValueError``)."""
    e = dict(entry)
    for key in ("id", "member_id", "kind", "store_id", "device_id"):
        if not isinstance(e.get(key), str):
            raise ValueError(f"points entry without {key}")
    points = e.get("points")
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValueError("points must be an integer")
    e["at"] = to_datetime(e["at"])
    if points > 0:
        e["expires_at"] = to_datetime(e["expires_at"])
        e["available_at"] = to_datetime(e["available_at"])
    e["consume"] = [(str(lot), int(n)) for lot, n in e.get("consume") or ()]
    return e


# -- one operation, one effect ------------------------------------------------------------


def txn_result(conn: Connection, txn_id: str, kind: str) -> dict[str, Any] | None:
    """The first result of the ``kind`` operation done under ``txn_id``, or None when the id
    is new; :class:`TxnReused` when it was used for another kind of operation or a sale."""
    if not txn_id or len(txn_id) > 36:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The till transaction id is missing."))
    row = conn.execute(_TXN, {"txn_id": txn_id}).first()
    if row is None:
        return None
    if row.kind != kind:
        raise TxnReused()
    return dict(row.result)


def keep_txn(conn: Connection, txn_id: str, kind: str, member_id: str | None,
              result: dict[str, Any], at: datetime) -> None:
    conn.execute(insert(TXNS), {"txn_id": txn_id, "kind": kind, "member_id": member_id,
                                 "result": result, "at": at})


def ledger_sum(conn: Connection, member_id: str) -> int:
    return int(conn.scalar(select(func.coalesce(func.sum(ENTRIES.c.points), 0))
                           .where(ENTRIES.c.member_id == member_id)) or 0)


# -- merges ---------------------------------------------------------------------------------


def merge_points(conn: Connection, *, loser_id: str, winner_id: str) -> None:
    """``member.merged``: the loser's ledger, lots and balance move to the winner, and the
    loser's welcome points are reversed (one welcome bonus per person:
    ``services/welcome_reversal.py``). Idempotent (a second call finds nothing of the loser's
    left; a reversal has a derived id and is posted once)."""
    from pos_member.db.models import SalePoints
    from pos_member.services.welcome_reversal import losers_welcomes, reverse_welcome

    welcomes = losers_welcomes(conn, loser_id)  # one welcome bonus per person: reversed below
    moved = conn.execute(update(ENTRIES).where(ENTRIES.c.member_id == loser_id)
                         .values(member_id=winner_id)).rowcount
    conn.execute(update(LOTS).where(LOTS.c.member_id == loser_id).values(member_id=winner_id))
    conn.execute(update(Sale.__table__).where(Sale.__table__.c.member_id == loser_id)
                 .values(member_id=winner_id))
    conn.execute(update(SalePoints.__table__).where(SalePoints.__table__.c.member_id == loser_id)
                 .values(member_id=winner_id))
    rfm.refresh(conn, winner_id)  # the sales moved: both members' RFM figures (issue 19)
    rfm.refresh(conn, loser_id)
    if not moved:
        return
    loser_balance = conn.execute(_BALANCE, {"member_id": loser_id}).scalar()
    conn.execute(ACCOUNTS.delete().where(ACCOUNTS.c.member_id == loser_id))
    if conn.execute(_BALANCE, {"member_id": winner_id}).scalar() is None:
        conn.execute(insert(ACCOUNTS), {"member_id": winner_id, "balance": 0,
                                         "tier_since": None, "tier_hlc": None})
    conn.execute(ADD_BALANCE, {"m": winner_id, "p": int(loser_balance or 0)})
    for welcome in welcomes:
        reverse_welcome(conn, welcome, winner_id)
    # One member's debt and the other's lots meet: the debt takes from the lots.
    balance = balance_of(conn, winner_id)
    open_sum = sum(lot.remaining for lot in conn.execute(_OPEN_LOTS, {"member_id": winner_id}))
    excess = open_sum - max(0, balance)
    if excess > 0:
        consume_lots(conn, winner_id, excess)


# -- helpers --------------------------------------------------------------------------------


def add_months(when: datetime, months: int) -> datetime:
    """The same instant ``months`` later on the calendar (the 31st → the month's last day)."""
    import calendar

    m = when.month - 1 + months
    year, month = when.year + m // 12, m % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def to_datetime(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return aware(when)


def aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    return aware(when).isoformat()

