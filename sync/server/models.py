"""SQLAlchemy 2.0 typed models of the central server's database (its own metadata and migrations).

``events`` is the chain's global log: ``position`` is assigned by the server under the write
lock (see ``db.write``), never by an auto-increment, so positions commit in order and a pull
that reads ``position > cursor`` never skips a row. ``store_id``/``device_id`` of an event are
plain strings, not foreign keys: the server's own events use ``store_id="hq"`` and
``device_id="server"``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pos_member.db.models import NAMING, UtcDateTime
from pos_member.events.scope import HQ_STORE_ID

SERVER_STORE_ID = HQ_STORE_ID
SERVER_DEVICE_ID = "server"


def key_text(length: int) -> String:
    """A text key compared byte by byte on PostgreSQL (``COLLATE "C"``, migration 0019): a
    database made under ``C.UTF-8`` (or any libc locale) compares every other text through
    ``strcoll``, which is not PostgreSQL's fast path for ``"C"``, on every index descent of
    a push. The same order for UTF-8 text as ``C.UTF-8``'s (code points); equality is the same
    in every deterministic collation. SQLite: plain text, as before."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")  # type: ignore[return-value]


class ServerBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Store(ServerBase):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Device(ServerBase):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("store_id", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Its identity went to a successor (a forked or re-enrolled till, ``identities``): its
    # token may only ask for a new identity, never push or pull again.
    retired_at: Mapped[datetime | None]
    replaces_device_id: Mapped[str | None] = mapped_column(String(36))
    request_id: Mapped[str | None] = mapped_column(String(36))  # of /v1/reidentify


class EnrolmentCode(ServerBase):
    __tablename__ = "enrolment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[str | None] = mapped_column(String(36))


class Event(ServerBase):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("device_id", "seq"),
                      Index("ix_events_store_id_position", "store_id", "position"),
                      # the snapshot's registrations (migration 0014, ``snapshot``)
                      Index("ix_events_registered", "position",
                            postgresql_where=text("type = 'member.registered'"),
                            sqlite_where=text("type = 'member.registered'")))

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # the keys of its text indexes, byte by byte (``key_text``)
    id: Mapped[str] = mapped_column(key_text(36), unique=True)
    store_id: Mapped[str] = mapped_column(key_text(36))
    device_id: Mapped[str] = mapped_column(key_text(36))
    seq: Mapped[int] = mapped_column(BigInteger)
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    hlc: Mapped[str] = mapped_column(String(22))
    type: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    payload_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    rules_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    received_at: Mapped[datetime]


class MemberHome(ServerBase):
    """The store a member belongs to: the store of its ``member.registered`` (``routes``).
    Written once, at ingest; a merged loser's home is its winner's, read through
    ``member_redirects`` when an event is routed."""

    __tablename__ = "member_homes"

    member_id: Mapped[str] = mapped_column(key_text(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))


