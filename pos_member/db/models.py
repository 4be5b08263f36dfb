"""SQLAlchemy 2.0 typed models of the till's database. Personal data is stored only encrypted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


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


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Member(Base):
    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    gender: Mapped[str | None] = mapped_column(String(1))
    birthday: Mapped[date | None]
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_channel: Mapped[str] = mapped_column(String(16))
    # Chain-wide ids, not foreign keys: a member pulled from another store names that store's
    # staff and possibly a referrer this till has not pulled yet (migration 0002).
    guide_id: Mapped[str | None] = mapped_column(String(36))
    referrer_id: Mapped[str | None] = mapped_column(String(36))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    registered_by: Mapped[str | None] = mapped_column(String(36))
    registered_at: Mapped[datetime]
    privacy_policy_version: Mapped[str] = mapped_column(String(20))
    privacy_consent_at: Mapped[datetime]
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_consent_at: Mapped[datetime | None]
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    # "active", or "merged": the loser of a duplicate-phone merge, whose number scans to the
    # winner through ``member_aliases``.
    status: Mapped[str] = mapped_column(String(16), default="active")
    updated_hlc: Mapped[str] = mapped_column(String(24))


class Event(Base):
    """Immutable: triggers refuse UPDATE and DELETE. Sync ships these to the central server."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        Index("ix_events_device_type_created", "device_id", "type", "created_at"),
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
    """Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
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


class AppliedEvent(Base):
    """Events pulled from the server and applied here (or knowingly ignored): applying a page
    again skips them, so a repeated or overlapping pull changes nothing."""

    __tablename__ = "applied_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class MemberFieldVersion(Base):
    """Last-writer-wins per profile field: the newest ``(hlc, event_id)`` that wrote the field,
    and the value it wrote (wire form). Kept even before the member row arrives, so an update
    pulled ahead of its registration still wins once the row exists."""

    __tablename__ = "member_field_hlc"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))
    value: Mapped[Any | None] = mapped_column(JSON)


class MemberAlias(Base):
    """A merged member's number → the member it was merged into (duplicate phones, SPEC §2.1).
    No foreign keys: the merge may be pulled before either member's registration."""

    __tablename__ = "member_aliases"
    member_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    loser_member_id: Mapped[str] = mapped_column(String(36))


class Sale(Base):
    """A sale rung up at the till (or, later, imported from the main POS): the source of points,
    of a member's rolling spend and of the recruitment KPIs (会销比 counts walk-in sales too).
    ``txn_id`` is the till transaction's id: repeating the request returns the first result."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("store_id", "bill_no"),
        Index("ix_sales_store_day", "store_id", "business_day"),
        Index("ix_sales_member_sold", "member_id", "sold_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(36), unique=True)
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    bill_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(Integer)  # what the customer paid, after discounts
    member_id: Mapped[str | None] = mapped_column(String(36))  # None: a walk-in sale
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    guide_id: Mapped[str | None] = mapped_column(String(36))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    sold_at: Mapped[datetime]
    business_day: Mapped[date]  # the store's local calendar day of ``sold_at``
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)


class BalanceBlock(Base):
    """A member whose stored value HQ has blocked (a cross-store overdraw, SPEC §3.3): balance
    payments are refused at every till until HQ settles it. Pulled from the server."""

    __tablename__ = "balance_blocks"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(Integer)  # the chain-wide balance when blocked
    flag_id: Mapped[str | None] = mapped_column(String(36))
    blocked_at: Mapped[datetime]
