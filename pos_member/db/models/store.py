"""The installation: settings, the store and its devices (counters), staff, the rules
versions in force, and the alerts (``flags``) a manager must look at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class Setting(Base):
    """Non-secret facts about this installation: which device it is, the data key's id."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Store(Base):
    __tablename__ = "stores"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("store_id", "number"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class DeviceCounter(Base):
    """Per-device counters, bumped in the same transaction as the rows they number."""

    __tablename__ = "device_counters"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_member_seq: Mapped[int] = mapped_column(Integer, default=0)
    hlc_wall_ms: Mapped[int] = mapped_column(Integer, default=0)
    hlc_counter: Mapped[int] = mapped_column(Integer, default=0)
    acked_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    # A device this till was before it took a new identity (``services.reidentity``): nothing
    # is written under it any more.
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Staff(Base):
    """A colleague of this till's store. A staff number is unique in the store, but two tills
    offline may each give one out: both colleagues are kept, and the one whose number was
    claimed first (``code_claim``: the ``hlc/event id`` that gave it) holds it for logging in
    (docs/rules.md, "Staff numbers"); the other waits for the manager to renumber them."""

    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    code: Mapped[str] = mapped_column(String(20), index=True)
    code_claim: Mapped[str] = mapped_column(String(64), default="", server_default="")
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class StaffFieldVersion(Base):
    """Last-writer-wins per staff field (number, name, role, active, PIN hash), as
    ``member_field_hlc`` for members' profiles: the newest ``(hlc, event_id)`` that wrote the
    field and the value it wrote. No foreign key: an edit may be pulled before the colleague."""

    __tablename__ = "staff_field_hlc"
    staff_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))
    value: Mapped[Any | None] = mapped_column(JSON)


class Flag(Base):
    """Something a manager must look at (a registration burst, later overdraws and merges)."""

    __tablename__ = "flags"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    raised_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(36))


class RulesVersion(Base):
    """Every rules version that validated; the newest activated one is in force."""

    __tablename__ = "rules_versions"
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    activated_at: Mapped[datetime]
