"""Writing to the chain's global event log inside a write transaction (``ServerDatabase.write``).

Positions are ``max(position) + 1`` read under the write lock, so they are gapless and commit
in order. The server's own events (``member.merged``, ``rules.published``) go through the same
path, under ``store_id="hq"``, ``device_id="server"`` and a gapless server ``seq``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from pos_member.ids import uuid7_str
from sync.protocol import WireEvent
from sync.server.models import SERVER_DEVICE_ID, SERVER_STORE_ID, Event, Flag, RulesVersion

SERVER_RULES_VERSION = "none"  # rules_version of server events written before any publish


class LogWriter:
    """Appends rows to ``events`` on one write connection; not thread-safe, one per transaction."""

    def __init__(self, conn: Connection, *, now: datetime) -> None:
        self._conn = conn
        self._now = now
        self._next: int | None = None

    def next_position(self) -> int:
        if self._next is None:
            self._next = (self._conn.execute(select(func.max(Event.position))).scalar() or 0) + 1
        position = self._next
        self._next += 1
        return position

    def append(self, events: list[WireEvent]) -> list[int]:
        """Stores the events in this order; returns their positions."""
        rows = []
        for e in events:
            rows.append(_row(e, position=self.next_position(), received_at=self._now))
        bulk_insert(self._conn, Event.__table__, rows)
        return [r["position"] for r in rows]

    def append_server_event(
        self, *, type: str, entity_id: str | None, payload: dict[str, Any],
        rules_version: str | None = None,
    ) -> WireEvent:
        """An event of the server itself. Its HLC is the server's clock alone, so a till with
        a clock far ahead never drags the server's timestamps forward."""
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
            store_id=SERVER_STORE_ID,
            device_id=SERVER_DEVICE_ID,
            seq=seq,
            clerk_id=None,
            hlc=HLCTimestamp(now_ms, 0).pack(),
            type=type,
            entity_id=entity_id,
            payload_version=1,
            payload=payload,
            rules_version=rules_version,
            created_at=self._now,
        )
        self.append([event])
        return event

    def raise_flag(self, *, kind: str, store_id: str | None, detail: dict[str, Any]) -> None:
        self._conn.execute(
            insert(Flag).values(
                kind=kind, store_id=store_id, detail=detail, raised_at=self._now, resolved_at=None
            )
        )


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Inserts ``rows`` (every column given) as ``conn.execute(insert(table), rows)`` would,
    with the same values (each through its column type's own bind processor) and the same
    ``IntegrityError`` on a clash, in one round to the driver: ``COPY`` on PostgreSQL, one
    ``executemany`` on SQLite, without SQLAlchemy's per-row parameter handling."""
    if not rows:
        return
    dialect = conn.dialect
    columns = list(table.columns)
    processors = [
        (c.name, c.type._cached_bind_processor(dialect))
        for c in columns
    ]
    values = [
        tuple(row[name] if process is None else process(row[name])
              for name, process in processors)
        for row in rows
    ]
    if dialect.name != "postgresql":
        compiled = insert(table).compile(dialect=dialect)
        if compiled.positiontup != [c.name for c in columns]:  # qmark, in column order
            conn.execute(insert(table), rows)
            return
        conn.exec_driver_sql(compiled.string, values)
        return
    import psycopg

    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
        ) as copy:
            for value in values:
                copy.write_row(value)
    except psycopg.errors.IntegrityError as e:
        raise IntegrityError(f"COPY {table.name}", None, e) from e


def latest_rules_version(conn: Connection) -> str | None:
    return conn.execute(
        select(RulesVersion.version).order_by(RulesVersion.published_at.desc()).limit(1)
    ).scalar()


def _row(e: WireEvent, *, position: int, received_at: datetime) -> dict[str, Any]:
    created = e.created_at if e.created_at.tzinfo else e.created_at.replace(tzinfo=UTC)
    return {
        "position": position,
        "id": e.id,
        "store_id": e.store_id,
        "device_id": e.device_id,
        "seq": e.seq,
        "clerk_id": e.clerk_id,
        "hlc": e.hlc,
        "type": e.type,
        "entity_id": e.entity_id,
        "payload_version": e.payload_version,
        "payload": e.payload,
        "rules_version": e.rules_version,
        "created_at": created,
        "received_at": received_at,
    }


