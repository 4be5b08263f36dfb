"""Writing to the chain's global event log inside a write transaction (``ServerDatabase.write``).

Positions:

- PostgreSQL: ``(txid + offset) << XID_SHIFT | k`` — the writing transaction's id
  (``pg_current_xact_id()``, through the function ``log_position_base()`` of migration 0007,
  which holds the offset) and the row's ordinal ``k`` in the transaction. Unique, increasing
  within a transaction and ordered by transaction id across transactions; not gapless. A
  pull reads only below the oldest transaction still running (``pull``), so a row that commits
  later never lands below a cursor a till already holds. No lock: pushes run beside each other.
- SQLite: ``max(position) + 1``, read by the one writer, gapless.

The transaction id is taken at the first append, after the device's lock (``ingest``), so a
device's later pushes always get higher positions. The server's own events (``member.merged``,
``rules.published``) go through the same path, under ``store_id="hq"``,
``device_id="server"`` and a gapless server ``seq`` (read under the ``SERVER_SEQ`` key lock;
on PostgreSQL two transactions may commit their server events with seq and position in
opposite orders — a seq names an event, the position orders the log).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Dialect, Row, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from pos_member.clock import to_ms
from pos_member.events import EventType, MemberMerged, Payload, encode
from pos_member.hlc import HLCTimestamp
from pos_member.ids import uuid7_str
from sync.protocol import WireEvent
from sync.server.errors import TransactionTooLarge
from sync.server.later import Later
from sync.server.locks import SERVER_SEQ, lock_keys
from sync.server.models import SERVER_DEVICE_ID, SERVER_STORE_ID, Event, Flag, RulesVersion
from sync.server.routes import route
from sync.server.wire import IncomingEvent

XID_SHIFT = 20  # bits of a position under its transaction id: rows one transaction may write
_BASE = text("SELECT log_position_base()")  # migration 0007
SERVER_RULES_VERSION = "none"  # rules_version of server events written before any publish
_EVENT_TABLE: Table = Event.__table__  # type: ignore[assignment]
_ZERO = timedelta(0)
_EVENT_COLUMNS = (
    "position", "id", "store_id", "device_id", "seq", "clerk_id", "hlc", "type", "entity_id",
    "payload_version", "payload", "rules_version", "created_at", "received_at",
)


class LogWriter:
    """Appends rows to ``events`` on one write connection; not thread-safe, one per transaction."""

    def __init__(self, conn: Connection, *, now: datetime,
                 last_position: int | None = None, later: bool = False) -> None:
        """``last_position``, when the caller read it already (it saves a round trip): on
        SQLite ``max(position)``, under the write lock; on PostgreSQL
        ``log_position_base()``, the transaction's first position. Else it is read on the
        first append. ``later``: the routes, homes and the hooks' projections are kept in
        ``self.later`` until the caller flushes it (a push: ``later``); else written at
        once."""
        self._conn = conn
        self.later = Later(conn, keep=later)
        self._now = now
        self._next: int | None = None
        self._end: int | None = None  # PostgreSQL: the first position of the next txid
        if last_position is not None and conn.dialect.name != "postgresql":  # read alone
            self._next = last_position + 1
        elif last_position:
            self._next = last_position
            self._end = last_position + (1 << XID_SHIFT)
        self.merges: list[MemberMerged] = []  # the member.merged events appended, in order
        # the phones registered by what was appended, locked: their member_index row or None
        self.phones: dict[str, Row[Any] | None] = {}

    def next_position(self) -> int:
        return self._take(1)

    def _take(self, n: int) -> int:
        """The first of ``n`` consecutive positions of this transaction."""
        if self._next is None:
            if self._conn.dialect.name == "postgresql":
                self._next = self._conn.execute(_BASE).scalar_one()
                self._end = self._next + (1 << XID_SHIFT)
            else:
                self._next = (self._conn.execute(select(func.max(Event.position))).scalar()
                              or 0) + 1
        first = self._next
        if self._end is not None and first + n > self._end:
            raise TransactionTooLarge(rows=first + n - (self._end - (1 << XID_SHIFT)))
        self._next = first + n
        return first

    def append(self, events: Sequence[IncomingEvent]) -> list[int]:
        """Stores the events in this order, each payload as its JSON text, and routes them
        (``routes.route``); returns their positions."""
        if not events:
            return []
        texts = [str(e.raw_payload, "utf-8") for e in events]  # ``payload_text``, made once
        first = self._store(events, texts)
        route(self._conn, first, events, texts, self.phones, self.later)
        return list(range(first, first + len(events)))

    def store(self, events: Sequence[IncomingEvent]) -> int:
        """Stores the events in this order without routing them (the caller writes their
        routes: the member import, which knows them from its rows); returns the first one's
        position, the others following it."""
        return self._store(events, [e.payload_text for e in events])

    def _store(self, events: Sequence[IncomingEvent], texts: list[str]) -> int:
        first = self._take(len(events))
        stamp = _stamp(self._conn.dialect)
        received = stamp(self._now)
        created: dict[datetime, Any] = {}  # a push's few times (an import's one)
        # PostgreSQL takes a time in UTC as it is (as decoded from "...Z" or "+00:00": a
        # till's), ~3x faster than through the cache
        utc = UTC if stamp is _utc else None
        values = [
            (position, e.id, e.store_id, e.device_id, e.seq, e.clerk_id, e.hlc, e.type,
             e.entity_id, e.payload_version, text, e.rules_version,
             at if (at := e.created_at).tzinfo is utc
             else created.get(at) or created.setdefault(at, stamp(at)),
             received)
            for position, e, text in zip(range(first, first + len(events)), events, texts,
                                         strict=True)
        ]
        if self._conn.dialect.name != "postgresql" or not _copy_events(self._conn, values):
            insert_values(self._conn, _EVENT_TABLE, _EVENT_COLUMNS, values)
        return first

    def append_server_event(
        self, *, type: EventType[Any], entity_id: str | None, payload: Payload,
        rules_version: str | None = None, store_id: str | None = None,
        after_hlc: str | None = None,
    ) -> WireEvent:
        """An event of the server itself, of a declared ``type`` (its current version). Its
        HLC is the server's clock alone, so a till with a clock far ahead never drags the
        server's timestamps forward. ``store_id``: HQ acting in a store (its staff), so the
        pull delivers it as that store's (``pull._visible_to``). ``after_hlc``: the newest
        version of the fields it overwrites, which it must sort after to win by last writer
        wins (a till with a clock far ahead wrote it): this one event's HLC only."""
        if not isinstance(payload, type.payload):
            raise TypeError(f"{type.type} carries {type.payload.__name__}")
        lock_keys(self._conn, [SERVER_SEQ])
        seq = (
            self._conn.execute(
                select(func.max(Event.seq)).where(Event.device_id == SERVER_DEVICE_ID)
            ).scalar()
            or 0
        ) + 1
        if rules_version is None:
            rules_version = latest_rules_version(self._conn) or SERVER_RULES_VERSION
        now_ms = to_ms(self._now)
        event = WireEvent(
            id=uuid7_str(lambda: now_ms),
            store_id=store_id or SERVER_STORE_ID,
            device_id=SERVER_DEVICE_ID,
            seq=seq,
            clerk_id=None,
            hlc=_after(HLCTimestamp(now_ms, 0), after_hlc).pack(),
            type=type.type,
            entity_id=entity_id,
            payload_version=type.version,
            payload=encode(payload),
            rules_version=rules_version,
            created_at=self._now,
        )
        self.append([IncomingEvent.from_wire(event)])
        if isinstance(payload, MemberMerged):
            self.merges.append(payload)
        return event

    def raise_flag(self, *, kind: str, store_id: str | None, detail: dict[str, Any]) -> None:
        self._conn.execute(
            insert(Flag).values(
                kind=kind, store_id=store_id, detail=detail, raised_at=self._now, resolved_at=None
            )
        )


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]],
                same: Mapping[str, Any] | None = None) -> None:
    """Inserts ``rows`` (every column given) as ``conn.execute(insert(table), rows)`` would,
    with the same values (each through its column type's own bind processor) and the same
    ``IntegrityError`` on a clash, in one round to the driver (``insert_values``). ``same``:
    columns that hold one value in every row (left out of the rows), processed once."""
    if not rows:
        return
    dialect = conn.dialect
    same = same or {}
    fixed: dict[str, Any] = {}
    processors: list[tuple[str, Any]] = []
    for c in table.columns:
        process = c.type._cached_bind_processor(dialect)
        if c.name in same:
            fixed[c.name] = same[c.name] if process is None else process(same[c.name])
        else:
            processors.append((c.name, process))
    values = [
        tuple(row[name] if process is None else process(row[name])
              for name, process in processors)
        for row in rows
    ]
    columns = tuple(name for name, _ in processors)
    if fixed:
        columns += tuple(fixed)
        tail = tuple(fixed.values())
        values = [v + tail for v in values]
    insert_values(conn, table, columns, values)


