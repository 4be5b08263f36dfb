"""Rules versions at a till that pulls them (``rules.published``, HQ's): the version is
validated and stored in ``rules_versions`` (activated at the event's time) and added to
``settings.rules_schedule`` with its start time (the payload's ``starts_at``; without one, in
force at once); the unit of work switches to it at that time, while running
(``services.rules_in_force.RulesSchedule``). ``settings.rules_pulled`` keeps the newest by server
position. :data:`RULES_HANDLERS` is their part of the pulled-event dispatch table
(:mod:`pos_member.services.pulled_events`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos_member import events
from pos_member.crypto import PiiCipher
from pos_member.db.models import RulesVersion, Setting
from pos_member.errors import RulesInvalid
from pos_member.rules_config import parse_rules
from pos_member.services.rules_in_force import PULLED as RULES_PULLED
from pos_member.services.rules_in_force import SCHEDULE as RULES_SCHEDULE
from pos_member.services.rules_in_force import schedule_entry
from pos_member.services.wire_values import wire_datetime

RULES_PUBLISHED = events.RULES_PUBLISHED.type
RULES_PULLED_POSITION = "rules_pulled_position"
ALWAYS = datetime(1970, 1, 1, tzinfo=UTC)  # the start of a version published without one

_SETTINGS = Setting.__table__


def apply_rules_published(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                     p: events.RulesPublished, position: int) -> bool:
    version, source = p.version, p.source
    try:
        if parse_rules(source).version != version:
            return False
    except RulesInvalid:
        return False  # refused: the till keeps the rules it has
    starts = p.starts_at  # HQ's start time; a server without them: in force at once
    starts_at = wire_datetime(starts) if isinstance(starts, str) and starts else ALWAYS
    t = RulesVersion.__table__
    if conn.scalar(select(t.c.version).where(t.c.version == version)) is None:
        conn.execute(insert(t), {"version": version, "source": source,
                                 "activated_at": wire_datetime(ev["created_at"])})
    pulled_at = conn.scalar(select(_SETTINGS.c.value)
                            .where(_SETTINGS.c.key == RULES_PULLED_POSITION))
    if pulled_at is None or position > int(pulled_at):
        _put(conn, RULES_PULLED, version)
        _put(conn, RULES_PULLED_POSITION, str(position))
    raw = conn.scalar(select(_SETTINGS.c.value).where(_SETTINGS.c.key == RULES_SCHEDULE))
    schedule = json.loads(raw) if raw else []
    if not any(item["version"] == version for item in schedule):
        schedule.append(schedule_entry(starts_at, position, version))
        _put(conn, RULES_SCHEDULE, json.dumps(schedule))
    return True



def _put(conn: Connection, key: str, value: str) -> None:
    exists = conn.scalar(select(_SETTINGS.c.key).where(_SETTINGS.c.key == key))
    if exists is None:
        conn.execute(insert(_SETTINGS), {"key": key, "value": value})
    else:
        conn.execute(update(_SETTINGS).where(_SETTINGS.c.key == key).values(value=value))


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?
RULES_HANDLERS: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int],
                                   bool]] = {
    RULES_PUBLISHED: apply_rules_published,
}