class EventRoute(ServerBase):
    """Who pulls an event besides its own store (``routes``): ``store_id`` a member's home
    store, or ``*`` (``EVERYONE``) for the directory and the server's events. Insert-only,
    written in the transaction that stores the event: a pure function of the row and what HQ
    knew when it was stored, so a cursor over a store's filtered log is exactly-once."""

    __tablename__ = "event_routes"

    store_id: Mapped[str] = mapped_column(key_text(36), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class MemberNoClaim(ServerBase):
    """A member number a successor device took over with its predecessor's unsent events
    (``identities.adopt``), held before its registration is stored: a second copy of the till
    asking for the same number is told it is taken."""

    __tablename__ = "member_no_claims"

    member_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    claimed_at: Mapped[datetime]


class HeldEvent(ServerBase):
    """An event that arrived after a gap in its device's sequence; stored when the gap fills."""

    __tablename__ = "held_events"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body: Mapped[dict[str, Any]]  # the WireEvent as JSON
    received_at: Mapped[datetime]


class DeviceProgress(ServerBase):
    __tablename__ = "device_progress"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    acked_through: Mapped[int] = mapped_column(BigInteger)


class Flag(ServerBase):
    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_kind_raised_at", "kind", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    store_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class RulesVersion(ServerBase):
    __tablename__ = "rules_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]


class ChainSetting(ServerBase):
    """Key/value settings of the chain: ``data_key`` (base64), ``server_seq``."""

    __tablename__ = "chain_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MemberIndex(ServerBase):
    """The registration that currently owns each phone (blind index), for duplicate merges."""

    __tablename__ = "member_index"

    phone_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    member_no: Mapped[str] = mapped_column(String(32))
    hlc: Mapped[str] = mapped_column(String(22))
    event_id: Mapped[str] = mapped_column(String(36))


# -- stored value: chain-wide balances and overdraw blocks (sync/server/balances.py) -------


class MemberBalance(ServerBase):
    """A member's chain-wide stored value, summed from every store's ``sv.*`` money events.

    ``balance_fen`` is principal plus bonus; ``settled_fen`` is what HQ settled of past
    overdraws (the overdraw check is ``balance_fen + settled_fen < 0``); ``flag_id`` is the
    open ``overdraw`` flag while the member is blocked. A merged loser's row is moved into its
    winner's (its balance zeroed; its open flag stays until HQ settles the winner).
    """

    __tablename__ = "member_balances"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    settled_fen: Mapped[int] = mapped_column(BigInteger)
    flag_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class MemberRedirect(ServerBase):
    """A merged member (the loser of a duplicate phone) and the member that absorbed it."""

    __tablename__ = "member_redirects"

    loser_member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    winner_member_id: Mapped[str] = mapped_column(String(36), index=True)


# -- stored value: SMS one-time codes (sync/server/sms.py, rules in pos_member/services/sms_codes)


class SmsCode(ServerBase):
    """One SMS challenge: only an HMAC of the code, bound to member, amount and transaction.

    ``phone_index`` (the blind index of the phone it went to) and ``store_id`` (the sending
    device's store) are what the limits count (``sms_limits``); None only on rows older than
    migration 0004 that named a member HQ never saw registered."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        Index("ix_sms_codes_binding", "member_id", "txn_id"),
        Index("ix_sms_codes_phone_index_sent_at", "phone_index", "sent_at"),
        Index("ix_sms_codes_device_id_sent_at", "device_id", "sent_at"),
        Index("ix_sms_codes_store_id_sent_at", "store_id", "sent_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    store_id: Mapped[str | None] = mapped_column(String(36))
    member_id: Mapped[str] = mapped_column(String(36))
    phone_index: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    txn_id: Mapped[str] = mapped_column(String(64))
    salt_hex: Mapped[str] = mapped_column(String(32))
    code_hash_hex: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer)
    verified_at: Mapped[datetime | None]


# -- chain-wide points and member cards for the remote lookup (sync/server/points.py,
#    sync/server/member_cards.py; issue 14) ---------------------------------------------------


class MemberPoints(ServerBase):
    """A member's chain-wide points balance: the sum of every store's points entries, each
    entry counted once (``points_keyed_entries`` for the ids several tills post alike). A
    merged loser's points move to its winner, as its stored value does."""

    __tablename__ = "member_points"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class PointsKeyedEntry(ServerBase):
    """A points entry HQ counted whose id may come again (``points_lots.KEYED_KINDS``): lot
    expiries, welcomes (a later merge reverses them) and welcome reversals."""

    __tablename__ = "points_keyed_entries"
    __table_args__ = (Index("ix_points_keyed_entries_member_id_kind", "member_id", "kind"),)

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)


class MemberCardRow(ServerBase):
    """What HQ shows of a member to another store's till (``GET /v1/members/lookup``): the
    registration's card fields as the latest profile edits and tier change left them, still
    encrypted (``profile``: the wire fields of ``member.registered``), and whether it was
    merged away. One row per registration, losers included (their numbers scan to winners)."""

    __tablename__ = "member_cards"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(32), index=True)
    store_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(32))
    tier_hlc: Mapped[str] = mapped_column(String(22))
    profile: Mapped[dict[str, Any]]
    profile_hlc: Mapped[str] = mapped_column(String(22))
    updated_at: Mapped[datetime]


# -- member import and export (issue 20: sync/server/members_import.py, members_export.py) ---


class MemberImport(ServerBase):
    """One imported file, by its SHA-256: its store, how many rows and new members, the first
    member sequence it numbers from (device ``IMPORT_DEVICE_NO``), its batches and how many
    are done (an import resumes after the last done batch; a file done is not imported twice)."""

    __tablename__ = "member_imports"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    file_name: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    new_members: Mapped[int] = mapped_column(Integer)
    first_seq: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    batches_done: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class HqAudit(ServerBase):
    """What HQ's staff did that the audit keeps (an export with personal data revealed)."""

    __tablename__ = "hq_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    detail: Mapped[dict[str, Any]]