def insert_values(conn: Connection, table: Table, columns: tuple[str, ...],
                  values: list[tuple[Any, ...]]) -> None:
    """Inserts rows of ``columns`` whose values are already as the driver takes them (bind
    processors applied), without SQLAlchemy's per-row parameter handling: ``COPY`` on
    PostgreSQL, one ``executemany`` on SQLite. A clash raises ``IntegrityError``."""
    if not values:
        return
    dialect = conn.dialect
    if dialect.name != "postgresql":
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        if compiled.positiontup != list(columns):  # not qmark in this order: the slow way
            conn.execute(insert(table), [dict(zip(columns, v, strict=True)) for v in values])
            return
        conn.exec_driver_sql(compiled.string, values)
        return
    import psycopg

    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
        ) as copy:
            for value in values:
                copy.write_row(value)
    except psycopg.errors.IntegrityError as e:
        raise IntegrityError(f"COPY {table.name}", None, e) from e


_COPY_EVENTS = "COPY events (" + ", ".join(_EVENT_COLUMNS) + ") FROM STDIN (FORMAT BINARY)"
# Each column's type as COPY's binary format writes it, in ``_EVENT_COLUMNS``' order. The
# payload goes as text: ``json``'s binary form is its text, which PostgreSQL checks as it
# does a text COPY's (psycopg's own ``json`` dumper would encode the string again).
_EVENT_TYPES = ("int8", "varchar", "varchar", "varchar", "int8", "varchar", "varchar", "varchar",
                "varchar", "int4", "text", "varchar", "timestamptz", "timestamptz")


