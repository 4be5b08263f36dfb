"""Member notifications queued in the transaction of the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class NotificationOutbox(Base):
    """Member notifications written in the same transaction as the change they report, sent
    after commit by :mod:`pos_member.services.notifications`; ``dedupe_key`` is unique, so one
    change is queued (and sent) once."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
        # a member's messages today (the marketing cap), their unsent ones (an erasure)
        Index("ix_notification_outbox_member", "member_id", "created_at"),
        # today's marketing messages per member, for a job (``marketed_today``): covering
        Index("ix_notification_outbox_day", "created_at", "kind", "member_id"),
    )
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
