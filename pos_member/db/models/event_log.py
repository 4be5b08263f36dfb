"""The event log and the audit log (both append-only), what sync pulled and applied or
quarantined, and a till's device successions and its moved events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class Event(Base):
    """Immutable: triggers refuse UPDATE and DELETE. Sync ships these to the central server."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        Index("ix_events_device_created", "device_id", "created_at"),
        Index("ix_events_entity", "entity_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    hlc: Mapped[str] = mapped_column(String(24))
    type: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    payload_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Append-only: triggers refuse UPDATE and DELETE. No index but the key: nothing reads it
    by entity (till migration 0025)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    store_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    staff_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    event_id: Mapped[str | None] = mapped_column(String(36))


class AppliedEvent(Base):
    """Events pulled from the server and applied here (or knowingly ignored): applying a page
    again skips them, so a repeated or overlapping pull changes nothing."""

    __tablename__ = "applied_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class QuarantinedEvent(Base):
    """A pulled event this till cannot apply (yet): held with the reason, never recorded as
    applied, and tried again after every upgrade of the till (``services/quarantine.py``)."""

    __tablename__ = "quarantined_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the event's id
    position: Mapped[int] = mapped_column(Integer, index=True)  # the server's, for the order
    type: Mapped[str] = mapped_column(String(48))
    event: Mapped[dict[str, Any]]  # the whole wire event, as pulled
    touches: Mapped[list[str]] = mapped_column(JSON)  # the members and sales (keys_of)
    reason: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime]
    tried_under: Mapped[str] = mapped_column(String(64))  # the till version of the last try
    tries: Mapped[int] = mapped_column(Integer)


class DeviceSuccession(Base):
    """A device this till was, and the one it became (a fork, a re-enrolment in place)."""

    __tablename__ = "device_successions"
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    successor_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class EventMove(Base):
    """What became of an event its device never had acknowledged when the till took a new
    identity: ``moved`` to ``(device_id, seq)`` of the new device (same id; ``payload`` when a
    member number in it changed), or ``stored`` (HQ had it already). The event row itself is
    immutable and stays as it was written."""

    __tablename__ = "event_moves"
    __table_args__ = (UniqueConstraint("device_id", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    from_device_id: Mapped[str] = mapped_column(String(36))
    from_seq: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))
    device_id: Mapped[str | None] = mapped_column(String(36))
    seq: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any] | None]
    at: Mapped[datetime]