def _copy_events(conn: Connection, values: list[tuple[Any, ...]]) -> bool:
    """``insert_values`` for ``events`` on PostgreSQL, as a binary COPY: psycopg writes each
    row in C (~2.5 µs a row against ~5 µs for forming COPY's text here, which the driver's
    ``write_row`` text took ~20 µs for), and PostgreSQL parses no number or time (~2 µs a row
    less of its CPU than the text COPY; measured on this machine, docs/scale.md). No text
    escaping either: a payload or field goes as its bytes. Always True (nothing left to the
    driver's text path)."""
    import psycopg

    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:  # type: ignore[union-attr]
            copy.set_types(_EVENT_TYPES)
            for value in values:
                copy.write_row(value)
    except psycopg.errors.IntegrityError as e:
        raise IntegrityError("COPY events", None, e) from e
    return True


def latest_rules_version(conn: Connection) -> str | None:
    return conn.execute(
        select(RulesVersion.version).order_by(RulesVersion.published_at.desc()).limit(1)
    ).scalar()


def _stamp(dialect: Dialect) -> Callable[[datetime], Any]:
    """The driver value of a time for ``events`` (``UtcDateTime``), as its bind processor
    gives it, ~5x faster: the text SQLAlchemy stores on SQLite, an aware UTC datetime on
    PostgreSQL. A naive time (a till may send one) is taken as UTC, as it always was."""
    if dialect.name == "sqlite":
        return _sqlite_stamp
    return _utc


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)


def _sqlite_stamp(moment: datetime) -> str:
    """SQLAlchemy's SQLite ``DATETIME`` text, ``2026-11-25 04:40:04.000123``, in UTC."""
    if moment.tzinfo is UTC:  # as decoded from "...Z" or "+00:00": the common case
        return moment.isoformat(" ", "microseconds")[:26]
    if moment.tzinfo is not None and moment.utcoffset() != _ZERO:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _after(hlc: HLCTimestamp, other: str | None) -> HLCTimestamp:
    """``hlc``, or just after ``other`` when that sorts at or after it."""
    if other is None:
        return hlc
    o = HLCTimestamp.unpack(other)
    return hlc if hlc > o else HLCTimestamp(o.wall_ms, o.counter + 1)
