"""The unit of work: one write transaction, the event log and the audit log that go with it.

A service opens ``with uow.begin() as tx:``, changes state through ``tx.session``, calls
``tx.record(...)`` and ``tx.audit(...)`` for each change, and ``tx.commit()`` once. Leaving the
block without committing rolls everything back: state, events and audit rows go together or not
at all. Reads that change nothing use ``uow.read()`` on the reader engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pos_member.clock import Clock, to_ms
from pos_member.crypto import PiiCipher
from pos_member.db.engine import Database
from pos_member.db.models import AuditEntry, DeviceCounter, Event, Staff
from pos_member.db.prepared import Prepared
from pos_member.errors import (
    ClerkNoLongerActive,
    StorageFull,
    StoreNotSetUp,
    TillReidentified,
)
from pos_member.events import EVENTS, EventType, Payload, encode
from pos_member.events.check import check_written
from pos_member.hlc import HLCTimestamp, HybridClock
from pos_member.ids import uuid7_many, uuid7_str
from pos_member.permissions import Clerk
from pos_member.rules_config import Rules


class RulesScheduleLike(Protocol):
    def in_force(self, now: datetime) -> Rules | None: ...


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """What a service needs back from an appended event."""

    id: str
    seq: int
    hlc: str
    type: str
    payload: dict[str, Any]


@dataclass
class _Counters:
    last_event_seq: int
    last_member_seq: int
    hlc: HLCTimestamp
    dirty: bool = False


_EVENTS = Event.__table__
_AUDIT = AuditEntry.__table__
_COUNTERS = DeviceCounter.__table__
_READ_COUNTERS = select(
    _COUNTERS.c.last_event_seq,
    _COUNTERS.c.last_member_seq,
    _COUNTERS.c.hlc_wall_ms,
    _COUNTERS.c.hlc_counter,
    _COUNTERS.c.retired,
).where(_COUNTERS.c.device_id == bindparam("device_id"))
_WRITE_COUNTERS = (
    update(_COUNTERS)
    .where(_COUNTERS.c.device_id == bindparam("device"))
    .values(
        last_event_seq=bindparam("event_seq"),
        last_member_seq=bindparam("member_seq"),
        hlc_wall_ms=bindparam("wall_ms"),
        hlc_counter=bindparam("counter"),
    )
)


# Every service's transaction runs these: compiled once, run straight on the driver.
_FAST_READ_COUNTERS = Prepared(_READ_COUNTERS)
_FAST_WRITE_COUNTERS = Prepared(_WRITE_COUNTERS)
_FAST_INSERT_EVENT = Prepared(insert(_EVENTS), column_keys=(
    "id", "store_id", "device_id", "seq", "clerk_id", "hlc", "type", "entity_id",
    "payload_version", "payload", "rules_version", "created_at"))
_STAFF = Staff.__table__
_FAST_CLERK = Prepared(select(_STAFF.c.active, _STAFF.c.role)
                       .where(_STAFF.c.id == bindparam("id")))
# A transaction's first event reads the clerk's row and the device's counters in one statement
# (either may be missing: no row of a test's clerk; a device without counters is refused).
_ONE = select(literal(1).label("one")).subquery()
_FAST_CLERK_AND_COUNTERS = Prepared(
    select(_STAFF.c.active, _STAFF.c.role, _COUNTERS.c.last_event_seq,
           _COUNTERS.c.last_member_seq, _COUNTERS.c.hlc_wall_ms, _COUNTERS.c.hlc_counter,
           _COUNTERS.c.retired)
    .select_from(_ONE.outerjoin(_STAFF, _STAFF.c.id == bindparam("id"))
                 .outerjoin(_COUNTERS, _COUNTERS.c.device_id == bindparam("device_id"))))
_FAST_INSERT_AUDIT = Prepared(insert(_AUDIT), column_keys=(
    "at", "store_id", "device_id", "staff_id", "action", "entity", "entity_id", "before",
    "after", "event_id"))


@dataclass
class Transaction:
    """One write transaction on one connection (``BEGIN IMMEDIATE`` at its first use). Events
    and audit rows go straight to the connection as Core inserts (they are never read back in
    the same transaction, so the ORM's bookkeeping would be pure cost); the device's counters
    are read once and written once, at commit. ``session`` is an ORM session on the same
    connection and transaction, made when first asked for: the hot paths (a sale, a top-up)
    run Core statements on ``conn`` and never pay for one."""

    engine: Engine
    clock: Clock
    rules: Rules
    device_id: str | None = None
    committed: bool = False
    cipher: PiiCipher | None = None  # the till's data key (None before set-up)
    _counters: _Counters | None = None
    _conn: Connection | None = None
    _session: Session | None = None
    _clerk_checked: str | None = None  # the staff id whose login was checked still good

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect()
            self._conn.begin()
        return self._conn

    @property
    def session(self) -> Session:
        if self._session is None:
            # Commits stay ours (``commit`` below); a rollback of the session rolls back all.
            self._session = Session(bind=self.conn, expire_on_commit=False, autoflush=True,
                                    join_transaction_mode="rollback_only")
        return self._session

    def commit(self) -> None:
        if self._session is not None:
            self._session.flush()
        c = self._counters
        if c is not None and c.dirty:
            _FAST_WRITE_COUNTERS.run(
                self.conn,
                {
                    "device": self.device_id,
                    "event_seq": c.last_event_seq,
                    "member_seq": c.last_member_seq,
                    "wall_ms": c.hlc.wall_ms,
                    "counter": c.hlc.counter,
                },
            )
            c.dirty = False
        self.conn.commit()
        self.committed = True

    def close(self) -> None:
        """Rolls back what was not committed and gives the connection back."""
        try:
            if self._session is not None:
                self._session.close()
        finally:
            if self._conn is not None:
                if not self.committed:
                    self._conn.rollback()
                self._conn.close()

    def new_id(self) -> str:
        return uuid7_str(lambda: to_ms(self.clock.now()))

    def counters(self, device_id: str) -> _Counters:
        """The device's counters, read once per transaction (the write lock is held)."""
        if self._counters is None:
            row = _FAST_READ_COUNTERS.first(self.conn, {"device_id": device_id})
            if row is None:
                raise LookupError(f"device {device_id} has no counters")
            if row.retired:  # a clerk of the device this till was before a new identity
                raise TillReidentified()
            self.device_id = device_id
            self._counters = _Counters(
                row.last_event_seq, row.last_member_seq,
                HLCTimestamp(row.hlc_wall_ms, row.hlc_counter),
            )
        elif device_id != self.device_id:
            raise LookupError("one transaction writes for one device")
        return self._counters

    def next_member_seq(self, device_id: str) -> int:
        c = self.counters(device_id)
        c.last_member_seq += 1
        c.dirty = True
        return c.last_member_seq

    def record(
        self,
        clerk: Clerk,
        type: EventType[Any] | str,
        payload: Payload | dict[str, Any],
        *,
        entity_id: str | None = None,
    ) -> RecordedEvent:
        """Appends an event with the device's next sequence number and hybrid timestamp, at
        its declaration's current payload version (``pos_member.events``). ``payload`` is the
        declared struct, or its JSON object for the ledgers that build one entry by entry."""
        if isinstance(type, EventType):
            declared: EventType[Any] | None = type
        else:  # a type string: a test's hand-made event
            declared = EVENTS.get(type)
        name = declared.type if declared is not None else str(type)
        payload_version = declared.version if declared is not None else 1
        if isinstance(payload, Payload):
            if declared is None or not isinstance(payload, declared.payload):
                raise TypeError(f"{name} does not carry {payload.__class__.__name__}")
            payload = encode(payload)
        if declared is not None:
            check_written(name, payload_version, payload)
        c = self._clerk_and_counters(clerk)
        c.last_event_seq += 1
        c.hlc = HybridClock(lambda: to_ms(self.clock.now()), c.hlc).now()
        c.dirty = True
        event = RecordedEvent(self.new_id(), c.last_event_seq, c.hlc.pack(), name, payload)
        _FAST_INSERT_EVENT.run(
            self.conn,
            {
                "id": event.id,
                "store_id": clerk.store_id,
                "device_id": clerk.device_id,
                "seq": event.seq,
                "clerk_id": clerk.staff_id,
                "hlc": event.hlc,
                "type": name,
                "entity_id": entity_id,
                "payload_version": payload_version,
                "payload": payload,
                "rules_version": self.rules.version,
                "created_at": self.clock.now(),
            },
        )
        return event

    def record_many(self, clerk: Clerk, type: EventType[Any],
                    items: list[tuple[dict[str, Any], str | None]]) -> list[RecordedEvent]:
        """:meth:`record` for many events of one type — (encoded payload, entity id) each — in
        one ``executemany``: the next sequence numbers and hybrid timestamps, in order, as
        that many ``record`` calls would give them (a job issuing thousands of coupons)."""
        if not items:
            return []
        c = self._clerk_and_counters(clerk)
        now = self.clock.now()
        hlc = HybridClock(lambda: to_ms(now), c.hlc)
        ids = uuid7_many(lambda: to_ms(now), len(items))
        out, rows = [], []
        for (payload, entity_id), event_id in zip(items, ids, strict=True):
            check_written(type.type, type.version, payload)
            c.last_event_seq += 1
            event = RecordedEvent(event_id, c.last_event_seq, hlc.now().pack(), type.type,
                                  payload)
            out.append(event)
            rows.append({"id": event_id, "seq": event.seq, "hlc": event.hlc,
                         "entity_id": entity_id, "payload": payload})
        c.hlc, c.dirty = hlc.last, True
        _FAST_INSERT_EVENT.run_rows(self.conn, {
            "store_id": clerk.store_id, "device_id": clerk.device_id, "clerk_id": clerk.staff_id,
            "type": type.type, "payload_version": type.version,
            "rules_version": self.rules.version, "created_at": now}, rows)
        return out

    def audit_many(self, clerk: Clerk, action: str, entity: str,
                   rows: list[tuple[str | None, dict[str, Any] | None, str | None]]) -> None:
        """:meth:`audit` for many rows — (entity id, after, event id) each — at once."""
        _FAST_INSERT_AUDIT.run_rows(self.conn, {
            "at": self.clock.now(), "store_id": clerk.store_id, "device_id": clerk.device_id,
            "staff_id": clerk.staff_id, "action": action, "entity": entity, "before": None},
            [{"entity_id": e, "after": a, "event_id": ev} for e, a, ev in rows])

    def _clerk_and_counters(self, clerk: Clerk) -> _Counters:
        """The clerk checked (:meth:`_check_clerk`, once per transaction) and the device's
        counters (:meth:`counters`): one read when neither was read yet in this transaction
        (its first event), refusing in the same order as the two reads would."""
        check = clerk.staff_id is not None and clerk.staff_id != self._clerk_checked
        if check and self._counters is None:
            row = _FAST_CLERK_AND_COUNTERS.first(
                self.conn, {"id": clerk.staff_id, "device_id": clerk.device_id})
            assert row is not None  # one row, whatever matched
            if row.active is not None and (not row.active or row.role != clerk.role.value):
                raise ClerkNoLongerActive()
            self._clerk_checked = clerk.staff_id
            if row.last_event_seq is None:
                raise LookupError(f"device {clerk.device_id} has no counters")
            if row.retired:
                raise TillReidentified()
            self.device_id = clerk.device_id
            self._counters = _Counters(row.last_event_seq, row.last_member_seq,
                                       HLCTimestamp(row.hlc_wall_ms, row.hlc_counter))
            return self._counters
        if check:
            self._check_clerk(clerk)
        return self.counters(clerk.device_id)

    def check_clerk(self, clerk: Clerk) -> None:
        """:meth:`_check_clerk` for a write that records no event (revealing personal data
        writes only its audit row): a clerk deactivated or re-roled since login is refused."""
        if clerk.staff_id is not None and clerk.staff_id != self._clerk_checked:
            self._check_clerk(clerk)

    def _check_clerk(self, clerk: Clerk) -> None:
        """Refuses a write by a clerk deactivated, or given another role, since they logged
        in (here, or at another till and pulled): :class:`ClerkNoLongerActive`. Every action
        that changes anything records an event, so this is the one place that catches them
        all (docs/rules.md, "Staff"). A clerk this till has no row for (a test's) passes."""
        row = _FAST_CLERK.first(self.conn, {"id": clerk.staff_id})
        if row is not None and (not row.active or row.role != clerk.role.value):
            raise ClerkNoLongerActive()
        self._clerk_checked = clerk.staff_id

    def audit(
        self,
        clerk: Clerk,
        action: str,
        entity: str,
        entity_id: str | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        event: RecordedEvent | None = None,
    ) -> None:
        """Audit rows never hold personal data in clear: pass masked values."""
        _FAST_INSERT_AUDIT.run(
            self.conn,
            {
                "at": self.clock.now(),
                "store_id": clerk.store_id,
                "device_id": clerk.device_id,
                "staff_id": clerk.staff_id,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
                "event_id": event.id if event else None,
            },
        )


class UnitOfWork:
    """Built once by ``bootstrap``; hands out transactions. Thread-safe: each ``begin`` or
    ``read`` uses its own session, and SQLite's write lock serialises writers."""

    def __init__(
        self, db: Database, *, clock: Clock, rules: Rules, cipher: PiiCipher | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self._rules = rules
        self._cipher = cipher
        self._schedule: RulesScheduleLike | None = None

    @property
    def rules(self) -> Rules:
        """The rules in force now: the pulled version whose start time has come last (HQ's
        schedule, read once and after each pull that brings a version), else the rules this
        unit of work was opened with. A running till switches at the start time."""
        schedule = self._schedule
        if schedule is None:
            schedule = self.reload_rules()
        return schedule.in_force(self.clock.now()) or self._rules

    @rules.setter
    def rules(self, value: Rules) -> None:
        self._rules = value

    def reload_rules(self) -> RulesScheduleLike:
        """Re-reads the pulled rules schedule (sync calls it after applying a new version)."""
        from pos_member.services.rules_in_force import load_schedule  # services build on this layer

        self._schedule = load_schedule(self.db)
        return self._schedule

    @property
    def cipher(self) -> PiiCipher:
        """The personal-data cipher; there is none before the till is set up."""
        if self._cipher is None:
            raise StoreNotSetUp()
        return self._cipher

    @cipher.setter
    def cipher(self, value: PiiCipher) -> None:
        self._cipher = value

    @contextmanager
    def begin(self) -> Iterator[Transaction]:
        tx = Transaction(engine=self.db.write, clock=self.clock, rules=self.rules,
                         cipher=self._cipher)
        try:
            yield tx
        except OperationalError as e:
            if _disk_full(e):  # SQLite rolled the transaction back; say so in the user's words
                raise StorageFull() from e
            raise
        finally:
            tx.close()

    @contextmanager
    def read_conn(self) -> Iterator[Connection]:
        """A read transaction on a bare connection, for Core reads (``Prepared``): no ORM
        session to build and close (a reported sale's look-ups before its write)."""
        conn = self.db.read.connect()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = Session(self.db.read, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()


def _disk_full(error: OperationalError) -> bool:
    """SQLITE_FULL (no space left), or SQLITE_IOERR (a write refused: a file-size limit, a
    failing disk) — either way the transaction could not be written."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)
