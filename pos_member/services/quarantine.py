"""Pulled events this till cannot apply (yet): held in quarantine, never lost (docs/sync.md).

An event pulled from head office that this version cannot read (a field missing or malformed, a
payload version it does not know) or of a type it does not know is not recorded as applied: it
is kept whole in ``quarantined_events`` with the reason, and the till raises a manager's alert
(``events_quarantined``), shows the count in its sync status and does not call the day clean.

Order. Applying a held event later must end where applying it in order would have: a member's
later points entry may spend points the held one gave, a refund may claw back a sale that is
held. So while an event is held, every later pulled event that touches one of the same members
or sales (its *keys*: the event's entity and the member and sale ids in its payload, one level
down too: a sale's, ledger entries') is held behind
it ("waits for an earlier event"), and a retry goes through the held events in the server's
order: an event applies only when nothing held before it shares a key.

Retry. Each held event remembers the till version it was last tried under (the app's version,
the schema head and the set of event types this till applies). When that changes — the till was
upgraded — every held event is tried again, in order, before the next page is applied and when
the till opens. Nothing retries on a clock: the same code would fail the same way.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from pos_member import __version__
from pos_member.db.engine import SCHEMA_HEAD
from pos_member.db.models import AppliedEvent, Flag, QuarantinedEvent
from pos_member.db.uow import UnitOfWork

log = logging.getLogger(__name__)

FLAG_KIND = "events_quarantined"
UNKNOWN_TYPE = "unknown event type"
WAITS = "waits for an earlier held event of the same member"
_KEY_FIELDS = ("member_id", "winner_member_id", "loser_member_id", "sale_id")

_Q = QuarantinedEvent.__table__
_APPLIED = AppliedEvent.__table__
_FLAGS = Flag.__table__

# One try at one held event: (applied?, why it cannot be applied — None when it could).
Attempt = Callable[[Mapping[str, Any], int], tuple[bool, str | None]]


def till_version(types: Iterable[str]) -> str:
    """What a held event was last tried under: a new app version, schema, or set of applied
    event types and their declared payload versions (an upgrade) makes every held event worth
    trying again."""
    digest = zlib.crc32("\n".join(sorted(types)).encode())
    return f"{__version__}/{SCHEMA_HEAD}/{digest:08x}"


def keys_of(ev: Mapping[str, Any]) -> set[str]:
    """The members and sales an event touches (see the module's docstring)."""
    keys: set[str] = set()
    entity = ev.get("entity_id")
    if isinstance(entity, str) and entity:
        keys.add(entity)
    p = ev.get("payload")
    if not isinstance(p, Mapping):
        return keys
    parts: list[Mapping[str, Any]] = [p]  # and one level down: a sale, ledger entries
    for value in p.values():
        if isinstance(value, Mapping):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, Mapping))
    for part in parts:
        keys.update(v for f in _KEY_FIELDS if isinstance(v := part.get(f), str) and v)
    return keys


def held_ids(conn: Connection, ids: list[str]) -> set[str]:
    return set(conn.scalars(select(_Q.c.id).where(_Q.c.id.in_(ids)))) if ids else set()


def held_keys(conn: Connection) -> set[str]:
    keys: set[str] = set()
    for row in conn.execute(select(_Q.c.touches)):
        keys.update(row.touches)
    return keys


def hold(conn: Connection, ev: Mapping[str, Any], position: int, reason: str, *,
         at: datetime, version: str) -> None:
    """Keeps ``ev`` in quarantine (once: a pulled-again event stays as it is)."""
    if conn.scalar(select(_Q.c.id).where(_Q.c.id == ev["id"])) is not None:
        return
    log.warning("pulled event %s (%s) held: %s", ev["id"], ev.get("type"), reason)
    conn.execute(insert(_Q), {
        "id": ev["id"], "position": position, "type": str(ev.get("type", ""))[:48],
        "event": dict(ev), "touches": sorted(keys_of(ev)), "reason": reason[:200],
        "held_at": at, "tried_under": version, "tries": 1})


def retry(conn: Connection, attempt: Attempt, *, version: str) -> tuple[int, set[str]]:
    """Tries every held event again, in the server's order, if any was last tried under another
    till version. Returns (how many applied now, the keys still held)."""
    stale = conn.scalar(select(_Q.c.id).where(_Q.c.tried_under != version).limit(1))
    if stale is None:
        return 0, held_keys(conn)
    applied = 0
    blocked: set[str] = set()
    for row in conn.execute(select(_Q).order_by(_Q.c.position, _Q.c.id)).all():
        keys = set(row.touches)
        if keys & blocked:
            reason: str | None = WAITS
        else:
            _, reason = attempt(row.event, row.position)
        if reason is None:
            conn.execute(delete(_Q).where(_Q.c.id == row.id))
            conn.execute(insert(_APPLIED), {"id": row.id, "position": row.position})
            applied += 1
            continue
        blocked |= keys
        conn.execute(update(_Q).where(_Q.c.id == row.id).values(
            reason=reason[:200], tried_under=version, tries=row.tries + 1))
    if applied:
        log.info("%d held event(s) applied after an upgrade", applied)
    return applied, blocked


def sync_flag(conn: Connection, *, store_id: str | None, device_id: str, at: datetime,
              new_id: Callable[[], str]) -> None:
    """One open ``events_quarantined`` alert while anything is held, with the count; resolved
    by itself when the quarantine empties (nothing is left for the manager to do)."""
    if store_id is None:
        return
    count = int(conn.scalar(select(func.count()).select_from(_Q)) or 0)
    open_id = conn.scalar(select(_FLAGS.c.id).where(
        _FLAGS.c.kind == FLAG_KIND, _FLAGS.c.store_id == store_id,
        _FLAGS.c.resolved_at.is_(None)))
    if count == 0:
        if open_id is not None:
            conn.execute(update(_FLAGS).where(_FLAGS.c.id == open_id).values(resolved_at=at))
        return
    types = sorted(set(conn.scalars(select(_Q.c.type))))[:10]
    detail = {"held": count, "types": types}
    if open_id is None:
        conn.execute(insert(_FLAGS), {"id": new_id(), "kind": FLAG_KIND, "store_id": store_id,
                                      "device_id": device_id, "raised_at": at,
                                      "detail": detail})
    else:
        conn.execute(update(_FLAGS).where(_FLAGS.c.id == open_id).values(detail=detail))


def held_count(uow: UnitOfWork) -> int:
    """How many pulled events wait in quarantine (the sync status and closing time show it)."""
    with uow.read() as s:
        return int(s.scalar(select(func.count()).select_from(QuarantinedEvent)) or 0)


def held_events(uow: UnitOfWork) -> list[tuple[str, str, int, str]]:
    """The held events as (id, type, position, reason), in the server's order."""
    with uow.read() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(_Q.c.id, _Q.c.type, _Q.c.position, _Q.c.reason)
            .order_by(_Q.c.position, _Q.c.id))]
