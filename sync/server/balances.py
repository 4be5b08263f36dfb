"""Chain-wide stored value per member, and the cross-store overdraw block (SPEC §3.3).

Each till checks a balance payment against its own ledger, so two stores that are offline at
once can each spend the same balance. The server sees every store's ``sv.*`` money events and
keeps each member's chain-wide total in ``member_balances``:

- a money event is an ``sv.*`` event whose payload is an ``events.MoneyMoved`` (``member_id``,
  ``txn_id``, ``principal_delta_fen`` and ``bonus_delta_fen``: signed integers, fen); its delta
  is their sum. Other ``sv.*`` events (no deltas) and malformed payloads are relayed but not
  counted;
- a merged loser's balance belongs to its winner (``member_redirects``): when the merge is made
  the loser's balance and settlements move to the winner, and later events for the loser count
  for the winner;
- when a member's total goes below zero (``balance_fen + settled_fen < 0``) and it has no open
  overdraw flag, the server raises one ``overdraw`` flag and appends a server event
  ``member.balance_blocked {member_id, balance_fen, flag_id}``; every till pulls it and refuses
  balance payments for that member (``pos_member.services.balance_blocks``);
- HQ settles (``pos-member-server settle-overdraw MEMBER --note ...``): the deficit is recorded
  as settled (``settled_fen``: collected at the counter or written off), the flags are resolved
  and ``member.balance_unblocked {member_id, flag_id, settled_fen, note}`` is appended.

Everything runs inside the push's write transaction (:func:`after_store`), so the balance, the
flag and the server event commit with the events that caused them, exactly once. Pushes run
beside each other: a member's delta is added in one upsert that holds its row to the commit
(``_add``), and a merge holds ``MERGE_LOCK`` exclusively (``locks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
from sqlalchemy import Connection, Text, bindparam, cast, insert, select, text, update

from pos_member.events import (
    MEMBER_BALANCE_BLOCKED,
    MEMBER_BALANCE_UNBLOCKED,
    MEMBER_REGISTERED,
    MemberBalanceBlocked,
    MemberBalanceUnblocked,
    MoneyMoved,
)
from sync.server.context import ServerContext
from sync.server.driver import Statement, json_text
from sync.server.duplicate_phones import list_value, one_of
from sync.server.errors import BadRequest, MemberNotFoundAtHq, NoOpenOverdraw
from sync.server.locks import MERGE_LOCK, lock_shared
from sync.server.log import LogWriter
from sync.server.models import Event, Flag, MemberBalance, MemberIndex, MemberRedirect

SV_PREFIX = "sv."
OVERDRAW = "overdraw"
MAX_DELTA_FEN = 10**12  # ten billion yuan: anything larger is a broken till, not a payment
MAX_NOTE = 500

_BALANCES = MemberBalance.__table__
_REDIRECTS = MemberRedirect.__table__
_UPDATE_BALANCE = (
    update(_BALANCES).where(_BALANCES.c.member_id == bindparam("m"))
    .values(balance_fen=bindparam("b"), settled_fen=bindparam("s"),
            flag_id=bindparam("f"), updated_at=bindparam("u"))
)


@dataclass(frozen=True)
class Settlement:
    member_id: str  # the member that owns the balance (the winner of any merge)
    balance_fen: int  # its chain-wide balance
    settled_fen: int  # the deficit recorded as settled now (0 if the balance was not negative)
    flag_ids: list[int]  # the overdraw flags resolved


@dataclass
class _Row:
    balance_fen: int
    settled_fen: int
    flag_id: int | None
    exists: bool
    dirty: bool = False


def money_delta(event_type: str, payload: Mapping[str, Any] | bytes | msgspec.Raw
                ) -> tuple[str, int] | None:
    """(member_id, principal + bonus delta) of an ``sv.*`` money event; None for anything else.

    The payload (decoded, or its JSON text: then read straight into the struct, ~4x faster
    than decoding it whole first) is read as the money events' contract,
    ``events.MoneyMoved`` (what every ``sv.*`` money type's payload starts with, whatever its
    type or version adds), so a money type or payload version newer than this server still
    counts."""
    if not event_type.startswith(SV_PREFIX):
        return None
    try:
        p = msgspec.convert(payload, MoneyMoved) if isinstance(payload, Mapping) \
            else _MONEY.decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if not 0 < len(p.member_id) <= 36 or any(
            abs(v) > MAX_DELTA_FEN for v in (p.principal_delta_fen, p.bonus_delta_fen)):
        return None
    return p.member_id, p.principal_delta_fen + p.bonus_delta_fen


_MONEY = msgspec.json.Decoder(MoneyMoved)


def _money(event: StoredEvent) -> tuple[str, int] | None:
    """``money_delta`` of a stored event, from its payload's text when it has it (a pushed
    event: ``wire.IncomingEvent``)."""
    raw = getattr(event, "raw_payload", None)
    return money_delta(event.type, event.payload if raw is None else raw)


class StoredEvent(Protocol):
    """What the hook reads of a stored event (a ``WireEvent`` or the push decoder's struct)."""

    @property
    def id(self) -> str: ...
    @property
    def store_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def after_store(log: LogWriter, conn: Connection, stored: Sequence[StoredEvent]) -> None:
    """The push hook: applies merges made in this transaction, then the stored money events.

    Costs nothing measurable for a batch without ``sv.*`` events or registrations.
    """
    money = [(e, d) for e in stored
             if e.type.startswith(SV_PREFIX) and (d := _money(e))]
    merges = list(log.merges)  # made by this push (duplicate_phones), under MERGE_LOCK
    if not money and not merges:
        return
    if not merges:  # beside other pushes: redirects hold still, each member's row is locked
        lock_shared(conn, MERGE_LOCK)
        if conn.dialect.name == "postgresql":
            _add(log, conn, money)
            return
    book = _Book(log, conn)  # merges (``MERGE_LOCK`` held alone), or SQLite (one writer)
    for merged in merges:
        book.merge(merged.winner_member_id, merged.loser_member_id)
    owners = book.owners(member_id for _, (member_id, _) in money)
    last: dict[str, StoredEvent] = {}
    for e, (member_id, delta) in money:
        owner = owners[member_id]
        row = book.row(owner)
        row.balance_fen += delta
        row.dirty = True
        last[owner] = e
    for owner, e in last.items():
        book.check(owner, store_id=e.store_id, event_id=e.id)
    book.save()


_PG_ADD = Statement(text(
    "WITH v AS (SELECT v.i, coalesce(r.winner_member_id, v.m) AS owner, v.d, v.e, v.s "
    "FROM json_to_recordset(CAST(:rows AS json)) AS v(i integer, m text, d bigint, e text, "
    "s text) LEFT JOIN LATERAL (SELECT winner_member_id FROM member_redirects "
    "WHERE loser_member_id = v.m OFFSET 0) AS r ON true), "
    "o AS (SELECT owner, sum(d) AS d, (array_agg(e ORDER BY i DESC))[1] AS e, "
    "(array_agg(s ORDER BY i DESC))[1] AS s FROM v GROUP BY owner), "
    "up AS (INSERT INTO member_balances (member_id, balance_fen, settled_fen, flag_id, "
    "updated_at) SELECT owner, d, 0, NULL, :now FROM o ORDER BY owner "
    "ON CONFLICT (member_id) DO UPDATE SET balance_fen = member_balances.balance_fen "
    "+ excluded.balance_fen, updated_at = excluded.updated_at "
    "RETURNING member_id, balance_fen, settled_fen, flag_id) "
    "SELECT up.member_id, up.balance_fen, up.settled_fen, up.flag_id, o.e, o.s "
    "FROM up JOIN o ON o.owner = up.member_id "
    "WHERE up.balance_fen + up.settled_fen < 0 AND up.flag_id IS NULL"))


def _add(log: LogWriter, conn: Connection,
         money: list[tuple[StoredEvent, tuple[str, int]]]) -> None:
    """A push's money events beside other pushes (PostgreSQL, no merge in it; ``MERGE_LOCK``
    held shared): each owner's delta added in one upsert, which resolves the redirects and
    takes the balance rows' locks in member order, held to the commit (so two pushes adding
    to one member take turns, and the second sees the first's block). It answers only the
    members it left below zero with no open overdraw: those are blocked as ``_Book.check``
    does, under the row lock the upsert holds. Four round trips fewer than reading the
    rows under each member's key lock and writing them back."""
    rows = [{"i": i, "m": member_id, "d": delta, "e": e.id, "s": e.store_id}
            for i, (e, (member_id, delta)) in enumerate(money)]
    negative = _PG_ADD.rows(conn, {"rows": json_text(rows), "now": log._now})
    if not negative:
        return
    book = _Book(log, conn)
    for r in negative:
        book.rows[r.member_id] = _Row(r.balance_fen, r.settled_fen, r.flag_id, True)
        book.check(r.member_id, store_id=r.s, event_id=r.e)
    book.save()


class _Book:
    """The balance rows one transaction touches, read once and written once."""

    def __init__(self, log: LogWriter, conn: Connection) -> None:
        """Its rows are read and written back: only by a transaction that holds them to itself
        (a push that merges holds ``MERGE_LOCK`` alone, admin writes the write lock, SQLite
        has one writer) or that holds their row locks already (``_add``)."""
        self.log = log
        self.conn = conn
        self.rows: dict[str, _Row] = {}

    def owners(self, member_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(member_ids))
        found = dict(self.conn.execute(  # the ids bound as one JSON text (``one_of``)
            select(_REDIRECTS.c.loser_member_id, _REDIRECTS.c.winner_member_id)
            .where(one_of(self.conn, _REDIRECTS.c.loser_member_id, "ids")),
            {"ids": list_value(self.conn, ids)}).all()) if ids else {}
        owners = {m: found.get(m, m) for m in ids}
        self.load(set(owners.values()))
        return owners

    def load(self, member_ids: set[str]) -> None:
        missing = sorted(m for m in member_ids if m not in self.rows)
        if not missing:
            return
        for r in self.conn.execute(
            select(_BALANCES).where(one_of(self.conn, _BALANCES.c.member_id, "ids")),
            {"ids": list_value(self.conn, missing)},
        ):
            self.rows[r.member_id] = _Row(r.balance_fen, r.settled_fen, r.flag_id, True)
        for m in missing:
            self.rows.setdefault(m, _Row(0, 0, None, False))

    def row(self, member_id: str) -> _Row:
        if member_id not in self.rows:
            self.load({member_id})
        return self.rows[member_id]

    def merge(self, winner_id: str, loser_id: str) -> None:
        """The loser's balance (and what was settled of it) moves to the winner; every member
        that pointed at the loser now points at the winner, so lookups stay one step."""
        winner_id = self.owners([winner_id])[winner_id]
        if winner_id == loser_id:
            return
        conn = self.conn
        if conn.execute(select(_REDIRECTS.c.winner_member_id)
                        .where(_REDIRECTS.c.loser_member_id == loser_id)).first() is None:
            conn.execute(insert(_REDIRECTS).values(loser_member_id=loser_id,
                                                   winner_member_id=winner_id))
        conn.execute(update(_REDIRECTS).where(_REDIRECTS.c.winner_member_id == loser_id)
                     .values(winner_member_id=winner_id))
        loser, winner = self.row(loser_id), self.row(winner_id)
        if loser.balance_fen or loser.settled_fen:
            winner.balance_fen += loser.balance_fen
            winner.settled_fen += loser.settled_fen
            loser.balance_fen = loser.settled_fen = 0
            winner.dirty = loser.dirty = True
        self.check(winner_id, store_id=None, event_id=None)

    def check(self, member_id: str, *, store_id: str | None, event_id: str | None) -> None:
        """Blocks the member once when its total is below zero and nothing is open for it."""
        row = self.rows[member_id]
        if row.balance_fen + row.settled_fen >= 0 or row.flag_id is not None:
            return
        detail = {"member_id": member_id, "balance_fen": row.balance_fen,
                  "settled_fen": row.settled_fen, "event_id": event_id}
        flag_id = self.conn.execute(
            insert(Flag).values(kind=OVERDRAW, store_id=store_id, detail=detail,
                                raised_at=self.log._now, resolved_at=None)
            .returning(Flag.id)
        ).scalar_one()
        row.flag_id = flag_id
        row.dirty = True
        self.log.append_server_event(
            type=MEMBER_BALANCE_BLOCKED, entity_id=member_id,
            payload=MemberBalanceBlocked(member_id=member_id, balance_fen=row.balance_fen,
                                         flag_id=flag_id),
        )

    def save(self) -> None:
        """One ``executemany`` for the new rows and one for the changed ones."""
        now = self.log._now
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for member_id, row in self.rows.items():
            if not row.dirty:
                continue
            if row.exists:
                changed.append({"m": member_id, "b": row.balance_fen, "s": row.settled_fen,
                                "f": row.flag_id, "u": now})
            else:
                new.append({"member_id": member_id, "balance_fen": row.balance_fen,
                            "settled_fen": row.settled_fen, "flag_id": row.flag_id,
                            "updated_at": now})
                row.exists = True
            row.dirty = False
        if self.conn.dialect.name == "postgresql" and (new or changed):
            # one statement for both (the rows are this push's under their members' locks):
            # an ``executemany`` of the updates cost a round trip's worth of work per row
            self.conn.execute(_PG_SAVE, {"now": now, "rows": json_text(
                [[r["member_id"], r["balance_fen"], r["settled_fen"], r["flag_id"]]
                 for r in new] + [[r["m"], r["b"], r["s"], r["f"]] for r in changed])})
            return
        if new:
            self.conn.execute(insert(_BALANCES), new)
        if changed:
            self.conn.execute(_UPDATE_BALANCE, changed)


_PG_SAVE = text(
    "INSERT INTO member_balances (member_id, balance_fen, settled_fen, flag_id, updated_at) "
    "SELECT r->>0, (r->>1)::bigint, (r->>2)::bigint, (r->>3)::integer, :now "
    "FROM json_array_elements(CAST(:rows AS json)) r ORDER BY 1 "
    "ON CONFLICT (member_id) DO UPDATE SET balance_fen = excluded.balance_fen, "
    "settled_fen = excluded.settled_fen, flag_id = excluded.flag_id, "
    "updated_at = excluded.updated_at")


def _member_id(conn: Connection, member: str) -> str:
    """A member id, or the member number (as registered, aliases included) it belongs to."""
    member = member.strip()
    if conn.execute(select(_BALANCES.c.member_id).where(_BALANCES.c.member_id == member)).first():
        return member
    if conn.execute(select(_REDIRECTS.c.loser_member_id)
                    .where(_REDIRECTS.c.loser_member_id == member)).first():
        return member
    owner = conn.execute(select(MemberIndex.member_id).where(MemberIndex.member_no == member)
                         ).scalar()
    if owner is not None:
        return str(owner)
    if member.isdigit():  # a loser's number: find its registration (HQ command, rare)
        for payload in conn.execute(
            select(Event.payload).where(Event.type == MEMBER_REGISTERED.type,
                                        cast(Event.payload, Text).contains(member))
        ).scalars():
            if payload.get("member_no") == member and isinstance(payload.get("member_id"), str):
                return str(payload["member_id"])
    raise MemberNotFoundAtHq(member=member)


def settle_overdraw(ctx: ServerContext, *, member: str, note: str) -> Settlement:
    """HQ settles a member's overdraw: the deficit is recorded as settled, the open overdraw
    flags of the member (and of members merged into it) are resolved with the note, and a
    ``member.balance_unblocked`` server event per blocked member id is appended.

    Raises ``BadRequest`` without a note, ``MemberNotFoundAtHq``, ``NoOpenOverdraw`` (nothing
    written)."""
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise BadRequest(detail=f"the note must be 1-{MAX_NOTE} characters")
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        log = LogWriter(conn, now=now)
        book = _Book(log, conn)
        asked = _member_id(conn, member)
        owner = book.owners([asked])[asked]
        losers = list(conn.execute(select(_REDIRECTS.c.loser_member_id)
                                   .where(_REDIRECTS.c.winner_member_id == owner)).scalars())
        book.load({owner, *losers})
        blocked = [(m, r.flag_id) for m in [owner, *losers]
                   if (r := book.rows[m]).flag_id is not None]
        if not blocked:
            raise NoOpenOverdraw(member=member)
        row = book.rows[owner]
        deficit = max(0, -(row.balance_fen + row.settled_fen))
        row.settled_fen += deficit
        row.dirty = True
        for member_id, flag_id in blocked:
            detail = conn.execute(select(Flag.detail).where(Flag.id == flag_id)).scalar()
            conn.execute(update(Flag).where(Flag.id == flag_id).values(
                resolved_at=now,
                detail={**(detail or {}), "settled_fen": deficit, "note": note,
                        "settled_at": now.isoformat()},
            ))
            book.rows[member_id].flag_id = None
            book.rows[member_id].dirty = True
            log.append_server_event(
                type=MEMBER_BALANCE_UNBLOCKED, entity_id=member_id,
                payload=MemberBalanceUnblocked(member_id=member_id, flag_id=flag_id,
                                               settled_fen=deficit, note=note),
            )
        book.save()
    return Settlement(member_id=owner, balance_fen=row.balance_fen, settled_fen=deficit,
                      flag_ids=[f for _, f in blocked])


def balance_of(ctx: ServerContext, member_id: str) -> tuple[int, int | None]:
    """(chain-wide balance, open flag id) of the member that owns ``member_id``'s balance."""
    with ctx.db.read() as conn:
        owner = conn.execute(select(_REDIRECTS.c.winner_member_id)
                             .where(_REDIRECTS.c.loser_member_id == member_id)).scalar()
        r = conn.execute(select(_BALANCES).where(_BALANCES.c.member_id == (owner or member_id))
                         ).first()
    return (r.balance_fen, r.flag_id) if r is not None else (0, None)
