"""Stored value (issue 6): HQ's balance blocks, the ledger, the account projection and the
member's second factors."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class BalanceBlock(Base):
    """A member whose stored value HQ has blocked (a cross-store overdraw, SPEC §3.3): balance
    payments are refused at every till until HQ settles it. Pulled from the server."""

    __tablename__ = "balance_blocks"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(Integer)  # the chain-wide balance when blocked
    flag_id: Mapped[str | None] = mapped_column(String(36))
    blocked_at: Mapped[datetime]


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
        Index("ix_sv_ledger_day", "business_day"),
        # Refunds alone name what they refund (till migration 0024).
        Index("ix_sv_ledger_ref_txn", "ref_txn_id", sqlite_where=text("ref_txn_id IS NOT NULL")),
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
