"""The unit of work: one write transaction, the event log and the audit log that go with it.

A service opens ``with uow.begin() as tx:``, changes state through ``tx.session``, calls
``tx.record(...)`` and ``tx.audit(...)`` for each change, and ``tx.commit()`` once. Leaving the
block without committing rolls everything back: state, events and audit rows go together or not
at all. Reads that change nothing use ``uow.read()`` on the reader engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pos_member.clock import Clock, to_ms
from pos_member.crypto import PiiCipher
from pos_member.db.engine import Database
from pos_member.db.models import AuditEntry, DeviceCounter, Event
from pos_member.errors import StoreNotSetUp
from pos_member.hlc import HLCTimestamp, HybridClock
from pos_member.ids import uuid7_str
from pos_member.permissions import Clerk
from pos_member.rules import Rules


@dataclass
class Transaction:
    session: Session
    clock: Clock
    rules: Rules
    committed: bool = False

    def commit(self) -> None:
        self.session.commit()
        self.committed = True

    def new_id(self) -> str:
        return uuid7_str(lambda: to_ms(self.clock.now()))

    def record(
        self,
        clerk: Clerk,
        type: str,
        payload: dict[str, Any],
        *,
        entity_id: str | None = None,
        payload_version: int = 1,
    ) -> Event:
        """Appends an event with the device's next sequence number and hybrid timestamp."""
        counter = self.session.get(DeviceCounter, clerk.device_id)
        if counter is None:
            raise LookupError(f"device {clerk.device_id} has no counters")
        counter.last_event_seq += 1
        hlc = HybridClock(
            lambda: to_ms(self.clock.now()),
            HLCTimestamp(counter.hlc_wall_ms, counter.hlc_counter),
        ).now()
        counter.hlc_wall_ms, counter.hlc_counter = hlc.wall_ms, hlc.counter
        event = Event(
            id=self.new_id(),
            store_id=clerk.store_id,
            device_id=clerk.device_id,
            seq=counter.last_event_seq,
            clerk_id=clerk.staff_id,
            hlc=hlc.pack(),
            type=type,
            entity_id=entity_id,
            payload_version=payload_version,
            payload=payload,
            rules_version=self.rules.version,
            created_at=self.clock.now(),
        )
        self.session.add(event)
        return event

    def audit(
        self,
        clerk: Clerk,
        action: str,
        entity: str,
        entity_id: str | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        event: Event | None = None,
    ) -> None:
        """Audit rows never hold personal data in clear: pass masked values."""
        self.session.add(
            AuditEntry(
                at=self.clock.now(),
                store_id=clerk.store_id,
                device_id=clerk.device_id,
                staff_id=clerk.staff_id,
                action=action,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
                event_id=event.id if event else None,
            )
        )


class UnitOfWork:
    """Built once by ``bootstrap``; hands out transactions. Thread-safe: each ``begin`` or
    ``read`` uses its own session, and SQLite's write lock serialises writers."""

    def __init__(
        self, db: Database, *, clock: Clock, rules: Rules, cipher: PiiCipher | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        self._cipher = cipher

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
        session = Session(self.db.write, expire_on_commit=False, autoflush=True)
        tx = Transaction(session=session, clock=self.clock, rules=self.rules)
        try:
            yield tx
        finally:
            if not tx.committed:
                session.rollback()
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = Session(self.db.read, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()
