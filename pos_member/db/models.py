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
    false,
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
    # A device this till was before it took a new identity (``services.reidentity``): nothing
    # is written under it any more.
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


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


# -- Stored value (issue 6): ledger, account projection, member credentials, notifications ----


class SvAccount(Base):
    """A member's stored-value balances: a projection of ``sv_ledger`` (principal and bonus are
    each the sum of their column there), plus the account's state (frozen)."""

    __tablename__ = "sv_accounts"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    principal_fen: Mapped[int] = mapped_column(Integer, default=0)
    bonus_fen: Mapped[int] = mapped_column(Integer, default=0)
    topups: Mapped[int] = mapped_column(Integer, default=0)  # top-ups made (first-top-up bonus)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen_hlc: Mapped[str | None] = mapped_column(String(24))  # last freeze/unfreeze wins
    updated_at: Mapped[datetime]


class SvLedgerEntry(Base):
    """One money movement of a member's stored value; ``id`` is the event's id. Append-only
    except for a duplicate-phone merge, which moves the loser's rows to the winner."""

    __tablename__ = "sv_ledger"
    __table_args__ = (
        Index("ix_sv_ledger_member_at", "member_id", "at"),
        Index("ix_sv_ledger_member_day", "member_id", "business_day"),
        Index("ix_sv_ledger_day", "business_day"),
        Index("ix_sv_ledger_ref_txn", "ref_txn_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # topup, payment, payment_refund, topup_refund
    principal_delta_fen: Mapped[int] = mapped_column(Integer)
    bonus_delta_fen: Mapped[int] = mapped_column(Integer)
    cash_fen: Mapped[int] = mapped_column(Integer, default=0)  # cash in (top-up) or out (refund)
    method: Mapped[str | None] = mapped_column(String(16))  # cash, card, third_party
    method_ref: Mapped[str | None] = mapped_column(String(64))
    factor: Mapped[str | None] = mapped_column(String(8))  # pin, totp, sms
    approved_by: Mapped[str | None] = mapped_column(String(36))
    ref_txn_id: Mapped[str | None] = mapped_column(String(64))  # the refunded operation
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    business_day: Mapped[date]
    clerk_name: Mapped[str | None] = mapped_column(String(60))  # as on points_entries


class SvCredential(Base):
    """A member's second factors. Only the argon2id hash of the PIN and the TOTP secret
    encrypted with the chain's data key are kept; both travel in events in that form only."""

    __tablename__ = "sv_credentials"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_hlc: Mapped[str | None] = mapped_column(String(24))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[datetime | None]
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_hlc: Mapped[str | None] = mapped_column(String(24))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # each code accepted once


class NotificationOutbox(Base):
    """Member notifications written in the same transaction as the change they report, sent
    after commit by :mod:`pos_member.services.notifications`; ``dedupe_key`` is unique, so one
    change is queued (and sent) once."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


# -- Recruitment KPIs (issue 7): targets, rosters, hand adjustments ----------------------------
# Projections of ``kpi.*`` events (pos_member/services/targets.py): each row keeps the hybrid
# timestamp and event id that wrote it, so a value pulled from another till of the store wins
# only when it is newer (last writer wins per row, as for profile fields).


class KpiMonthTarget(Base):
    """A store's new-member target for a calendar month (``YYYY-MM``), set by HQ or the manager."""

    __tablename__ = "kpi_month_targets"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str | None] = mapped_column(String(36))
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


class KpiRoster(Base):
    """Who of the store's guides is on shift on a day (staff ids, the manager's entry)."""

    __tablename__ = "kpi_rosters"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    staff_ids: Mapped[list[str]] = mapped_column(JSON)
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


class KpiSplitAdjustment(Base):
    """A day's per-guide targets set by hand ({staff id: target}); in force only while it still
    matches the day's roster and adds up to the day's target (otherwise the computed split)."""

    __tablename__ = "kpi_split_adjustments"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    targets: Mapped[dict[str, Any]]
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


# The dashboard counts a day's registrations per guide and a day's sales per guide: both read
# straight from these indexes (covering), without touching the rows.
Index("ix_members_store_registered", Member.store_id, Member.registered_at, Member.guide_id)
Index("ix_sales_kpi", Sale.store_id, Sale.business_day, Sale.guide_id, Sale.member_id,
      Sale.amount_fen, Sale.refunded_fen)


# -- Points and tiers (issue 5): ledger, lots, accounts, sale points, one-operation results ----
# Projections of ``sale.*``, ``points.*`` and ``member.tier_changed`` events
# (pos_member/services/points.py, sales.py, tiers.py); every row here can be rebuilt from them.


class PointsEntry(Base):
    """One line of a member's points ledger (积分流水). Append-only by use: corrections are
    new entries. ``id`` comes from the till that made it (the expiry of a lot has an id derived
    from the lot, so two tills expiring one lot post one entry)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        Index("ix_points_entries_member_at", "member_id", "at"),
        Index("ix_points_entries_txn", "txn_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))  # earn, welcome, referral, redeem, ...
    points: Mapped[int] = mapped_column(Integer)  # signed
    txn_id: Mapped[str | None] = mapped_column(String(36))
    sale_id: Mapped[str | None] = mapped_column(String(36))
    bill_no: Mapped[str | None] = mapped_column(String(40))
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(36))
    # The clerk's name as the till that made the entry knew it: another store's staff are not
    # on this till, and the ledger still says who served the member.
    clerk_name: Mapped[str | None] = mapped_column(String(60))


class PointsLot(Base):
    """Points from one positive entry, spent oldest-expiry first (FIFO). ``remaining`` is what
    is left; spendable from ``available_at`` (pending points), void at ``expires_at``."""

    __tablename__ = "points_lots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the entry that made it
    member_id: Mapped[str] = mapped_column(String(36))
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime]
    available_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# Open lots only: a member's FIFO walk and the expiry job never step over spent or expired lots.
Index("ix_points_lots_member_open", PointsLot.member_id, PointsLot.expires_at,
      sqlite_where=PointsLot.remaining > 0)
Index("ix_points_lots_due", PointsLot.expires_at, sqlite_where=PointsLot.remaining > 0)


class PointsAccount(Base):
    """A member's points balance (the ledger's sum) and tier bookkeeping."""

    __tablename__ = "points_accounts"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    tier_since: Mapped[datetime | None]  # when the tier last went up (90-day protection)
    tier_hlc: Mapped[str | None] = mapped_column(String(24))  # the tier change in force


class SalePoints(Base):
    """The points side of a member sale: the bill before points, what was redeemed on it, what
    it earned, and how much of each a refund has taken back or given back so far."""

    __tablename__ = "sale_points"
    sale_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    bill_fen: Mapped[int] = mapped_column(Integer)
    redeem_points: Mapped[int] = mapped_column(Integer)
    redeem_fen: Mapped[int] = mapped_column(Integer)
    earned: Mapped[int] = mapped_column(Integer)
    clawed: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    redeem_lots: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[lot, pts, expires]]
    detail: Mapped[dict[str, Any]]  # the sale's result, returned again on a repeated request


class PointsTxn(Base):
    """One operation, one effect: the result of each redeem, refund or adjustment by its till
    transaction id; repeating the request returns it and changes nothing."""

    __tablename__ = "points_txns"
    txn_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[dict[str, Any]]
    at: Mapped[datetime]
