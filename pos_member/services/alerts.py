"""Alerts for the store manager (registration bursts now; overdraws and merges with sync)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pos_member import events
from pos_member.db.models import Flag
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require


@dataclass(frozen=True, slots=True)
class FlagView:
    id: str
    kind: str
    raised_at: datetime
    detail: dict[str, Any]


def open_flags(uow: UnitOfWork, *, clerk: Clerk) -> list[FlagView]:
    require(clerk, Action.REVIEW_FLAGS)
    with uow.read() as s:
        rows = s.scalars(
            select(Flag)
            .where(Flag.store_id == clerk.store_id, Flag.resolved_at.is_(None))
            .order_by(Flag.raised_at.desc())
        )
        return [FlagView(f.id, f.kind, f.raised_at, dict(f.detail)) for f in rows]


def resolve_flag(uow: UnitOfWork, *, clerk: Clerk, flag_id: str, note: str) -> None:
    require(clerk, Action.REVIEW_FLAGS)
    note = note.strip()
    if not note:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Say how the alert was handled."))
    with uow.begin() as tx:
        flag = tx.session.get(Flag, flag_id)
        if flag is None or flag.resolved_at is not None:
            raise InvalidInput(QT_TRANSLATE_NOOP("errors", "This alert is already handled."))
        flag.resolved_at = uow.clock.now()
        flag.resolved_by = clerk.staff_id
        payload = events.FlagResolved(flag_id=flag.id, note=note[:200])
        ev = tx.record(clerk, events.FLAG_RESOLVED, payload, entity_id=flag.id)
        tx.audit(clerk, events.FLAG_RESOLVED.type, "flag", flag.id, after=ev.payload, event=ev)
        tx.commit()
