"""Duplicate phones merge: one member per phone, chain-wide.

After a push stores its events, a ``member.registered`` whose phone (its blind index) is
already registered under another member appends a ``member.merged`` server event (the earlier
registration, by hlc then event id, wins) and raises a ``member_merged`` flag for HQ. The
owners live in ``member_index``. The tills apply the merge when they pull it
(``pos_member/services/pulled_events.py`` and the ledgers' merge handlers).

Pushes run beside each other: the phones' key locks (``locks``) are taken, sorted, before their
owners are read, so two stores registering one phone at once take turns and the second sees
the first's registration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql

from pos_member.events import MEMBER_MERGED, MEMBER_REGISTERED, MemberMerged
from pos_member.events import encode as payload_object
from sync.server.driver import Statement, json_text
from sync.server.locks import MERGE_LOCK, lock_keys, phone_key
from sync.server.log import LogWriter
from sync.server.models import MemberIndex
from sync.server.wire import IncomingEvent, registration_fields

_INDEX_TABLE: Table = MemberIndex.__table__  # type: ignore[assignment]


class _Owner(NamedTuple):
    """The registration that owns a phone in ``member_index``."""

    member_id: str
    member_no: str
    hlc: str
    event_id: str


def one_of(conn: Connection, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column IN (...)`` over a list bound as *one* parameter (``list_value``): a JSON
    array, through ``json_each`` on SQLite, unpacked into an array for ``= ANY`` (an index
    condition) on PostgreSQL. A 1,000-value ``IN`` list costs SQLAlchemy more to render than
    the query takes to run, and psycopg binds a Python list element by element (~15 ms for
    1,000 keys, the JSON text ~1 ms)."""
    if conn.dialect.name == "postgresql":
        elements = select(func.json_array_elements_text(
            cast(bindparam(name, type_=String), postgresql.JSON))).scalar_subquery()
        return column == any_(func.array(elements))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def list_value(conn: Connection, values: list[str]) -> Any:
    """The bound value for ``one_of``."""
    return json_text(values)


@functools.cache
def _keyed_sql(table: Table, key: str, columns: tuple[str, ...]) -> Statement:
    quote = postgresql.dialect().identifier_preparer.quote
    return Statement(text(
        f"SELECT t.* FROM json_array_elements_text(CAST(:keys AS json)) AS k(v) "
        f"CROSS JOIN LATERAL (SELECT {', '.join(quote(c) for c in columns)} "
        f"FROM {quote(table.name)} WHERE {quote(key)} = k.v OFFSET 0) AS t"))


def rows_by_key(conn: Connection, table: Table, key: str, keys: Iterable[str],
                columns: Sequence[str] | None = None) -> list[Row[Any]]:
    """The rows of ``table`` whose ``key`` column is one of ``keys`` (its ``columns``, all by
    default), each by its index (a primary key or unique column). On PostgreSQL one index
    probe a key (a lateral join the planner cannot flatten): ``one_of``'s ``= ANY`` over an
    array it cannot hash filtered every row of a table whose statistics were not taken yet
    (a new chain's first minutes: member homes, ~200 keys times every row, 6-18 ms a push)
    and a hash join read all of a larger one."""
    keys = list(keys)
    if not keys:
        return []
    names = tuple(columns) if columns is not None else tuple(c.name for c in table.columns)
    if conn.dialect.name == "postgresql":
        return _keyed_sql(table, key, names).rows(conn, {"keys": json_text(keys)})
    return list(conn.execute(
        select(*(table.c[n] for n in names)).where(one_of(conn, table.c[key], "keys")),
        {"keys": list_value(conn, keys)}))


def _registration(event: IncomingEvent) -> tuple[str, str, str] | None:
    """(phone_index, member_id, member_no) of a ``member.registered`` payload, if well formed."""
    phone_index, member_id, member_no = registration_fields(event)
    if not (isinstance(phone_index, str) and 0 < len(phone_index) <= 64):
        return None
    if not (isinstance(member_id, str) and 0 < len(member_id) <= 36):
        return None
    if not (isinstance(member_no, str) and 0 < len(member_no) <= 32):
        return None
    return phone_index, member_id, member_no


def merge_duplicate_phones(
    log: LogWriter, conn: Connection, stored: list[IncomingEvent]
) -> None:
    """One member per phone, chain-wide: the earlier registration (hlc, then event id) wins.

    The stored events are taken in order, each against the owner its phone has at that point
    (an earlier event of the same batch included). The owners are read in one query and the
    index is written once per phone at the end; merges are appended in event order.
    """
    registrations = [
        (e, reg) for e in stored
        if e.type == MEMBER_REGISTERED.type and (reg := _registration(e)) is not None
    ]
    if not registrations:
        return
    phones = list(dict.fromkeys(reg[0] for _, reg in registrations))
    # Routing locked and read most of them already (``routes``), in this transaction, before
    # anything wrote member_index (only this function does, below): not again.
    todo = [p for p in phones if p not in log.phones]
    lock_keys(conn, [phone_key(p) for p in todo])  # before reading their owners
    found = [r for p in phones if p in log.phones and (r := log.phones[p]) is not None]
    found += rows_by_key(conn, _INDEX_TABLE, "phone_index", todo)
    owners: dict[str, _Owner] = {}
    for r in found:
        owners[r.phone_index] = _Owner(r.member_id, r.member_no, r.hlc, r.event_id)
    known = set(owners)  # phones with a row in member_index before this batch
    changed: set[str] = set()
    for e, (phone_index, member_id, member_no) in registrations:
        owner = owners.get(phone_index)
        if owner is None:
            owners[phone_index] = _Owner(member_id, member_no, e.hlc, e.id)
            changed.add(phone_index)
            continue
        if owner.member_id == member_id:
            continue
        newcomer_wins = (e.hlc, e.id) < (owner.hlc, owner.event_id)
        if newcomer_wins:
            winner, loser = (member_id, member_no), (owner.member_id, owner.member_no)
            owners[phone_index] = _Owner(member_id, member_no, e.hlc, e.id)
            changed.add(phone_index)
        else:
            winner, loser = (owner.member_id, owner.member_no), (member_id, member_no)
        lock_keys(conn, [MERGE_LOCK])  # moves balances and redirects: beside no money push
        payload = MemberMerged(winner_member_id=winner[0], loser_member_id=loser[0],
                               winner_member_no=winner[1], loser_member_no=loser[1])
        merged = log.append_server_event(type=MEMBER_MERGED, entity_id=winner[0], payload=payload)
        log.raise_flag(kind="member_merged", store_id=e.store_id,
                       detail={**payload_object(payload), "event_id": merged.id})
    new_rows = [(phone, *owners[phone]) for phone in changed if phone not in known]
    log.later.add_index(new_rows)
    for phone in changed & known:
        conn.execute(
            update(MemberIndex.__table__)
            .where(MemberIndex.phone_index == phone)
            .values(**owners[phone]._asdict())
        )
