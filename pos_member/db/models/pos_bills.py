"""What the main POS told the till about its bills (issue 16): the lines and tenders of a sale
it reported, and the lines of each refund, beside the till's own ``sales`` row.

Written in the same transaction as the sale or the refund (``sale.recorded`` and
``sale.refunded`` stay the till's own events, so these rows never sync: they are the local
record that makes a repeated request idempotent and a refund of lines checkable).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class PosBill(Base):
    """A sale the POS reported. ``pos_txn_id`` is the POS's own transaction id (the
    idempotency key); ``request_hash`` the SHA-256 of the request as understood, so the same id
    with another body is refused instead of answered with the first result. ``lines`` are
    ``[line, category, amount_fen]``, ``tenders`` ``[kind, amount_fen]``; ``pos_time`` is the
    time the POS gave (ISO 8601, as sent)."""

    __tablename__ = "pos_bills"
    sale_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pos_txn_id: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))  # "api" or "folder"
    pos_time: Mapped[str] = mapped_column(String(40))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    tenders: Mapped[list[Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]


class PosRefund(Base):
    """A refund the POS reported: of lines (``[line, amount_fen]``) or of an amount (no lines).
    ``result`` is the first answer, given again to a repeated request."""

    __tablename__ = "pos_refunds"
    pos_txn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sale_id: Mapped[str] = mapped_column(String(36), index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    refund_fen: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