class CouponUse(ServerBase):
    """The bill each coupon was redeemed on, chain-wide (issue 18; ``sync/server/coupons.py``):
    one row per coupon key, so a second bill redeeming the same coupon meets the first one's
    row (its primary key: a row lock, never a global one) and is flagged. A refund that gives
    the coupon back deletes the row."""

    __tablename__ = "coupon_uses"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    sale_id: Mapped[str] = mapped_column(String(36))
    bill_no: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(36))
    used_at: Mapped[datetime]


class CouponTerms(ServerBase):
    """Each coupon's terms as HQ was told of them (issue 18; ``sync/server/coupons.py``): the
    ``coupon.issued`` row (template, name, terms, validity, issuing store and till) and whether
    it was withdrawn or expired since, so HQ's check can describe a coupon to a till of another
    store (which holds none of the member's coupons) and refuse a withdrawn one anywhere.
    ``event_id``: the issuing event's id, which the asking till's ledger keeps as the entry."""

    __tablename__ = "coupon_terms"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)  # the member lookup's
    event_id: Mapped[str] = mapped_column(String(36))
    coupon: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(10))  # issued, revoked, expired
    ended_at: Mapped[datetime | None]


# -- the remote member lookup's limit and audit (issue 14: sync/server/lookup_limits.py) ------


class LookupWindow(ServerBase):
    """A device's member lookups in its current window (``lookup_limits``): one row per
    device, counted up in one statement (its row lock), so two server processes never both
    let the same lookup over the limit."""

    __tablename__ = "lookup_windows"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime]
    lookups: Mapped[int] = mapped_column(Integer)


class MemberLookupAudit(ServerBase):
    """Who looked up which member key, when, and whether the limit refused it: the member
    number as asked, or the phone's blind index (never a phone or a name)."""

    __tablename__ = "member_lookups"
    __table_args__ = (Index("ix_member_lookups_device_id_at", "device_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    device_id: Mapped[str] = mapped_column(String(36))
    store_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(8))  # "no" or "phone"
    key: Mapped[str] = mapped_column(String(64))
    refused: Mapped[bool] = mapped_column(Boolean)


# -- HQ's reporting copy of the ledgers for the programme-health report (sync/server/insight.py,
#    issue 19): named and shaped like the till's tables, so the till's report queries run here.


class ReportMember(ServerBase):
    """A member as the report counts them: home store, present tier, registered when, and
    whether merged away (``merged_into``: the winner)."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_store_id_registered_at", "store_id", "registered_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    tier: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # active, merged
    registered_at: Mapped[datetime]
    merged_into: Mapped[str | None] = mapped_column(String(36))
    # Running sums of the member's whole points and stored-value ledgers, set by the refresh
    # that writes the member's rows, in the same transaction, from those rows (insight.py).
    points_balance: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sv_principal_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sv_bonus_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # The business days of the member's purchases, ascending, once each (PostgreSQL; kept the
    # same way): the churn figures' "last purchase before the period" without the sales.
    purchase_days: Mapped[list[date] | None] = mapped_column(
        ARRAY(Date).with_variant(JSON(), "sqlite"))


# ``home_store_id`` on the three ledgers: the member's home store (``members.store_id`` of the
# member the row belongs to; None while that member is unknown, and for walk-in sales), kept by
# the refresh, so one store's report reads only its members' rows through a covering index.


class ReportSale(ServerBase):
    __tablename__ = "sales"
    __table_args__ = (Index("ix_sales_member_sold", "member_id", "sold_at"),
                      Index("ix_sales_store_day", "store_id", "business_day"),
                      Index("ix_sales_home_sold", "home_store_id", "sold_at",
                            postgresql_include=["member_id", "business_day", "amount_fen",
                                                "refunded_fen"]))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[str | None] = mapped_column(String(36))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger)
    sold_at: Mapped[datetime]
    business_day: Mapped[date]
    home_store_id: Mapped[str | None] = mapped_column(String(36))


class ReportPointsEntry(ServerBase):
    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_member_at", "member_id", "at"),
                      Index("ix_points_entries_home_at", "home_store_id", "at",
                            postgresql_include=["member_id", "kind", "points"]))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    home_store_id: Mapped[str | None] = mapped_column(String(36))


class ReportSvEntry(ServerBase):
    __tablename__ = "sv_ledger"
    __table_args__ = (Index("ix_sv_ledger_member_day", "member_id", "business_day"),
                      Index("ix_sv_ledger_home_day", "home_store_id", "business_day",
                            postgresql_include=["member_id", "principal_delta_fen",
                                                "bonus_delta_fen"]))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    principal_delta_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_delta_fen: Mapped[int] = mapped_column(BigInteger)
    business_day: Mapped[date]
    home_store_id: Mapped[str | None] = mapped_column(String(36))
