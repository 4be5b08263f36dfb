"""Points (积分): the ledger, its lots, and the operations on them (SPEC §2.3).

Every change of a member's points is a ledger entry (:class:`PointsEntry`); the balance in
``points_accounts`` is the entries' sum, kept up to date as each entry is posted. Positive
entries open a lot (``points_lots``) that expires after ``lot_expiry_months``; negative entries
consume open lots, oldest expiry first (FIFO), or the lots they name. Invariant, after every
posting: the open lots add up to the balance when it is not negative, and to 0 when it is (a
claw-back of points already spent leaves a debt that later earnings pay off first).

Entries travel in events as plain dicts (``entry`` below) and are posted by the same function
locally and when pulled from another till (:func:`post_entry`), so every till ends with the same
ledger. Posting an entry whose id is already here does nothing.

One operation, one effect: a redeem, refund or adjustment carries its till transaction id; its
result is kept in ``points_txns`` and a repeated request returns it and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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

from pos_member import events
from pos_member.changes import Area, Changes
from pos_member.db.compiled import Prepared
from pos_member.db.models import (
    Flag,
    Member,
    MemberAlias,
    PointsAccount,
    PointsEntry,
    PointsLot,
    PointsTxn,
    Sale,
    Staff,
    Store,
)
from pos_member.db.uow import RecordedEvent, Transaction, UnitOfWork
from pos_member.errors import DomainError, InvalidInput, MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services.staff import login

EARN, WELCOME, REFERRAL, REDEEM, GIFT = "earn", "welcome", "referral", "redeem", "gift"
CLAWBACK, RESTORE, EXPIRE, ADJUST = "clawback", "restore", "expire", "adjust"
KIND_LABELS = {
    EARN: QT_TRANSLATE_NOOP("points", "Purchase"),
    WELCOME: QT_TRANSLATE_NOOP("points", "Welcome points"),
    REFERRAL: QT_TRANSLATE_NOOP("points", "Referral reward"),
    REDEEM: QT_TRANSLATE_NOOP("points", "Redeemed on a bill"),
    GIFT: QT_TRANSLATE_NOOP("points", "Exchanged for a gift"),
    CLAWBACK: QT_TRANSLATE_NOOP("points", "Refund: points taken back"),
    RESTORE: QT_TRANSLATE_NOOP("points", "Refund: redeemed points returned"),
    EXPIRE: QT_TRANSLATE_NOOP("points", "Expired"),
    ADJUST: QT_TRANSLATE_NOOP("points", "Manual adjustment"),
    "welcome_reversed": QT_TRANSLATE_NOOP("points", "Welcome points: one per person (merged)"),
}

WELCOMED = events.POINTS_WELCOME.type
REDEEMED = events.POINTS_REDEEMED.type
ADJUSTED = events.POINTS_ADJUSTED.type
EXPIRED = events.POINTS_EXPIRED.type
NEGATIVE_FLAG = "points_negative"

_ENTRIES = PointsEntry.__table__
_LOTS = PointsLot.__table__
_ACCOUNTS = PointsAccount.__table__
_TXNS = PointsTxn.__table__
_ENTRY_COLUMNS = ("id", "member_id", "kind", "points", "txn_id", "sale_id", "bill_no",
                  "store_id", "device_id", "clerk_id", "note", "event_id", "clerk_name")

# A literal 0, not a bound parameter: SQLite uses the partial indexes (``remaining > 0``) only
# when the query repeats their condition word for word.
_OPEN = _LOTS.c.remaining > literal_column("0")
_ENTRY_EXISTS = select(_ENTRIES.c.id).where(_ENTRIES.c.id == bindparam("id"))
_WINNER = (select(MemberAlias.__table__.c.member_id)
           .where(MemberAlias.__table__.c.loser_member_id == bindparam("loser")).limit(1))
_BALANCE = select(_ACCOUNTS.c.balance).where(_ACCOUNTS.c.member_id == bindparam("member_id"))
_ADD_BALANCE = (update(_ACCOUNTS).where(_ACCOUNTS.c.member_id == bindparam("m"))
                .values(balance=_ACCOUNTS.c.balance + bindparam("p")))
_OPEN_LOTS = (
    select(_LOTS.c.id, _LOTS.c.remaining, _LOTS.c.available_at, _LOTS.c.expires_at)
    .where(_LOTS.c.member_id == bindparam("member_id"), _OPEN)
    .order_by(_LOTS.c.expires_at, _LOTS.c.id)
)
# The open lots not yet past their expiry at ``now``, for spending and for the card: a lot
# whose time has come is not spendable even before the expiry job has posted its entry (the
# job runs hourly; a till just switched on may not have run it yet). The index's range on
# (member_id, expires_at) skips the expired lots instead of reading them.
_LIVE_LOTS = (
    select(_LOTS.c.id, _LOTS.c.remaining, _LOTS.c.available_at, _LOTS.c.expires_at)
    .where(_LOTS.c.member_id == bindparam("member_id"), _OPEN,
           _LOTS.c.expires_at > bindparam("now"))
    .order_by(_LOTS.c.expires_at, _LOTS.c.id)
)
_MEMBER_LOT = select(_LOTS.c.remaining, _LOTS.c.expires_at).where(
    _LOTS.c.id == bindparam("id"), _LOTS.c.member_id == bindparam("member_id"))
_INSERT_ENTRY = insert(_ENTRIES)
_INSERT_LOT = insert(_LOTS)
_INSERT_ACCOUNT = insert(_ACCOUNTS)
_ADD_BALANCE_RETURNING = _ADD_BALANCE.returning(_ACCOUNTS.c.balance)
_LOT_BY_ID = select(_LOTS.c.remaining).where(_LOTS.c.id == bindparam("id"))
_SET_REMAINING = update(_LOTS).where(_LOTS.c.id == bindparam("lot")).values(
    remaining=bindparam("left"))
# A till transaction id is used once, whatever for: the refund, gift or adjustment kept in
# points_txns under it, else a sale recorded under it (sales.txn_id; kind "sale", no result).
# One statement, on the non-sale paths only (a sale finds its own repeat in its first query).
_TXN = select(_TXNS.c.kind, _TXNS.c.result).where(
    _TXNS.c.txn_id == bindparam("txn_id")).union_all(
    select(literal_column("'sale'"), null()).where(
        Sale.__table__.c.txn_id == bindparam("txn_id")))
# The same statements for the hot path of a sale at the till, run straight on the driver
# (pos_member/db/compiled.py).
_LOT_COLUMNS = ("id", "member_id", "points", "remaining", "earned_at", "available_at",
                "expires_at")
_FAST_LIVE_LOTS = Prepared(_LIVE_LOTS)
_FAST_INSERT_ENTRY = Prepared(_INSERT_ENTRY, column_keys=(*_ENTRY_COLUMNS, "at"))
_FAST_INSERT_LOT = Prepared(_INSERT_LOT, column_keys=_LOT_COLUMNS)
_FAST_ADD_BALANCE = Prepared(_ADD_BALANCE)
_FAST_INSERT_ACCOUNT = Prepared(_INSERT_ACCOUNT, column_keys=(
    "member_id", "balance", "tier_since", "tier_hlc"))
_FAST_SET_REMAINING = Prepared(_SET_REMAINING)


class InsufficientPoints(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "Not enough points: {available} can be spent now, {wanted} were asked for."
    )


class RedeemOverCap(DomainError):
    message = QT_TRANSLATE_NOOP(
        "errors", "At most {cap} points can be redeemed on this bill (half of it)."
    )


class ReasonRequired(InvalidInput):
    message = QT_TRANSLATE_NOOP("errors", "Give the reason for the adjustment.")


class TxnReused(InvalidInput):
    message = QT_TRANSLATE_NOOP(
        "errors", "This till transaction was already used for something else: start a new one."
    )


# -- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsSummary:
    member_id: str
    balance: int
    spendable: int  # open lots available now (pending points excluded)
    pending: int  # open lots not spendable yet
    next_expiry: datetime | None
    next_expiry_points: int


@dataclass(frozen=True, slots=True)
class LedgerLine:
    at: datetime
    kind: str
    points: int
    balance: int  # running balance after this line
    store: str
    clerk: str | None
    bill_no: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class PointsOpResult:
    """The result of a redeem-for-gift or an adjustment; ``repeated`` when returned again."""

    txn_id: str
    member_id: str
    points: int  # signed change
    balance: int
    repeated: bool = False

    @property
    def changes(self) -> Changes:
        return Changes.of(Area.POINTS, members=(self.member_id,))


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
               fresh: bool = False) -> list[tuple[str, int, str]]:
    """Posts one entry: ledger row, balance, lots. Returns the lots it consumed as
    ``(lot id, points, expires_at iso)`` (a refund gives redeemed points back with their own
    expiry). Already posted → nothing, returns []. ``fresh``: the entry was just made here
    with a new id (skips the look-up; an expiry's derived id is never fresh). An entry that
    was not made here, for a member merged away here already, is posted to the winner."""
    e = _decode(entry)
    if not fresh and conn.execute(_ENTRY_EXISTS, {"id": e["id"]}).first() is not None:
        return []
    if not fresh:
        holder = current_member(conn, e["member_id"])
        if holder != e["member_id"] and e["kind"] == WELCOME:  # a merged-away record's welcome
            from pos_member.services.welcome_once import reverse_welcome

            e["member_id"] = holder
            taken = _post(conn, e, event_id)
            reverse_welcome(conn, e, holder)  # one welcome bonus per person
            return taken
        e["member_id"] = holder
    return _post(conn, e, event_id)


def _post(conn: Connection, e: dict[str, Any], event_id: str | None
          ) -> list[tuple[str, int, str]]:
    row = {c: e.get(c) for c in _ENTRY_COLUMNS}
    row["at"] = e["at"]
    row["event_id"] = event_id
    conn.execute(_INSERT_ENTRY, row)
    member_id, points = e["member_id"], e["points"]
    after = conn.execute(_ADD_BALANCE_RETURNING, {"m": member_id, "p": points}).scalar()
    if after is None:
        conn.execute(insert(_ACCOUNTS), {"member_id": member_id, "balance": points,
                                         "tier_since": None, "tier_hlc": None})
        balance = 0
    else:
        balance = after - points  # before this entry
    if points > 0:
        debt = max(0, -balance)
        conn.execute(_INSERT_LOT, {
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
        winner = conn.execute(_WINNER, {"loser": member_id}).scalar()
        if winner is None or winner in seen:
            return member_id
        seen.add(winner)
        member_id = winner


def consume_lots(conn: Connection, member_id: str, n: int,
                 prefer: Iterable[Sequence[Any]] = ()) -> list[tuple[str, int, str]]:
    """Takes ``n`` points from the member's open lots: the ones named in ``prefer`` first (up
    to what they hold), then oldest expiry first. What the lots cannot cover is debt (the
    balance already went below zero)."""
    taken: list[tuple[str, int, str]] = []
    done: set[str] = set()
    for lot_id, want in prefer:
        if n <= 0:
            break
        row = conn.execute(_MEMBER_LOT, {"id": lot_id, "member_id": member_id}).first()
        done.add(lot_id)
        if row is None or row.remaining <= 0:
            continue
        k = min(int(want), row.remaining, n)
        if k > 0:
            conn.execute(_SET_REMAINING, {"lot": lot_id, "left": row.remaining - k})
            taken.append((lot_id, k, _iso(row.expires_at)))
            n -= k
    if n > 0:
        for lot in conn.execute(_OPEN_LOTS, {"member_id": member_id}):
            if lot.id in done:
                continue
            k = min(lot.remaining, n)
            conn.execute(_SET_REMAINING, {"lot": lot.id, "left": lot.remaining - k})
            taken.append((lot.id, k, _iso(lot.expires_at)))
            n -= k
            if n == 0:
                break
    return taken


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
        if _aware(lot.available_at) > now:
            continue
        available += lot.remaining
        k = min(lot.remaining, left)
        plan.append((lot.id, k, lot.remaining, _iso(lot.expires_at)))
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
               ) -> tuple[dict[str, list[tuple[str, int, str]]], dict[str, int]]:
    """Posts entries just made here (new ids) in a few ``executemany`` statements: the same
    effect as :func:`post_entry` of each in turn, for the hot path of a sale at the till.

    ``balances``: the balance of each member concerned, read in this transaction; ``lots``:
    ``lot id → (remaining, expires_at iso)`` of the lots the negative entries name (read in this
    transaction, e.g. by :func:`plan_spend`). When an entry needs more than that (a member whose
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
        e = _decode(entry)
        member_id, points = e["member_id"], e["points"]
        if member_id not in bal:
            fast = False
            break
        row = {c: e.get(c) for c in _ENTRY_COLUMNS}
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
    _FAST_ADD_BALANCE.run(conn, [{"m": m, "p": p} for m, p in delta.items()])
    changed = [{"lot": lot, "left": n} for lot, n in left.items() if n != lots[lot][0]]
    if changed:
        _FAST_SET_REMAINING.run(conn, changed)
    if new_lots:
        _FAST_INSERT_LOT.run(conn, new_lots)
    return consumed, bal


def balance_of(conn: Connection, member_id: str) -> int:
    return int(conn.execute(_BALANCE, {"member_id": member_id}).scalar() or 0)


def points_events_handler(conn: Connection, ev: Mapping[str, Any]) -> bool:
    """Pulled ``points.*`` events: post their entries (idempotent per entry)."""
    entries = [_decode(e) for e in ev["payload"]["entries"]]  # decode all before writing
    applied = False
    for e in entries:
        if conn.execute(_ENTRY_EXISTS, {"id": e["id"]}).first() is None:
            post_entry(conn, e, event_id=ev["id"])
            applied = True
    return applied


def _decode(entry: Mapping[str, Any]) -> dict[str, Any]:
    e = dict(entry)
    for key in ("id", "member_id", "kind", "store_id", "device_id"):
        if not isinstance(e.get(key), str):
            raise ValueError(f"points entry without {key}")
    points = e.get("points")
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValueError("points must be an integer")
    e["at"] = _dt(e["at"])
    if points > 0:
        e["expires_at"] = _dt(e["expires_at"])
        e["available_at"] = _dt(e["available_at"])
    e["consume"] = [(str(lot), int(n)) for lot, n in e.get("consume") or ()]
    return e


# -- the till's operations -----------------------------------------------------------------


def record_points_event(tx: Transaction, clerk: Clerk, type_: str, *, member_id: str,
                        entries: list[dict[str, Any]], extra: dict[str, Any] | None = None
                        ) -> RecordedEvent:
    """Records one event carrying ``entries`` and posts them; returns the event."""
    declared = events.declaration(type_)
    payload = events.PointsPosted(member_id=member_id, entries=entries, **(extra or {}))
    ev = tx.record(clerk, declared, payload, entity_id=member_id)
    conn = tx.conn
    for e in entries:
        post_entry(conn, e, event_id=ev.id, fresh=True)  # made here, new ids
    return ev


def add_welcome_points(tx: Transaction, clerk: Clerk, *, member_id: str, at: datetime) -> int:
    """Welcome points on registration, in the registration's own transaction."""
    points = tx.rules.registration.welcome_points
    if points <= 0:
        return 0
    entry = new_entry(tx, clerk, member_id=member_id, kind=WELCOME, points=points, at=at)
    ev = tx.record(clerk, events.POINTS_WELCOME,
                   events.PointsPosted(member_id=member_id, entries=[entry]), entity_id=member_id)
    # post_entry's effect for a member registered in this transaction, who has no account
    # yet: three inserts, nothing to look up.
    e = _decode(entry)
    row = {c: e.get(c) for c in _ENTRY_COLUMNS}
    row["at"], row["event_id"] = e["at"], ev.id
    conn = tx.conn
    _FAST_INSERT_ENTRY.run(conn, row)
    _FAST_INSERT_ACCOUNT.run(conn, {"member_id": member_id, "balance": points,
                                    "tier_since": None, "tier_hlc": None})
    _FAST_INSERT_LOT.run(conn, {
        "id": e["id"], "member_id": member_id, "points": points, "remaining": points,
        "earned_at": e["at"], "available_at": e["available_at"], "expires_at": e["expires_at"]})
    return points


def _member_exists(conn: Connection, member_id: str) -> None:
    status = conn.scalar(select(Member.status).where(Member.id == member_id))
    if status is None or status != "active":
        raise MemberNotFound(query=member_id[:8])


def _txn_result(conn: Connection, txn_id: str, kind: str) -> dict[str, Any] | None:
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


def _keep_txn(conn: Connection, txn_id: str, kind: str, member_id: str | None,
              result: dict[str, Any], at: datetime) -> None:
    conn.execute(insert(_TXNS), {"txn_id": txn_id, "kind": kind, "member_id": member_id,
                                 "result": result, "at": at})


def redeem_for_item(uow: UnitOfWork, *, clerk: Clerk, txn_id: str, member_id: str,
                    item_code: str) -> PointsOpResult:
    """Exchanges points for a gift or coupon of the rules' catalogue."""
    require(clerk, Action.VIEW_MEMBER)
    item = next((i for i in uow.rules.points.catalogue if i.code == item_code), None)
    if item is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such gift in the catalogue."))
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done = _txn_result(conn, txn_id, GIFT)
        if done is not None:
            return PointsOpResult(**done, repeated=True)
        _member_exists(conn, member_id)
        plan = spendable_lots(conn, member_id, now, item.points)
        entry = new_entry(tx, clerk, member_id=member_id, kind=GIFT, points=-item.points,
                          at=now, txn_id=txn_id, note=f"{item.code} {item.name}"[:200],
                          consume=plan)
        ev = record_points_event(tx, clerk, REDEEMED, member_id=member_id, entries=[entry],
                                 extra={"txn_id": txn_id, "item": item.code})
        result = {"txn_id": txn_id, "member_id": member_id, "points": -item.points,
                  "balance": balance_of(conn, member_id)}
        _keep_txn(conn, txn_id, GIFT, member_id, result, now)
        tx.audit(clerk, REDEEMED, "member", member_id, after=result, event=ev)
        tx.commit()
    return PointsOpResult(**result)


def check_adjustment(*, points: object, reason: str | None) -> str:
    """The checks of a new adjustment's own inputs, which need nothing stored: ``points`` a
    whole number, not 0, at most 1,000,000 either way; a reason. Returns the reason with its
    spaces tidied; raises :class:`ReasonRequired` or :class:`InvalidInput`."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 \
            or abs(points) > 1_000_000:
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "An adjustment is a whole number of points, not 0, at most 1,000,000."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ReasonRequired()
    return reason


def _check_new_adjustment(conn: Connection, *, txn_id: str, member_id: str, points: int,
                          reason: str | None) -> tuple[dict[str, Any] | None, str, int]:
    """What :func:`adjust_points` checks before it writes: the first result when ``txn_id``
    was done already (the inputs of a repeat are not checked again: the dialog may have
    cleared them), else the tidied reason and the member's balance, or the refusal."""
    done = _txn_result(conn, txn_id, ADJUST)
    if done is not None:
        return done, "", 0
    reason = check_adjustment(points=points, reason=reason)
    _member_exists(conn, member_id)
    before = balance_of(conn, member_id)
    if points < 0 and before < -points:  # FIFO over every open lot, pending ones too
        raise InsufficientPoints(available=max(0, before), wanted=-points)
    return None, reason, before


def adjust_points(uow: UnitOfWork, *, clerk: Clerk, approver: Clerk, txn_id: str,
                  member_id: str, points: int, reason: str) -> PointsOpResult:
    """A manual adjustment (either sign), approved by a manager (``approver``: the clerk
    who entered their PIN at the till), with a reason; audited. A negative adjustment may not
    take more than the balance. A repeat of a done ``txn_id`` returns its first result,
    whatever the other inputs are now. At the till, :func:`adjust_points_with_pin`."""
    require(clerk, Action.VIEW_MEMBER)
    require(approver, Action.ADJUST_POINTS)
    now = uow.clock.now()
    with uow.begin() as tx:
        conn = tx.conn
        done, reason, before = _check_new_adjustment(conn, txn_id=txn_id, member_id=member_id,
                                                     points=points, reason=reason)
        if done is not None:
            return PointsOpResult(**done, repeated=True)
        entry = new_entry(tx, clerk, member_id=member_id, kind=ADJUST, points=points, at=now,
                          txn_id=txn_id, note=f"{reason[:150]} · {approver.name}"[:200])
        ev = record_points_event(tx, clerk, ADJUSTED, member_id=member_id, entries=[entry],
                                 extra={"txn_id": txn_id, "approved_by": approver.staff_id,
                                        "reason": reason[:200]})
        result = {"txn_id": txn_id, "member_id": member_id, "points": points,
                  "balance": before + points}
        _keep_txn(conn, txn_id, ADJUST, member_id, result, now)
        tx.audit(clerk, ADJUSTED, "member", member_id, before={"balance": before},
                 after={"balance": before + points, "reason": reason[:200],
                        "approved_by": approver.staff_id}, event=ev)
        tx.commit()
    return PointsOpResult(**result)


def adjust_points_with_pin(uow: UnitOfWork, *, clerk: Clerk, manager_code: str,
                           manager_pin: str, txn_id: str, member_id: str, points: int,
                           reason: str) -> PointsOpResult:
    """The till's adjustment (Ctrl+F7): the cashier's inputs and a manager's staff number and
    PIN. Everything that can refuse the adjustment itself (the inputs, the member, the balance
    a negative one needs, a till transaction id used for something else) is checked first,
    reading only, so a refused adjustment writes nothing, not even the manager's login. Then
    the PIN: a wrong one counts towards the manager's lock and a right one is audited as a
    ``staff.login`` (:func:`pos_member.services.staff.login`), each committed on its own;
    then :func:`adjust_points` in its own transaction, which checks again. A repeat of a done
    ``txn_id`` returns its first result without asking the PIN again (and writes nothing)."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        done, _, _ = _check_new_adjustment(s.connection(), txn_id=txn_id, member_id=member_id,
                                           points=points, reason=reason)
    if done is not None:
        return PointsOpResult(**done, repeated=True)
    approver = login(uow, code=manager_code, secret=manager_pin, device_id=clerk.device_id)
    return adjust_points(uow, clerk=clerk, approver=approver, txn_id=txn_id,
                         member_id=member_id, points=points, reason=reason)


def raise_negative_flag(tx: Transaction, clerk: Clerk, *, member_id: str, balance: int,
                        bill_no: str | None) -> None:
    """A claw-back left the member's balance below zero: an alert for the manager."""
    flag = Flag(id=tx.new_id(), kind=NEGATIVE_FLAG, store_id=clerk.store_id,
                device_id=clerk.device_id, raised_at=tx.clock.now(),
                detail={"member_id": member_id, "balance": balance, "bill_no": bill_no},
                resolved_at=None, resolved_by=None)
    tx.session.add(flag)
    payload = events.FlagRaised(flag_id=flag.id, kind=NEGATIVE_FLAG, **flag.detail)
    ev = tx.record(clerk, events.FLAG_RAISED, payload, entity_id=flag.id)
    tx.audit(clerk, events.FLAG_RAISED.type, "flag", flag.id, after=ev.payload, event=ev)


# -- reading --------------------------------------------------------------------------------


def points_summary(uow: UnitOfWork, *, member_id: str) -> PointsSummary:
    """The member's balance (the ledger's sum) and, of their lots not yet past their expiry,
    what can be spent now, what is pending and the next expiry. Points whose expiry has come
    count in the balance until the expiry job posts them, but are neither spendable nor
    pending."""
    now = uow.clock.now()
    with uow.read() as s:
        conn = s.connection()
        balance = balance_of(conn, member_id)
        spendable = pending = 0
        next_expiry: datetime | None = None
        next_points = 0
        for lot in conn.execute(_LIVE_LOTS, {"member_id": member_id, "now": now}):
            if _aware(lot.available_at) > now:
                pending += lot.remaining
            else:
                spendable += lot.remaining
            exp = _aware(lot.expires_at)
            if next_expiry is None:
                next_expiry, next_points = exp, lot.remaining
            elif exp == next_expiry:
                next_points += lot.remaining
    return PointsSummary(member_id, balance, spendable, pending, next_expiry, next_points)


def ledger(uow: UnitOfWork, *, clerk: Clerk, member_id: str, limit: int = 500
           ) -> list[LedgerLine]:
    """The member's points ledger, newest first, with the running balance after each line."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        rows = s.execute(
            select(PointsEntry.at, PointsEntry.kind, PointsEntry.points, Store.name,
                   func.coalesce(Staff.name, PointsEntry.clerk_name), PointsEntry.bill_no,
                   PointsEntry.note, PointsEntry.id)
            .outerjoin(Store, Store.id == PointsEntry.store_id)
            .outerjoin(Staff, Staff.id == PointsEntry.clerk_id)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.at, PointsEntry.id)
        ).all()
    out: list[LedgerLine] = []
    running = 0
    for at, kind, pts, store, clerk_name, bill, note, _ in rows:
        running += pts
        out.append(LedgerLine(_aware(at), kind, pts, running, store or "—", clerk_name, bill,
                              note))
    out.reverse()
    return out[:limit]


def ledger_sum(conn: Connection, member_id: str) -> int:
    return int(conn.scalar(select(func.coalesce(func.sum(_ENTRIES.c.points), 0))
                           .where(_ENTRIES.c.member_id == member_id)) or 0)


# -- merges ---------------------------------------------------------------------------------


def merge_points(conn: Connection, *, loser_id: str, winner_id: str) -> None:
    """``member.merged``: the loser's ledger, lots and balance move to the winner, and the
    loser's welcome points are reversed (one welcome bonus per person:
    ``services/welcome_once.py``). Idempotent (a second call finds nothing of the loser's
    left; a reversal has a derived id and is posted once)."""
    from pos_member.db.models import Sale, SalePoints
    from pos_member.services.welcome_once import losers_welcomes, reverse_welcome

    welcomes = losers_welcomes(conn, loser_id)  # one welcome bonus per person: reversed below
    moved = conn.execute(update(_ENTRIES).where(_ENTRIES.c.member_id == loser_id)
                         .values(member_id=winner_id)).rowcount
    conn.execute(update(_LOTS).where(_LOTS.c.member_id == loser_id).values(member_id=winner_id))
    conn.execute(update(Sale.__table__).where(Sale.__table__.c.member_id == loser_id)
                 .values(member_id=winner_id))
    conn.execute(update(SalePoints.__table__).where(SalePoints.__table__.c.member_id == loser_id)
                 .values(member_id=winner_id))
    if not moved:
        return
    loser_balance = conn.execute(_BALANCE, {"member_id": loser_id}).scalar()
    conn.execute(_ACCOUNTS.delete().where(_ACCOUNTS.c.member_id == loser_id))
    if conn.execute(_BALANCE, {"member_id": winner_id}).scalar() is None:
        conn.execute(insert(_ACCOUNTS), {"member_id": winner_id, "balance": 0,
                                         "tier_since": None, "tier_hlc": None})
    conn.execute(_ADD_BALANCE, {"m": winner_id, "p": int(loser_balance or 0)})
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


def _dt(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return _aware(when)


def _aware(when: datetime) -> datetime:
    from datetime import UTC

    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return _aware(when).isoformat()
